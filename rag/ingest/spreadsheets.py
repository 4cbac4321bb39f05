"""Read Excel workbooks (.xlsx): every visible sheet as a table of "列名：值" rows, cited by its sheet name.

Values, not formulas: a formula cell gives the value Excel (or WPS) stored when the file was last saved. Merged
cells are filled into every cell they cover, so a region name merged over three rows labels all three. A sheet's
merged title row ("表1 2022年各县农村居民人均可支配收入") and its name become the caption of its rows
(:mod:`rag.text.tables`). The archive's unpacked size is checked by the caller before this runs (zip bombs); sheets
larger than :data:`MAX_SHEET_CELLS` are refused here, before their cells are read.
"""

from __future__ import annotations

import io
import re
import warnings

from rag.errors import DocumentError
from rag.ingest.layout import Section
from rag.text.tables import table_blocks

MAX_SHEET_CELLS = 2_000_000
"""A sheet spanning more cells than this is a data dump, not a document: refused with a hint to split it."""

_DEFAULT_SHEET_NAME = re.compile(r"^(?:Sheet|工作表|表)\s*\d+$", re.IGNORECASE)


def sheet_location(name: str) -> str:
    return f"sheet {name}"


def read_xlsx(data: bytes, name: str = "<xlsx>") -> tuple[str, list[Section]]:
    """(workbook title, one table section per visible, non-empty sheet)."""
    import openpyxl  # imported on use: only workbooks need it

    fix = "open it in Excel or WPS and save it as .xlsx"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about every extension it does not read
            workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl, zipfile and lxml raise many types on broken files
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:120]
        raise DocumentError(f"{name} is not a readable Excel .xlsx ({detail})", hint=fix) from exc
    sections = []
    try:
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            cells = (sheet.max_row or 0) * (sheet.max_column or 0)
            if cells > MAX_SHEET_CELLS:
                raise DocumentError(
                    f"{name}: sheet {sheet.title} spans {sheet.max_row:,} rows × {sheet.max_column:,} columns, over "
                    f"the limit of {MAX_SHEET_CELLS:,} cells", hint="split the sheet, or export the part that matters")
            grid = [list(row) for row in sheet.iter_rows(values_only=True)]
            for merged in sheet.merged_cells.ranges:
                value = grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(grid) else None
                for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
                    for c in range(merged.min_col - 1, min(merged.max_col, len(grid[r]))):
                        grid[r][c] = value
            caption = "" if _DEFAULT_SHEET_NAME.match(sheet.title) else sheet.title
            blocks = table_blocks(grid, caption)
            if blocks:
                sections.append(Section("\n\n".join(blocks), location=sheet_location(sheet.title), table=True))
        title = (workbook.properties.title or "").strip()
    finally:
        workbook.close()
    return title, sections
