"""The PDF page a citation points to, as an image with the cited words boxed: the original, not our text of it.

The page is rendered with pypdfium2; the cited span is found in the page's own text layer, piece by piece (its
clauses, and for a table row its cells: the row is written "列名：值" in the index but stands as cells on the page),
and every piece found gets a translucent box. A scanned page has no text layer: it is shown without boxes (its
card carries the OCR badge). Images are small PNGs (width :data:`PAGE_WIDTH_PX`) put inline in the Sources card.
"""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path

from rag.schema import Answer

PAGE_WIDTH_PX = 900
MAX_PAGES_PER_ANSWER = 3
_PIECES = re.compile(r"[^，。；、：:,;\s（）()“”\"]+")
_UNIT_TAIL = re.compile(r"(?<=\d)(?:元|万元|亿元|万人次|人次|万吨|吨|万亩|亩|%|％|个|人|户|公里)$")

log = logging.getLogger(__name__)


def page_png(path: str | Path, page: int, quote: str) -> tuple[bytes, int]:
    """(PNG of ``page`` (1-based) of the PDF at ``path``, number of boxes drawn around pieces of ``quote``)."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    document = pdfium.PdfDocument(str(path))
    try:
        pdf_page = document[page - 1]
        width, height = pdf_page.get_size()
        scale = PAGE_WIDTH_PX / max(width, 1.0)
        image = pdf_page.render(scale=scale).to_pil().convert("RGB")
        boxes = _boxes(pdf_page, quote)
        overlay = ImageDraw.Draw(image, "RGBA")
        for left, bottom, right, top in boxes:
            top = max(top, bottom + 10)  # some PDFs give glyph boxes no height
            overlay.rectangle([left * scale - 2, (height - top) * scale - 2, right * scale + 2,
                               (height - bottom) * scale + 2], fill=(255, 213, 0, 90), outline=(230, 120, 0, 255),
                              width=2)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue(), len(boxes)
    finally:
        document.close()


def _boxes(pdf_page, quote: str) -> list[tuple[float, float, float, float]]:
    textpage = pdf_page.get_textpage()
    found: list[tuple[float, float, float, float]] = []
    for piece in dict.fromkeys(_pieces(quote)):
        for candidate in (piece, _UNIT_TAIL.sub("", piece), piece[:8]):
            if len(candidate) < 2:
                continue
            occurrence = textpage.search(candidate, match_case=False).get_next()
            if occurrence:
                found.extend(textpage.get_rect(i) for i in range(textpage.count_rects(*occurrence)))
                break
    return found


def _pieces(quote: str) -> list[str]:
    return [p for p in _PIECES.findall(quote) if len(p) >= 2]


def page_images(answer: Answer | None, path_of: Callable[[str], str | None]) -> dict[int, str]:
    """{citation number: data-URI PNG} for the first :data:`MAX_PAGES_PER_ANSWER` citations on PDF pages.

    ``path_of(source)`` gives the indexed file of a source (None when it is gone). Failures only lose the image."""
    if answer is None:
        return {}
    out: dict[int, str] = {}
    for citation in answer.citations:
        if len(out) >= MAX_PAGES_PER_ANSWER:
            break
        if not citation.page or not citation.source.lower().endswith(".pdf"):
            continue
        path = path_of(citation.source)
        if not path or not Path(path).is_file():
            continue
        try:
            png, _ = page_png(path, citation.page, citation.text)
        except Exception:  # a page image is a convenience: never let it break the answer
            log.debug("no page image for %s p. %s", citation.source, citation.page, exc_info=True)
            continue
        out[citation.n] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return out
