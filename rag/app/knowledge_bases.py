"""Named knowledge bases under one data folder, so one server can answer from several collections.

The data folder is the parent of the configured index (``.yuanwen/index`` → ``.yuanwen``). The
configured index itself is the knowledge base ``default`` (so an index built before knowledge bases
existed keeps working); every other one lives in ``<data>/kb/<NAME>/`` with its own ``index/``,
``uploads/`` and ``kb.json``. ``kb.json`` holds the settings it was created with (embedder, retriever,
k): they override the global settings whenever that knowledge base is used, so each keeps the embedder
its vectors were built with.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.app.config import Settings
from rag.errors import YuanwenError

DEFAULT_KB = "default"
KB_FOLDER = "kb"
KB_FILE = "kb.json"
# Settings a knowledge base may pin (the rest — generator, model — belong to whoever asks).
KB_SETTINGS = ("embedder", "retriever", "rerank", "k")
_NAME = re.compile(r"^[\w\u4e00-\u9fff][\w\u4e00-\u9fff.-]{0,63}$")


@dataclass(frozen=True)
class KnowledgeBase:
    """One named collection: where its index lives and the settings it pins."""

    name: str
    index_dir: Path
    created: float = 0.0
    settings: dict = field(default_factory=dict)

    @property
    def uploads_dir(self) -> Path:
        return self.index_dir.parent / "uploads"

    def apply(self, settings: Settings) -> Settings:
        """``settings`` for this knowledge base: its index and its pinned settings."""
        pinned = {k: v for k, v in self.settings.items() if k in KB_SETTINGS and v not in (None, "")}
        return settings.with_overrides(index=str(self.index_dir), **pinned)

    def to_json(self) -> dict:
        from rag.store.index import index_exists

        data = {"name": self.name, "index": str(self.index_dir), "created": self.created, "settings": self.settings,
                "documents": 0, "chunks": 0, "embedder": self.settings.get("embedder") or None}
        if index_exists(self.index_dir):
            try:
                manifest = json.loads(_manifest_path(self.index_dir).read_text(encoding="utf-8"))
                data.update(documents=manifest.get("n_documents", 0), chunks=manifest.get("n_chunks", 0),
                            embedder=manifest.get("embedder"))
            except (OSError, ValueError):
                pass
        return data


def data_dir(settings: Settings) -> Path:
    """The folder that holds every knowledge base, the conversations and the uploads."""
    return Path(settings.index).absolute().parent


def _manifest_path(index_dir: Path) -> Path:
    from rag.store.index import current_version

    return current_version(index_dir) / "manifest.json"


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name) or name in (".", ".."):
        raise YuanwenError(f"{name!r} is not a usable knowledge-base name",
                           "use letters, digits, Chinese characters, '-', '_' or '.', at most 64 characters")
    return name


def list_kbs(settings: Settings) -> list[KnowledgeBase]:
    """``default`` first, then the named ones in alphabetical order."""
    kbs = [KnowledgeBase(DEFAULT_KB, Path(settings.index).absolute())]
    root = data_dir(settings) / KB_FOLDER
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if (folder / KB_FILE).is_file() and not folder.is_symlink():
                kbs.append(_load(folder))
    return kbs


def _load(folder: Path) -> KnowledgeBase:
    try:
        meta = json.loads((folder / KB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise YuanwenError(f"{folder / KB_FILE} is unreadable ({exc})", "fix the file or delete the knowledge base") from exc
    return KnowledgeBase(folder.name, folder / "index", float(meta.get("created", 0)), dict(meta.get("settings", {})))


def get_kb(settings: Settings, name: str | None) -> KnowledgeBase:
    """The knowledge base ``name`` (None or "" → default), or an error that lists the existing ones."""
    if not name or name == DEFAULT_KB:
        return list_kbs(settings)[0]
    folder = data_dir(settings) / KB_FOLDER / check_name(name)
    if not (folder / KB_FILE).is_file():
        names = ", ".join(kb.name for kb in list_kbs(settings))
        raise YuanwenError(f"no knowledge base named {name!r} (there are: {names})",
                           f"create it: yuanwen kb create {name}")
    return _load(folder)


def settings_for(settings: Settings, name: str | None) -> Settings:
    """The settings to use for knowledge base ``name``."""
    return get_kb(settings, name).apply(settings) if name and name != DEFAULT_KB else settings


def create_kb(settings: Settings, name: str, **pinned) -> KnowledgeBase:
    """Create an empty knowledge base (its index appears on the first ``yuanwen index --kb NAME``)."""
    name = check_name(name)
    if name == DEFAULT_KB:
        raise YuanwenError("the default knowledge base always exists", "pick another name")
    folder = data_dir(settings) / KB_FOLDER / name
    if (folder / KB_FILE).exists():
        raise YuanwenError(f"knowledge base {name!r} already exists", "pick another name, or delete it first")
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"name": name, "created": time.time(),
            "settings": {k: v for k, v in pinned.items() if k in KB_SETTINGS and v not in (None, "")}}
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kb-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / KB_FILE)
    return _load(folder)


def delete_kb(settings: Settings, name: str) -> KnowledgeBase:
    """Delete a named knowledge base with its index and uploaded files (``default`` cannot be deleted)."""
    if not name or name == DEFAULT_KB:
        raise YuanwenError("the default knowledge base cannot be deleted",
                           "remove its documents instead (yuanwen remove SOURCE...)")
    kb = get_kb(settings, name)
    folder = kb.index_dir.parent
    # Rename first, so a half-deleted folder is never mistaken for a knowledge base.
    trash = folder.with_name(f".deleted-{folder.name}-{os.getpid()}-{time.time_ns()}")
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)
    return kb
