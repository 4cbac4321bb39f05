"""Where built models live: under the app's one cache root (rag/cache.py)."""

from __future__ import annotations

from pathlib import Path

from rag.cache import cache_dir  # noqa: F401  (embeddings.paths.cache_dir is what callers import)


def models_dir() -> Path:
    return cache_dir() / "models"
