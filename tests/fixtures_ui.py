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


class SlowLocalGenerator:
    """A stand-in for the one local chat model: it takes ``seconds`` per answer, records in which order it
    answered (the name of the thread that asked), and raises if two requests ever run in it at once."""

    name = "slow-fake"
    model = "slow-fake-model"
    local = True
    ANSWERS = {"浈江区": "浈江区已推荐47家企业申报高新技术企业[1]。", "肇庆": "肇庆投入3.3亿元建成2629套乡镇干部周转房[1]。",
               "乳源": "乳源县115个村级党组织参与“双向承诺”[1]。"}

    def __init__(self, seconds: float = 0.3):
        import threading

        self.seconds = seconds
        self.order: list[str] = []
        self.overlaps = 0
        self._busy = threading.Lock()

    def stream(self, messages, *, max_tokens=256, temperature=0.0, stop=None):
        import threading
        import time

        if not self._busy.acquire(blocking=False):
            self.overlaps += 1
            raise RuntimeError("two requests in the model at once")
        try:
            asked = messages[-1]["content"].rpartition("问题：")[2]
            self.order.append(threading.current_thread().name)
            reply = next((a for key, a in self.ANSWERS.items() if key in asked), "文中没有提到。")
            for i in range(0, len(reply), 4):
                time.sleep(self.seconds / max(1, len(reply) // 4))
                yield reply[i:i + 4]
        finally:
            self._busy.release()


@pytest.fixture
def slow_model():
    return SlowLocalGenerator()


@pytest.fixture
def slow_model_server(ui_index_dir, fake_embedder, slow_model, monkeypatch):
    """A running UI and API on a free 127.0.0.1 port whose chat model is ``slow_model`` (the generator menu's
    default, "auto"): yields (url, slow_model)."""
    from rag.app import builder
    from ui.app import launch

    monkeypatch.setattr(builder, "make_generator", lambda settings, choice=None, model=None:
                        None if (choice or settings.generator) in ("extractive", "none") else slow_model)
    port = free_port()
    demo = launch(Settings(index=str(ui_index_dir), generator="auto"), host="127.0.0.1", port=port,
                  embedder=fake_embedder, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", slow_model
    finally:
        demo.close()
