"""Where yuanwen keeps what it builds once — embedding models, assembled chat models, the parsed dictionary.

One cache root for the whole process (every stage may import this; it imports nothing of the app). It is a
setting like any other (``cache`` in ``yuanwen.toml``, ``$YUANWEN_CACHE``): rag.app.config sets it here when it
loads the settings, so nothing below the app reads the environment for it.
"""

from __future__ import annotations

from pathlib import Path

_root: Path | None = None


def set_cache_dir(path: str | Path | None) -> None:
    """Use ``path`` as the cache root from now on (empty or None: the default, ``~/.cache/yuanwen``)."""
    global _root
    _root = Path(path).expanduser() if path else None


def cache_dir() -> Path:
    """The configured cache root, else ``~/.cache/yuanwen``."""
    return _root if _root is not None else Path.home() / ".cache" / "yuanwen"
