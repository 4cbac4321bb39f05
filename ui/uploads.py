"""Uploaded files → the data directory, safely.

A browser sends a file name it chose; here it becomes a plain base name inside the uploads
folder or is refused: no folders, no ``..``, no absolute paths, no hidden files, and never a
write through a symlink (an attacker-placed link could otherwise redirect the copy).
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path

from rag.ingest.files import SUPPORTED_SUFFIXES
from rag.errors import YuanwenError

_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")
MAX_NAME_CHARS = 150


def uploads_dir_for(index_dir: str | Path) -> Path:
    """Where uploaded files are kept: beside the index (``.yuanwen/index`` → ``.yuanwen/uploads``)."""
    return Path(index_dir).absolute().parent / "uploads"


def safe_upload_name(name: str) -> str:
    """The base name a file may be stored under, or a YuanwenError saying why not."""
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(".").strip()
    if len(base) > MAX_NAME_CHARS:
        stem, suffix = os.path.splitext(base)
        base = stem[: MAX_NAME_CHARS - len(suffix)] + suffix
    suffix = os.path.splitext(base)[1].lower()
    if not base or base in (".", "..") or not os.path.splitext(base)[0]:
        raise YuanwenError(f"cannot store a file named {name!r}", "give the file a plain name such as notes.txt")
    if suffix not in SUPPORTED_SUFFIXES:
        raise YuanwenError(f"{base}: unsupported file type {suffix or '(none)'}",
                           f"upload one of: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    return base


def store_upload(src: str | Path, name: str, uploads_dir: str | Path) -> Path:
    """Copy ``src`` into ``uploads_dir`` under the sanitised ``name``; returns the stored path.

    An existing regular file of that name is replaced (re-uploading refreshes a document).
    """
    folder = Path(uploads_dir)
    if folder.is_symlink():
        raise YuanwenError(f"the uploads folder {folder} is a symlink", "make it a real folder")
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / safe_upload_name(name)
    if dest.is_symlink() or (dest.exists() and not dest.is_file()):
        raise YuanwenError(f"{dest} exists and is not a regular file", "remove it or rename the upload")
    if dest.resolve().parent != folder.resolve():
        raise YuanwenError(f"refusing to write {name!r} outside {folder}", "give the file a plain name")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with open(src, "rb") as fin, os.fdopen(os.open(dest, flags, 0o644), "wb") as fout:
        shutil.copyfileobj(fin, fout)
    return dest
