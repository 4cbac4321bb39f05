"""Where built models live: one cache root for the whole app, overridable for tests and shared machines."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$YUANWEN_CACHE`, else `~/.cache/yuanwen`. Read on every call so tests can point it elsewhere."""
    configured = os.environ.get("YUANWEN_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "yuanwen"


def models_dir() -> Path:
    return cache_dir() / "models"
