"""Where yuanwen keeps what it builds once — embedding models, assembled chat models, the parsed dictionary.

One cache root for the whole app (every stage may import this; it imports nothing of the app), overridable for
tests and shared machines.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$YUANWEN_CACHE`, else `~/.cache/yuanwen`. Read on every call so tests can point it elsewhere."""
    configured = os.environ.get("YUANWEN_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "yuanwen"
