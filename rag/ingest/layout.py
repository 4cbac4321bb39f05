"""Sections of an extracted file (a PDF page, a slide, a table) and the document text assembled from them.

Readers of paged and tabular formats return their text as :class:`Section` s instead of one string, each saying
where it came from. :func:`assemble` cleans every section on its own and joins them with blank lines, recording
each section's span of the final text as a :class:`rag.schema.Region`, so a chunk (which never crosses a region)
knows its page, sheet or slide and whether it was read by OCR. Table sections are not cleaned: their "列名：值" rows
are content by construction, and the hard-wrap repair of the cleaner would join them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.ingest.cleaning import clean_text
from rag.schema import Region

SECTION_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Section:
    """Text read from one place of a file: ``page`` is 1-based (PDF page, slide), ``location`` what a citation shows."""

    text: str
    page: int | None = None
    location: str = ""
    ocr: bool = False
    table: bool = False


def page_location(page: int) -> str:
    return f"p. {page}"


def assemble(sections: list[Section], boilerplate: frozenset[str] = frozenset()) -> tuple[str, tuple[Region, ...]]:
    """The cleaned document text of ``sections`` and the region of each section that kept any text."""
    parts: list[str] = []
    regions: list[Region] = []
    position = 0
    for section in sections:
        text = section.text.strip() if section.table else clean_text(section.text, boilerplate=boilerplate).text
        if not text.strip():
            continue
        if parts:
            position += len(SECTION_SEPARATOR)
        parts.append(text)
        regions.append(Region(position, position + len(text), page=section.page, location=section.location,
                              ocr=section.ocr, table=section.table))
        position += len(text)
    return SECTION_SEPARATOR.join(parts), tuple(regions)


def sections_text(sections: list[Section]) -> str:
    """The raw (uncleaned) text of all sections: what boilerplate detection and emptiness checks look at."""
    return SECTION_SEPARATOR.join(s.text.strip() for s in sections if s.text.strip())
