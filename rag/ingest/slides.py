"""Read PowerPoint decks (.pptx): one section per slide, cited as "slide N", with its title, text and notes.

Shapes are read top to bottom, left to right (the order a reader's eye takes, not the order they were drawn in),
groups are opened, tables become "列名：值" rows captioned by the slide title (:mod:`rag.text.tables`), and the speaker
notes follow the slide text marked "备注：" — presenters often put the real figures there. The archive's unpacked
size is checked by the caller before this runs (zip bombs).
"""

from __future__ import annotations

import io

from rag.errors import DocumentError
from rag.ingest.layout import Section
from rag.text.tables import table_blocks

NOTES_PREFIX = "备注："


def slide_location(number: int) -> str:
    return f"slide {number}"


def read_pptx(data: bytes, name: str = "<pptx>") -> tuple[str, list[Section]]:
    """(deck title, sections of every slide with any text: its text, then each of its tables)."""
    from pptx import Presentation  # imported on use: only decks need it

    try:
        deck = Presentation(io.BytesIO(data))
        sections: list[Section] = []
        for number, slide in enumerate(deck.slides, 1):
            title_shape = slide.shapes.title
            slide_title = _text(title_shape.text_frame.text) if title_shape is not None and title_shape.has_text_frame else ""
            texts = [slide_title] if slide_title else []
            tables: list[list[list[str]]] = []
            for shape in _shapes_in_reading_order(slide.shapes):
                if title_shape is not None and shape.shape_id == title_shape.shape_id:
                    continue
                if getattr(shape, "has_table", False) and shape.has_table:
                    tables.append([[cell.text for cell in row.cells] for row in shape.table.rows])
                elif shape.has_text_frame and _text(shape.text_frame.text):
                    texts.append(_text(shape.text_frame.text))
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                notes = _text(slide.notes_slide.notes_text_frame.text)
                if notes:
                    texts.append(NOTES_PREFIX + notes)
            location = slide_location(number)
            if texts and not (tables and texts == [slide_title]):  # a bare title is the tables' caption
                sections.append(Section("\n\n".join(texts), page=number, location=location))
            for rows in tables:
                blocks = table_blocks(rows, slide_title)
                if blocks:
                    sections.append(Section("\n\n".join(blocks), page=number, location=location, table=True))
        title = (deck.core_properties.title or "").strip()
    except Exception as exc:  # python-pptx, zipfile and lxml raise many types on broken files
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:120]
        raise DocumentError(f"{name} is not a readable PowerPoint .pptx ({detail})",
                            hint="open it in PowerPoint or WPS and save it as .pptx") from exc
    return title, sections


def _shapes_in_reading_order(shapes):
    """Every shape, groups opened, sorted by top then left (shapes without a position keep their place last)."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    flat = []
    stack = list(shapes)
    while stack:
        shape = stack.pop(0)
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            stack[:0] = list(shape.shapes)
            continue
        flat.append(shape)
    big = 1 << 62
    return sorted(flat, key=lambda s: (s.top if s.top is not None else big, s.left if s.left is not None else big))


def _text(text: str) -> str:
    return "\n".join(line.strip() for line in (text or "").replace("\x0b", "\n").split("\n") if line.strip())
