"""Which files a collection holds, the name each is cited by, and whether it may be read at all.

A folder is walked in sorted order with hidden files and folders left out; each file gets its ``source``, the path
relative to the folder given, which answers cite (so it must not depend on where the folder sits on disk). A file is
refused before it is parsed when its type is not supported (with the conversion to make), when it is larger than
the size limit, or, for Office files (zips), when it would unpack to more than its limit (a zip bomb).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from rag.errors import DocumentError, YuanwenError

TEXT_SUFFIXES = frozenset({".txt", ".text"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
DOCX_SUFFIXES = frozenset({".docx"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
PPTX_SUFFIXES = frozenset({".pptx"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
SUPPORTED_SUFFIXES = (TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES | XLSX_SUFFIXES
                      | PPTX_SUFFIXES | IMAGE_SUFFIXES)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Larger files are refused: a 20 MB text is a whole book shelf, more likely a log or a dump than a document."""

DOCX_UNZIPPED_RATIO = 10
DOCX_UNZIPPED_FLOOR = 64 * 1024 * 1024
"""A .docx, .xlsx or .pptx may unpack to at most ``max(DOCX_UNZIPPED_RATIO * max_bytes, DOCX_UNZIPPED_FLOOR)``:
Office compresses its XML 5-10x (styles alone unpack to ~1 MB), a zip bomb 1000x."""

_CONVERT_HINTS = {
    ".doc": "open it in Word or LibreOffice and save it as .docx",
    ".wps": "open it in WPS or LibreOffice and save it as .docx",
    ".rtf": "save it as .docx or .txt",
    ".odt": "save it as .docx",
    ".xls": "open it in Excel, WPS or LibreOffice and save it as .xlsx",
    ".et": "open it in WPS or LibreOffice and save it as .xlsx",
    ".ods": "save it as .xlsx",
    ".csv": "save it as .xlsx (or rename it to .txt)",
    ".ppt": "open it in PowerPoint, WPS or LibreOffice and save it as .pptx",
    ".dps": "open it in WPS or LibreOffice and save it as .pptx",
}

def iter_files(paths: Iterable[Path], *, include_unsupported: bool = False) -> Iterator[tuple[Path, str]]:
    """Yield ``(file, source)`` for every supported file under ``paths``.

    ``source`` is the file's path relative to the folder given (or its name for a file given directly): it is
    what answers cite, so it must not depend on where the folder sits on disk. Folders are walked recursively in
    sorted order; hidden files and folders (``.git``, ``.DS_Store``) are always left out. Files of unsupported
    types are left out too, unless ``include_unsupported`` (then the caller reports them, see
    :func:`check_supported`); a file of unsupported type named directly raises.
    """
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise YuanwenError(f"No such file or folder: {path}", hint="check the path, or run from the folder that holds it")
        if path.is_file():
            if not include_unsupported:
                check_supported(path)
            yield path, path.name
            continue
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if file.is_file() and (include_unsupported or file.suffix.lower() in SUPPORTED_SUFFIXES):
                yield file, relative.as_posix()


def check_supported(path: Path) -> None:
    """Raise a DocumentError naming the conversion to make when ``path`` is not of a supported type."""
    suffix = Path(path).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return
    raise DocumentError(
        f"Unsupported file type {suffix or '(no extension)'}: {Path(path).name}",
        hint=_CONVERT_HINTS.get(suffix, f"convert it to one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"),
    )


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file, refusing it before reading when it is larger than ``max_bytes``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                f"{path.name} is {_megabytes(size)}, over the limit of {_megabytes(max_bytes)}",
                hint="split the file, or raise the limit (yuanwen index --max-mb N)",
            )
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"Cannot read {path}: {exc.strerror or exc}", hint="check that the file exists and is readable") from exc


def check_zip_size(data: bytes, name: str, kind: str, max_unzipped: int, fix: str) -> None:
    """Refuse an Office file (a zip) that is corrupt or unpacks to more than ``max_unzipped``, before inflating it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise corrupt_error(name, kind, exc, fix) from exc
    if unzipped > max_unzipped:
        raise DocumentError(
            f"{name} unpacks to {_megabytes(unzipped)}, over the limit of {_megabytes(max_unzipped)}",
            hint="split the document, or raise the limit (yuanwen index --max-mb N)",
        )


def corrupt_error(name: str, kind: str, exc: BaseException, fix: str) -> DocumentError:
    detail = collapse_spaces(f"{type(exc).__name__}: {exc}")
    if len(detail) > 120:
        detail = detail[:119] + "…"
    return DocumentError(f"{name} is not a readable {kind} ({detail})", hint=fix)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 100 * 1024 else f"{n:,} bytes"




def collapse_spaces(text: str) -> str:
    """Runs of whitespace as one space: a title or an error detail on one line."""
    return re.sub(r"\s+", " ", text).strip()
