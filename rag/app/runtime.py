"""What a process loads once and shares: the open index and the embedder.

The CLI and every UI session go through here (by way of ``rag.app.builder``), so a model is loaded
once per process and an index is reopened only when an indexer has published a new version
(``CURRENT`` changed); searches that are under way keep the version they started with.
"""

from __future__ import annotations

import threading
from pathlib import Path

from rag.store.index import Index, current_version

_lock = threading.Lock()
_open: dict[Path, Index] = {}


def open_index(directory: str | Path, *, embedder: str | None = None, milvus_token: str = "") -> Index:
    """The live version of the index at ``directory`` (reopened after an update)."""
    directory = Path(directory).resolve()
    with _lock:
        cached = _open.get(directory)
        if cached is not None and current_version(directory) == cached.version_dir:
            if embedder and embedder != cached.manifest.embedder:
                return Index.open(directory, embedder=embedder)  # raises the mismatch error
            return cached
        index = Index.open(directory, embedder=embedder, milvus_token=milvus_token)
        _open[directory] = index
        return index


def get_embedder(name: str | None = None):
    from embeddings.loader import load_embedder

    return load_embedder(name or None)
