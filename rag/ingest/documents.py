"""Read document files into cleaned documents: the first step of the data path.

Each supported file is read by the reader of its format — plain text and Markdown (rag/ingest/encodings.py,
rag/ingest/markdown_text.py), web pages (webpages.py), Word (wordfiles.py), PDF (pdfpages.py), Excel
(spreadsheets.py), PowerPoint (slides.py), images (ocr.py) — into one normalised string, or into sections that
say where each part came from (rag/ingest/layout.py); then page noise is removed and a title picked. Which files
a folder holds, the name each is cited by and the size limits are rag/ingest/files.py's. A file that cannot be
read raises :class:`DocumentError` with a one-line reason; a collection skips such files and keeps going (see
:func:`load_documents`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import DocumentError
from rag.ingest.cleaning import clean_text, find_boilerplate
from rag.ingest.encodings import decode_bytes, normalize_text
from rag.ingest.files import (DEFAULT_MAX_BYTES, DOCX_SUFFIXES, DOCX_UNZIPPED_FLOOR, DOCX_UNZIPPED_RATIO,
                              HTML_SUFFIXES, IMAGE_SUFFIXES, MARKDOWN_SUFFIXES, PDF_SUFFIXES, PPTX_SUFFIXES,
                              XLSX_SUFFIXES, check_supported, check_zip_size, collapse_spaces, iter_files, read_bytes)
from rag.ingest.layout import Section, assemble, sections_text
from rag.ingest.markdown_text import markdown_to_text
from rag.ingest.stages import stage
from rag.ingest.webpages import declared_charset, html_to_sections
from rag.ingest.wordfiles import read_docx
from rag.schema import Document

Progress = Callable[[str, int, int], None]  # (stage, done, total)

TITLE_MAX_CHARS = 64
TITLE_MIN_CHARS = 4
"""A first line shorter than this is usually a site label ("数字报"), so the next short line is tried as title."""


@dataclass(frozen=True)
class ExtractedText:
    """Text and title of one file before cleaning; ``title`` is empty when the format has none.

    Paged and tabular formats also give ``sections`` (page, slide, table…; see :mod:`rag.ingest.layout`), whose texts
    joined make ``text``.
    """

    title: str
    text: str
    sections: tuple[Section, ...] = ()


def extract_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, progress: Progress | None = None) -> ExtractedText:
    """Read any supported file as plain text (HTML markup removed, Markdown markers stripped, PDF and Word text
    layers extracted, tables as "列名：值" rows, sheets, slides, scanned pages and images read by OCR). Raises
    DocumentError for unsupported, empty, over-size, unreadable or corrupt files. ``progress(stage, done, total)``
    hears of long work inside one file (OCR of a scan, page by page)."""
    path = Path(path)
    check_supported(path)
    suffix = path.suffix.lower()
    data = read_bytes(path, max_bytes)
    if not data:
        raise DocumentError(f"{path.name} is empty", hint="nothing to index: fill it or remove it")
    max_unzipped = max(DOCX_UNZIPPED_RATIO * max_bytes, DOCX_UNZIPPED_FLOOR)
    if suffix in PDF_SUFFIXES:
        extracted = pdf_to_text(data, name=path.name, progress=progress)
    elif suffix in DOCX_SUFFIXES:
        extracted = docx_to_text(data, name=path.name, max_unzipped=max_unzipped)
    elif suffix in XLSX_SUFFIXES:
        from rag.ingest.spreadsheets import read_xlsx

        check_zip_size(data, path.name, "Excel .xlsx", max_unzipped, "open it in Excel or WPS and save it as .xlsx")
        extracted = _from_sections(*read_xlsx(data, name=path.name))
    elif suffix in PPTX_SUFFIXES:
        from rag.ingest.slides import read_pptx

        check_zip_size(data, path.name, "PowerPoint .pptx", max_unzipped,
                       "open it in PowerPoint or WPS and save it as .pptx")
        extracted = _from_sections(*read_pptx(data, name=path.name))
    elif suffix in IMAGE_SUFFIXES:
        extracted = image_to_text(data, name=path.name, progress=progress)
    elif suffix in HTML_SUFFIXES:
        html = decode_bytes(data, name=path.name, declared=declared_charset(data))
        extracted = _prose_or_sections(*html_to_sections(html))
    elif suffix in MARKDOWN_SUFFIXES:
        extracted = ExtractedText(title="", text=markdown_to_text(normalize_text(decode_bytes(data, name=path.name))))
    else:
        extracted = ExtractedText(title="", text=decode_bytes(data, name=path.name))
    sections = tuple(dataclasses.replace(s, text=normalize_text(s.text)) for s in extracted.sections)
    text = sections_text(list(sections)) if sections else normalize_text(extracted.text)
    if not text.strip():
        raise DocumentError(f"{path.name} holds no text", hint="nothing to index: fill it or remove it")
    return ExtractedText(title=normalize_text(extracted.title), text=text, sections=sections)


def _from_sections(title: str, sections: list[Section]) -> ExtractedText:
    return ExtractedText(title=collapse_spaces(title), text=sections_text(sections), sections=tuple(sections))


def _prose_or_sections(title: str, sections: list[Section]) -> ExtractedText:
    """A web page or Word file without tables is plain prose: one text, cleaned as a whole; with tables, sections."""
    if not any(s.table for s in sections):
        return ExtractedText(title=collapse_spaces(title), text="\n\n".join(s.text for s in sections))
    return _from_sections(title, sections)


def image_to_text(data: bytes, name: str = "<image>", progress: Progress | None = None) -> ExtractedText:
    """The text of a photographed or scanned page (.png, .jpg…), read by OCR; one section flagged ``ocr``."""
    from rag.ingest.ocr import open_image, recognise_pages

    image = open_image(data, name)
    pages = recognise_pages([image], 1, progress=(lambda done, total: progress(f"OCR {name}", done, total))
                            if progress else None)
    text = pages[0].text if pages else ""
    if not text.strip():
        raise DocumentError(f"{name}: OCR found no text in the image",
                            hint="check the image is legible (at least 150 dpi, upright), or index a text copy")
    return _from_sections("", [Section(text, location="OCR", ocr=True)])


def pdf_to_text(data: bytes, name: str = "<pdf>", progress: Progress | None = None) -> ExtractedText:
    """A PDF page by page (see :mod:`rag.ingest.pdfpages`): the text layer, ruled tables as rows, scanned pages by OCR.

    Encrypted PDFs are opened when they have no user password (many "protected" PDFs only forbid printing).
    """
    from rag.ingest.pdfpages import read_pdf

    title, sections = read_pdf(data, name=name, progress=progress)
    return _from_sections(title, sections)


def docx_to_text(data: bytes, name: str = "<docx>", max_unzipped: int = DOCX_UNZIPPED_RATIO * DEFAULT_MAX_BYTES
                 ) -> ExtractedText:
    """Paragraphs and tables of a Word .docx in reading order, and its title (rag/ingest/wordfiles.py)."""
    return _prose_or_sections(*read_docx(data, name, max_unzipped))


def load_document(
    path: Path,
    source: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    boilerplate: frozenset[str] = frozenset(),
) -> Document:
    """Read and clean one file. ``boilerplate`` comes from :func:`rag.ingest.cleaning.find_boilerplate` over the collection."""
    extracted = extract_text(path, max_bytes)
    return _to_document(Path(path), source, extracted, boilerplate)


@dataclass
class LoadedDocuments:
    """Documents read from a collection, and the files that could not be read (with the reason)."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, DocumentError]] = field(default_factory=list)
    boilerplate: frozenset[str] = frozenset()


def load_documents(
    paths: Iterable[Path],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    boilerplate_min_docs: int = 3,
    progress: Progress | None = None,
) -> LoadedDocuments:
    """Read a whole collection: page furniture repeated across its files is found first, then every file cleaned.

    Bad input never stops the batch: every file that cannot be used — unsupported type, empty, over ``max_bytes``,
    unreadable, binary, corrupt PDF/Word, scanned PDF, or one that trips an unexpected parser error — is skipped
    and reported in ``skipped`` with a one-line reason, so one stray file does not stop indexing a folder of
    thousands. Hidden files and folders are left out silently (they are tool state, not documents).
    ``progress(stage, done, total)`` hears of each file read and of OCR inside a file.
    """
    paths = [Path(p) for p in paths]
    extracted: list[tuple[Path, str, ExtractedText]] = []
    result = LoadedDocuments()
    files = list(iter_files(paths, include_unsupported=True))
    for done, (file, source) in enumerate(files):
        if progress:
            progress("reading files", done, len(files))
        try:
            with stage("read/extract"):
                extracted.append((file, source, extract_text(file, max_bytes, progress=progress)))
        except DocumentError as exc:
            result.skipped.append((source, exc))
        except Exception as exc:  # a parser bug on one hostile file must not lose the rest
            result.skipped.append((source, DocumentError(
                f"{file.name}: unexpected error while reading ({type(exc).__name__}: {exc})",
                hint="convert the file to .txt and index that; please report the file",
            )))
    if progress:
        progress("reading files", len(files), len(files))
    with stage("clean"):
        result.boilerplate = find_boilerplate([e.text for _, _, e in extracted], min_docs=boilerplate_min_docs)
        result.documents = [_to_document(f, s, e, result.boilerplate) for f, s, e in extracted]
    return result


def pick_title(text: str, fallback: str = "") -> str:
    """The document's title: its first line, unless that is a tiny site label, cut to :data:`TITLE_MAX_CHARS`."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        return fallback
    title = lines[0]
    if len(title) < TITLE_MIN_CHARS:
        title = next((line for line in lines[1:3] if TITLE_MIN_CHARS <= len(line) <= TITLE_MAX_CHARS), title)
    return _shorten_title(title.lstrip("#").strip())


def _shorten_title(title: str) -> str:
    return title if len(title) <= TITLE_MAX_CHARS else title[: TITLE_MAX_CHARS - 1].rstrip() + "…"


def _to_document(path: Path, source: str, extracted: ExtractedText, boilerplate: frozenset[str]) -> Document:
    regions: tuple = ()
    if extracted.sections:
        cleaned, regions = assemble(list(extracted.sections), boilerplate)
    else:
        cleaned = clean_text(extracted.text, boilerplate=boilerplate).text
    title = _shorten_title(extracted.title) if extracted.title else pick_title(cleaned, fallback=path.stem)
    return Document(source=source, title=title, text=cleaned, path=str(path), regions=regions)
