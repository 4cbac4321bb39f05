"""Word .docx files → paragraphs and tables in reading order (python-docx), and the title.

Tables become "列名：值" rows (:mod:`rag.text.tables`) in sections of their own, captioned by the short paragraph
right above them. The archive's unpacked size is checked first, so a zip bomb is refused before it is inflated.
"""

from __future__ import annotations

import io

from rag.ingest.files import DEFAULT_MAX_BYTES, DOCX_UNZIPPED_RATIO, check_zip_size, corrupt_error
from rag.ingest.layout import Section


def read_docx(data: bytes, name: str = "<docx>", max_unzipped: int = DOCX_UNZIPPED_RATIO * DEFAULT_MAX_BYTES
              ) -> tuple[str, list[Section]]:
    """The title and the non-empty sections (runs of paragraphs, tables) of a Word .docx, in reading order.

    The title is the document property if set, else the first paragraph styled "Title".
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
        raise corrupt_error(name, "Word .docx", exc, fix) from exc
    return title, [s for s in sections if s.text.strip()]
