"""Read a PDF page by page: its text layer, its ruled tables as "列名：值" rows, and OCR for pages that are images.

- Text: pypdf's text layer, one section per page, so every chunk knows its page.
- Tables: pages with ruled tables (pdfplumber finds them from their lines) are read by pdfplumber instead: the text
  between tables as text, each table through :func:`rag.text.tables.table_blocks` with the line above it as caption.
- Scans: a page with (almost) no text layer but an image covering a good part of it is rendered with pypdfium2 and
  read by :mod:`rag.ingest.ocr`; its section is flagged ``ocr``. Pages are rendered lazily while earlier ones are being
  recognised, so a long scan never sits in memory whole.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from rag.errors import DocumentError
from rag.ingest.layout import Section, page_location
from rag.text.tables import is_caption, table_blocks

OCR_TEXT_MIN_CHARS = 20
"""A page whose text layer has fewer visible characters than this (a scanner's page stamp) is OCRed if it holds an
image."""

OCR_IMAGE_MIN_SHARE = 0.2
"""…and that image covers at least this share of the page (a logo is not a scan)."""

MAX_PAGES = 2000
"""More pages than this are refused: a 2,000-page PDF is a book series, and reading it would hold indexing for hours."""

CAPTION_ABOVE_POINTS = 40
"""A table's caption is the last text line at most this far above its top edge."""

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def read_pdf(data: bytes, name: str = "<pdf>", *, progress: Progress | None = None) -> tuple[str, list[Section]]:
    """(metadata title, one or more sections per page). Raises DocumentError for encrypted, corrupt or empty PDFs."""
    from pypdf import PdfReader  # imported on use: only PDFs need it

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a broken file is reported once, as a skip reason
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{name} is password-protected", hint="save an unprotected copy and index that")
        n_pages = len(reader.pages)
        if n_pages > MAX_PAGES:
            raise DocumentError(f"{name} has {n_pages} pages, over the limit of {MAX_PAGES}",
                                hint="split it into parts (e.g. qpdf --split-pages=500) and index those")
        texts, failures = [], []
        for page in reader.pages:
            try:
                texts.append((page.extract_text() or "").strip())
            except Exception as exc:  # one broken page must not lose the others
                texts.append("")
                failures.append(exc)
        title = str((reader.metadata or {}).get("/Title") or "")
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types (PdfReadError, ValueError, KeyError…) on broken files
        raise corrupt_pdf(name, exc) from exc

    sections: dict[int, list[Section]] = {
        i + 1: [Section(text, page=i + 1, location=page_location(i + 1))] for i, text in enumerate(texts) if text}
    scanned = _table_pages_and_scans(data, sections, texts)
    if scanned:
        for page, text in zip(scanned, _ocr_pages(data, scanned, name, progress)):
            if text.strip():
                sections[page] = [Section(text, page=page, location=page_location(page), ocr=True)]
    ordered = [s for page in sorted(sections) for s in sections[page]]
    if not any(s.text.strip() for s in ordered):
        if failures:
            raise corrupt_pdf(name, failures[0])
        if scanned:
            raise DocumentError(f"{name}: OCR found no text on its {len(scanned)} scanned page(s)",
                                hint="check the scan is legible (at least 150 dpi, upright), or index a text copy")
        raise DocumentError(f"{name}: no text on any page (no text layer, no page images)",
                            hint="nothing to index: if it prints text, print it again to PDF and index that")
    return title, ordered


def corrupt_pdf(name: str, exc: BaseException) -> DocumentError:
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(detail) > 120:
        detail = detail[:119] + "…"
    return DocumentError(f"{name} is not a readable PDF ({detail})", hint="open it and save or print it again as PDF")


def _table_pages_and_scans(data: bytes, sections: dict[int, list[Section]], texts: list[str]) -> list[int]:
    """Replace the sections of pages with ruled tables by text + table sections; return the pages to OCR."""
    import pdfplumber  # imported on use: only PDFs need it

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    scanned: list[int] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, 1):
                text = texts[number - 1] if number - 1 < len(texts) else ""
                if len("".join(text.split())) < OCR_TEXT_MIN_CHARS and _has_page_image(page):
                    scanned.append(number)
                    continue
                if not text or not (page.lines or page.rects):
                    continue
                tables = page.find_tables()
                if tables:
                    sections[number] = _page_with_tables(page, tables, number)
    except DocumentError:
        raise
    except Exception:  # pdfplumber trips on some files pypdf reads: keep pypdf's text, without tables or OCR
        logging.getLogger(__name__).debug("pdfplumber could not read the PDF", exc_info=True)
    return scanned


def _has_page_image(page) -> bool:
    area = float(page.width * page.height) or 1.0
    for image in page.images:
        width = max(0.0, min(image["x1"], page.width) - max(image["x0"], 0))
        height = max(0.0, min(image["bottom"], page.height) - max(image["top"], 0))
        if width * height >= OCR_IMAGE_MIN_SHARE * area:
            return True
    return False


def _page_with_tables(page, tables, number: int) -> list[Section]:
    """The page as text bands between its tables and one table section per table, top to bottom."""
    location = page_location(number)
    out: list[Section] = []
    top = 0.0
    for table in sorted(tables, key=lambda t: t.bbox[1]):
        x0, t_top, x1, t_bottom = table.bbox
        above = _band_text(page, top, t_top)
        lines = [line for line in above.split("\n") if line.strip()]
        caption = ""
        if lines and is_caption(lines[-1]) and _last_line_close(page, top, t_top):
            caption = lines.pop().strip()
        if lines:
            out.append(Section("\n".join(lines), page=number, location=location))
        blocks = table_blocks(table.extract(), caption)
        if blocks:
            out.append(Section("\n\n".join(blocks), page=number, location=location, table=True))
        elif caption:
            out.append(Section(caption, page=number, location=location))
        top = max(top, t_bottom)
    rest = _band_text(page, top, float(page.height))
    if rest.strip():
        out.append(Section(rest, page=number, location=location))
    return out


def _band_text(page, top: float, bottom: float) -> str:
    if bottom - top < 1:
        return ""
    return page.crop((0, top, float(page.width), bottom), strict=False).extract_text() or ""


def _last_line_close(page, top: float, table_top: float) -> bool:
    words = page.crop((0, top, float(page.width), table_top), strict=False).extract_words() if table_top - top >= 1 else []
    return bool(words) and table_top - max(w["bottom"] for w in words) <= CAPTION_ABOVE_POINTS


def _ocr_pages(data: bytes, pages: list[int], name: str, progress: Progress | None) -> list[str]:
    """OCR text of the given 1-based pages, rendered with pypdfium2 one at a time as the pool asks for them."""
    import pypdfium2 as pdfium

    from rag.ingest.ocr import OCR_LONG_SIDE, recognise_pages

    try:
        document = pdfium.PdfDocument(data)
    except Exception as exc:
        raise corrupt_pdf(name, exc) from exc

    def rendered():
        for number in pages:
            page = document[number - 1]
            width, height = page.get_size()
            scale = OCR_LONG_SIDE / max(width, height, 1.0)
            yield page.render(scale=scale).to_pil()
            page.close()

    def report(done: int, total: int) -> None:
        if progress:
            progress(f"OCR {name}", done, total)

    try:
        return [page.text for page in recognise_pages(rendered(), len(pages), progress=report)]
    finally:
        document.close()
