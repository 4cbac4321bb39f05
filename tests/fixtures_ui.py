"""UI fixtures: a small index built with the fake embedder, a Backend over it, a running server.

The fake embedder is injected into the Backend (no model is loaded), and the generator is the
extractive answerer, so handler tests run in well under a second each.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from rag.app.config import Settings
from rag.ingest.indexing import update_index


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ui_index_dir(tmp_path, corpus_dir, fake_embedder) -> Path:
    """An index of the ``corpus_dir`` documents, built with the fake embedder."""
    index_dir = tmp_path / "data" / "index"
    update_index([corpus_dir], index_dir, embedder=fake_embedder)
    return index_dir


@pytest.fixture
def ui_backend(ui_index_dir, fake_embedder):
    from ui.app import Backend

    return Backend.from_settings(Settings(index=str(ui_index_dir), generator="extractive"), embedder=fake_embedder)


@pytest.fixture
def ui_server(ui_index_dir, fake_embedder):
    """A running UI on a free 127.0.0.1 port over ``ui_index_dir``: yields (url, backend)."""
    from ui.app import Backend, launch

    port = free_port()
    settings = Settings(index=str(ui_index_dir), generator="extractive")
    demo = launch(settings, host="127.0.0.1", port=port, embedder=fake_embedder, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", Backend.from_settings(settings, embedder=fake_embedder)
    finally:
        demo.close()
