"""Read document files into cleaned text: the first step of the data path.

Chinese collections arrive in every encoding a Windows or web tool ever wrote (GBK, Big5, UTF-16, UTF-8 with a
BOM), as plain text, Markdown, saved web pages, PDFs and Word files. Everything here turns such a file into one
normalised string (``\\n`` newlines, NFC, no trailing spaces) so that chunk offsets, citations and the UI all point
into the same text. A file that cannot be read raises :class:`DocumentError` with a one-line reason; a collection
skips such files and keeps going (see :func:`load_documents`).
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import logging
import re
import zipfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.cleaning import clean_text, find_boilerplate
from rag.errors import DocumentError, YuanwenError
from rag.ingest.layout import SECTION_SEPARATOR, Section, assemble, sections_text
from rag.schema import Document
from rag.ingest.stages import stage

Progress = Callable[[str, int, int], None]  # (stage, done, total)

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

TITLE_MAX_CHARS = 64
TITLE_MIN_CHARS = 4
"""A first line shorter than this is usually a site label ("数字报"), so the next short line is tried as title."""

_BOMS = (  # UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Encodings that have a wider superset: decode with the superset so rare characters do not fail.
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "hz": "gb18030", "big5": "cp950", "ascii": "utf-8"}
# Tried besides charset-normalizer's guesses: short CJK texts are often guessed as Thai or Korean codepages.
_CJK_FALLBACKS = ("gb18030", "cp950", "utf_16_le", "utf_16_be")
_SCORED_CHARS = 4000
_CONTROL_SHARE_MAX = 0.05
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)


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


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a text file in whatever encoding it was saved, as normalised text."""
    path = Path(path)
    return normalize_text(decode_bytes(read_bytes(path, max_bytes), name=path.name))


def decode_bytes(data: bytes, name: str = "<bytes>", declared: str | None = None) -> str:
    """Decode bytes of unknown encoding.

    Order: byte-order marks, then strict UTF-8 (by far the most common, and never a false positive on real CJK
    legacy text), then BOM-less UTF-16 recognised by its NUL bytes, then candidates from an HTML ``charset``
    declaration, charset-normalizer and the CJK codepages, ranked by how plausible the decoded text is.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_or_fail(data, encoding, name)
    try:
        return _check_not_binary(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return _check_not_binary(utf16, name)
    if b"\x00" in data:
        raise _binary_error(name)
    candidates: list[str] = []
    if declared:
        candidates.append(declared)
    candidates += _charset_normalizer_guesses(data)
    candidates += _CJK_FALLBACKS
    best_text, best_score = None, float("-inf")
    for encoding in dict.fromkeys(_canonical_encoding(c) for c in candidates):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        score = _plausibility(text)
        if score > best_score:
            best_text, best_score = text, score
    if best_text is None:
        raise DocumentError(
            f"Cannot tell the text encoding of {name}",
            hint="save the file as UTF-8 (most editors: 'Save with encoding' → UTF-8)",
        )
    return _check_not_binary(best_text, name)


def normalize_text(text: str) -> str:
    """One canonical form for offsets: ``\\n`` newlines, NFC, no trailing spaces, no stray BOM.

    NFC (not NFKC): full-width punctuation is how Chinese is written and must survive.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\ufeff", "")
    text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


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
        declared = _META_CHARSET.search(data[:4096])
        html = decode_bytes(data, name=path.name, declared=declared.group(1).decode("ascii") if declared else None)
        title, sections = html_to_sections(html)
        extracted = (_from_sections(title, sections) if any(s.table for s in sections)
                     else ExtractedText(title, SECTION_SEPARATOR.join(s.text for s in sections)))
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
    return ExtractedText(title=_collapse_spaces(title), text=sections_text(sections), sections=tuple(sections))


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
    """Paragraphs and tables of a Word .docx in reading order (python-docx), and its title.

    Tables become "列名：值" rows (:mod:`rag.text.tables`) in sections of their own, captioned by the short paragraph
    right above them. The title is the document property if set, else the first paragraph styled "Title". The
    archive's unpacked size is checked first, so a zip bomb is refused before it is inflated.
    """
    fix = "open it in Word or LibreOffice and save it as .docx"
    check_zip_size(data, name, "Word .docx", max_unzipped, fix)
    from docx import Document as open_docx  # imported on use: only Word files need it
    from docx.table import Table

    from rag.text.tables import is_caption, table_blocks

    try:
        doc = open_docx(io.BytesIO(data))
        sections: list[Section] = []
        blocks: list[str] = []
        title = ""
        for item in doc.iter_inner_content():
            if isinstance(item, Table):
                caption = blocks.pop() if blocks and is_caption(blocks[-1]) else ""
                if blocks:
                    sections.append(Section("\n\n".join(blocks)))
                    blocks = []
                rows = [[cell.text for cell in row.cells] for row in item.rows]
                sections.append(Section("\n\n".join(table_blocks(rows, caption)) or caption, table=True))
                continue
            text = item.text.strip()
            if text:
                blocks.append(text)
                if not title and item.style is not None and item.style.name == "Title":
                    title = text
        if blocks:
            sections.append(Section("\n\n".join(blocks)))
        title = (doc.core_properties.title or "").strip() or title
    except Exception as exc:  # python-docx and lxml raise many types on broken files
        raise _corrupt_error(name, "Word .docx", exc, fix) from exc
    sections = [s for s in sections if s.text.strip()]
    if not any(s.table for s in sections):  # plain prose: one text, as before
        return ExtractedText(title=_collapse_spaces(title), text="\n\n".join(s.text for s in sections))
    return _from_sections(title, sections)


def check_zip_size(data: bytes, name: str, kind: str, max_unzipped: int, fix: str) -> None:
    """Refuse an Office file (a zip) that is corrupt or unpacks to more than ``max_unzipped``, before inflating it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _corrupt_error(name, kind, exc, fix) from exc
    if unzipped > max_unzipped:
        raise DocumentError(
            f"{name} unpacks to {_megabytes(unzipped)}, over the limit of {_megabytes(max_unzipped)}",
            hint="split the document, or raise the limit (yuanwen index --max-mb N)",
        )


def _corrupt_error(name: str, kind: str, exc: BaseException, fix: str) -> DocumentError:
    detail = _collapse_spaces(f"{type(exc).__name__}: {exc}")
    if len(detail) > 120:
        detail = detail[:119] + "…"
    return DocumentError(f"{name} is not a readable {kind} ({detail})", hint=fix)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 100 * 1024 else f"{n:,} bytes"


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


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of a web page with one paragraph per block element, and its title.

    Page furniture (script, style, nav, aside, and header/footer outside an ``<article>``) is dropped first. The title is the
    first ``<h1>`` of what remains, else ``<title>``: ``<title>`` usually carries the site name as well.
    """
    title, sections = html_to_sections(html)
    return title, SECTION_SEPARATOR.join(s.text for s in sections)


def html_to_sections(html: str) -> tuple[str, list[Section]]:
    """:func:`html_to_text` as sections: the text around data tables, and each table as "列名：值" rows."""
    from selectolax.lexbor import LexborHTMLParser  # imported on use: only HTML files need it

    tree = LexborHTMLParser(html)
    head_title = tree.css_first("title")
    title = head_title.text(strip=True) if head_title is not None else ""
    for node in tree.css(",".join(_DROPPED_TAGS)):
        node.decompose()
    for node in tree.css(",".join(_FURNITURE_TAGS)):
        if not _inside(node, _CONTENT_TAGS):  # an article's own <header> holds its title and date
            node.decompose()
    h1 = tree.css_first("h1")
    if h1 is not None and h1.text(strip=True):
        title = h1.text(strip=True)
    root = tree.body or tree.root
    if root is None:
        return _collapse_spaces(title), []
    pieces: list[str | Section] = []
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:  # iterative walk: deeply nested pages must not hit the recursion limit
        node, closing = stack.pop()
        tag = node.tag
        if closing:
            pieces.append("\n\n")
            continue
        if tag == "-text":
            pieces.append(_HTML_SPACE.sub(" ", node.text(deep=False) or ""))
            continue
        if tag == "br":
            pieces.append("\n")
            continue
        if tag is None or tag.startswith("-") or tag.startswith("_"):  # comments, doctype
            continue
        if tag in _PRE_TAGS:
            pieces.append("\n\n" + (node.text(deep=True) or "") + "\n\n")
            continue
        if tag == "table":
            rows_text = _html_table(node)
            if rows_text is not None:
                pieces.append(Section(rows_text, table=True))
                continue
        block = tag in _BLOCK_TAGS
        if block:
            pieces.append("\n\n")
            stack.append((node, True))
        elif tag in _CELL_TAGS:
            pieces.append(" ")
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))
    sections: list[Section] = []
    run: list[str] = []
    for piece in [*pieces, None]:
        if isinstance(piece, str):
            run.append(piece)
            continue
        lines = [line.strip() for line in "".join(run).split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        if text:
            sections.append(Section(text))
        if piece is not None:
            sections.append(piece)
        run = []
    return _collapse_spaces(title), sections


def _html_table(node) -> str | None:
    """A data table as "列名：值" rows (:mod:`rag.text.tables`); None for a layout table (one column, or tables inside),
    which is walked as ordinary blocks."""
    from rag.text.tables import html_table_grid, is_caption, table_text

    if len(node.css("table")) > 1:  # the node itself and a table inside it
        return None
    grid, caption = html_table_grid(node)
    if max((len(row) for row in grid), default=0) < 2 or len(grid) < 2:
        return None
    if not caption:
        previous = node.prev
        while previous is not None and previous.tag == "-text" and not (previous.text(deep=False) or "").strip():
            previous = previous.prev
        if previous is not None and previous.tag in _CAPTION_TAGS and is_caption(previous.text(strip=True)):
            caption = previous.text(strip=True)
    return table_text(grid, caption)


def markdown_to_text(text: str) -> str:
    """Markdown as readers see it: heading markers, link targets and emphasis marks removed.

    Citations quote chunk text, so ``## 标题`` and ``[文字](http://…)`` would otherwise show up in answers.
    """
    text = _MD_HEADING.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return text


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


_DROPPED_TAGS = ("script", "style", "noscript", "template", "nav", "aside", "svg", "iframe", "button", "select",
                 "head")
_FURNITURE_TAGS = ("header", "footer")
_CONTENT_TAGS = frozenset({"article", "main"})
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "html", "li", "main", "ol", "p",
    "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
})
_CELL_TAGS = frozenset({"td", "th"})
_CAPTION_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "div", "strong", "b"})
_PRE_TAGS = frozenset({"pre", "textarea"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+|[ \t]+#+[ \t]*$", re.MULTILINE)
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(\S(?:[^\n]*?\S)?)\1")


def _inside(node, tags: frozenset[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


def _collapse_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _canonical_encoding(name: str) -> str:
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return name
    return _SUPERSET.get(name, name)


def _decode_or_fail(data: bytes, encoding: str, name: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{name} starts with a {encoding} byte-order mark but is not valid {encoding}",
            hint="re-save the file as UTF-8",
        ) from exc
    return _check_not_binary(text, name)


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without BOM: ASCII characters (newlines, digits) leave NULs at every other byte."""
    if len(data) < 4 or len(data) % 2:
        return None
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    nuls = even_nuls + odd_nuls
    if not nuls:  # no ASCII at all: left to the scored candidates
        return None
    if odd_nuls >= 0.95 * nuls:
        encoding = "utf-16-le"
    elif even_nuls >= 0.95 * nuls:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return text if _plausibility(text) > 0.5 else None


def _charset_normalizer_guesses(data: bytes, limit: int = 5) -> list[str]:
    from charset_normalizer import from_bytes  # imported on use: only non-UTF-8 files need it

    return [match.encoding for match in list(from_bytes(data))[:limit]]


def _char_weight(ch: str) -> float:
    """How likely a character is in a real document; misdecoded CJK turns into rare or foreign characters."""
    code = ord(ch)
    if code < 0x80:
        return 1.0 if ch.isprintable() or ch in "\n\t\r" else -2.0
    if 0x4E00 <= code <= 0x9FFF:
        return 1.0 if _is_common_hanzi(ch) else 0.3
    if 0xFF61 <= code <= 0xFFDC:
        return -1.0  # half-width katakana and hangul: GBK bytes misread as Shift-JIS, never in Chinese text
    if 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF or 0x2010 <= code <= 0x206F:
        return 1.0  # CJK and general punctuation, full-width forms
    if 0xC0 <= code <= 0xFF:
        return 0.9  # accented Latin-1 letters (Western European)
    if 0x100 <= code <= 0x17F:
        return 0.7  # Latin Extended-A: Central European, rarer
    if 0xE000 <= code <= 0xF8FF or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
        return -2.0  # private use, control, unassigned: a wrong codepage
    return 0.2


def _is_common_hanzi(ch: str) -> bool:
    """In GB2312 level 1 (3,755 commonest simplified) or Big5 level 1 (5,401 commonest traditional characters)."""
    try:
        gb = ch.encode("gb2312")
        if 0xB0 <= gb[0] <= 0xD7:
            return True
    except UnicodeEncodeError:
        pass
    try:
        big5 = ch.encode("big5")
        return 0xA440 <= int.from_bytes(big5, "big") <= 0xC67E
    except UnicodeEncodeError:
        return False


def _plausibility(text: str) -> float:
    sample = text[:_SCORED_CHARS]
    if not sample:
        return 0.0
    return sum(_char_weight(ch) for ch in sample) / len(sample)


def _control_share(text: str) -> float:
    sample = text[:_SCORED_CHARS]
    if not sample:
        return 0.0
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v")
    return controls / len(sample)


def _check_not_binary(text: str, name: str) -> str:
    if "\x00" in text[:_SCORED_CHARS] or _control_share(text) > _CONTROL_SHARE_MAX:
        raise _binary_error(name)
    return text


def _binary_error(name: str) -> DocumentError:
    return DocumentError(
        f"{name} looks like a binary file, not text",
        hint="give it the right extension, or convert it to .txt, .md, .html, .pdf, .docx or .xlsx",
    )
