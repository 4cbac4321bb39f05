"""Tables as text that keeps their structure: every row written as "列名：值" pairs under the table's caption.

A statistics table flattened into a run of cells ("乳源县 16,842 18,562 6.1") loses which number is which year, so
neither the retriever nor the answerer can tell "2022年乳源县农村居民人均可支配收入" from its neighbours. Written
as ``地区：乳源县，2021年：16842，2022年：18562。`` each row is a self-contained sentence that names its columns; long
tables are cut into blocks of rows, each block repeating the caption and small enough to be one chunk, so a cited
row always comes with what the table is about. PDF (pdfplumber), Word, HTML, Excel and PowerPoint readers all hand
their grid of cells to :func:`table_blocks`.
"""

from __future__ import annotations

import re

TABLE_BLOCK_CHARS = 400
"""A block of rows (caption included) stays under this, below the chunker's 500-character limit: one chunk."""

CAPTION_MAX_CHARS = 80
"""A line longer than this before a table is body text, not its caption."""

_SPACES = re.compile(r"\s+")
_HEADER_UNIT = re.compile(r"[（(]\s*(?:单位[：:]\s*)?([^（）()\d]{1,6})\s*[)）]\s*$")
_CAPTION_UNIT = re.compile(r"单位\s*[：:]\s*([^\s，,。；;）)]{1,6})")
_UNITLESS_COLUMN = re.compile(r"年份|年度|序号|编号|代码|排名|名次|邮编|电话|比重|增长|增速|%|％")


def cell_text(value: object) -> str:
    """One cell as text: spaces collapsed, whole floats without ``.0`` (Excel stores 2022 as 2022.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    if hasattr(value, "isoformat"):  # dates and datetimes from spreadsheets
        text = value.isoformat()
        return text[:-9] if text.endswith("T00:00:00") else text.replace("T", " ")
    return _SPACES.sub(" ", str(value)).strip()


def table_blocks(rows: list[list[object]], caption: str = "") -> list[str]:
    """The table as blocks of "列名：值" lines, each block starting with the caption (see the module docstring).

    Leading rows that hold one value only (a merged title row such as "表1 各县居民收入", or "单位：元") join the
    caption; the next row is the header. A table of a single row or column has no header: its rows are written
    as they are. Empty rows and columns are dropped.
    """
    grid = _clean_grid(rows)
    if not grid:
        return []
    captions = [caption.strip()] if caption.strip() else []
    while len(grid) > 1 and len({c for c in grid[0] if c}) == 1:
        title = next(c for c in grid[0] if c)
        if title not in captions:
            captions.append(title)
        grid = grid[1:]
    head = " ".join(captions)
    if len(grid) < 2 or len(grid[0]) < 2:
        lines = ["，".join(c for c in row if c) for row in grid]
    else:
        header, body = _header_names(grid[0]), grid[1:]
        if len(body) >= 2 and _has_merged_cells(grid[0]):  # a two-level header: "收入（元）" over "2021年 2022年"
            header = [top if top == sub or not sub else f"{top}{sub}" for top, sub in zip(header, body[0])]
            body = body[1:]
        header, units = _column_units(header, head)
        lines = [_row_line(header, row, units) for row in body]
    lines = [line for line in lines if line]
    return _pack_blocks(head, lines)


def table_text(rows: list[list[object]], caption: str = "") -> str:
    """:func:`table_blocks` joined into one text, blocks separated by a blank line."""
    return "\n\n".join(table_blocks(rows, caption))


def is_caption(line: str) -> bool:
    """A short line that can name the table below it ("表2 2022年各县农村居民人均可支配收入（单位：元）")."""
    line = line.strip()
    return 0 < len(line) <= CAPTION_MAX_CHARS and not line.endswith(("。", "；", ";", "，", ","))


def _clean_grid(rows: list[list[object]]) -> list[list[str]]:
    grid = [[cell_text(v) for v in row] for row in rows]
    grid = [row for row in grid if any(row)]
    if not grid:
        return []
    width = max(len(row) for row in grid)
    grid = [row + [""] * (width - len(row)) for row in grid]
    keep = [j for j in range(width) if any(row[j] for row in grid)]
    return [[row[j] for j in keep] for row in grid]


def _header_names(header: list[str]) -> list[str]:
    """Column names; an empty header cell is named by its position ("第3列") so its values keep a name."""
    names = []
    for j, name in enumerate(header):
        names.append(name or f"第{j + 1}列")
    return names


def _has_merged_cells(row: list[str]) -> bool:
    return any(a and a == b for a, b in zip(row, row[1:]))


def _column_units(header: list[str], caption: str) -> tuple[list[str], list[str]]:
    """(column names, unit of each column's numbers): "增长（%）" → ("增长", "%"); else the caption's "单位：元",
    except for columns of years, codes or ranks. Numbers then read "2022年：18562元", which says what they are."""
    found = _CAPTION_UNIT.search(caption)
    default = found.group(1) if found else ""
    names, units = [], []
    for name in header:
        match = _HEADER_UNIT.search(name)
        if match and name[: match.start()].strip():
            names.append(name[: match.start()].strip())
            units.append(match.group(1).strip())
        else:
            names.append(name)
            units.append("" if _UNITLESS_COLUMN.search(name) else default)
    return names, units


def _row_line(header: list[str], row: list[str], units: list[str] | None = None) -> str:
    pairs = []
    last_value = None
    for j, (name, value) in enumerate(zip(header, row)):
        if not value:
            continue
        if value == name:  # a repeated header row (tables that span pages repeat it)
            continue
        unit = units[j] if units else ""
        if unit and _is_number(value) and not value.endswith(unit):
            value += unit
        if value == last_value and len(pairs) and pairs[-1].endswith(value) and not _is_number(value):
            continue  # a merged cell repeated across columns: written once
        pairs.append(f"{name}：{value}")
        last_value = value
    if not pairs:
        return ""
    line = "，".join(pairs)
    return line if line.endswith(("。", "！", "？")) else line + "。"


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,，.]+%?", text))


def _pack_blocks(head: str, lines: list[str]) -> list[str]:
    blocks: list[str] = []
    current: list[str] = []
    size = len(head)
    for line in lines:
        if current and size + 1 + len(line) > TABLE_BLOCK_CHARS:
            blocks.append("\n".join(([head] if head else []) + current))
            current, size = [], len(head)
        current.append(line)
        size += 1 + len(line)
    if current:
        blocks.append("\n".join(([head] if head else []) + current))
    return blocks


def html_table_grid(table) -> tuple[list[list[str]], str]:
    """(cells row by row, caption) of a selectolax ``<table>`` node; ``colspan``/``rowspan`` cells fill every slot
    they cover, as merged cells do in spreadsheets. Rows of nested tables are not mixed in."""
    caption_node = table.css_first("caption")
    caption = cell_text(caption_node.text(separator=" ")) if caption_node is not None else ""
    grid: list[list[str]] = []
    pending: dict[tuple[int, int], str] = {}  # (row, column) slots taken by a rowspan from above
    rows = [tr for tr in table.css("tr") if _nearest_table(tr) == table.mem_id]
    for r, tr in enumerate(rows):
        row: list[str] = []
        column = 0
        for cell in tr.iter():
            if cell.tag not in ("td", "th"):
                continue
            while (r, column) in pending:
                row.append(pending.pop((r, column)))
                column += 1
            text = cell_text(cell.text(separator=" "))
            colspan = _span(cell.attributes.get("colspan"))
            rowspan = _span(cell.attributes.get("rowspan"))
            for c in range(column, column + colspan):
                row.append(text)
                for below in range(r + 1, r + rowspan):
                    pending[(below, c)] = text
            column += colspan
        while (r, column) in pending:
            row.append(pending.pop((r, column)))
            column += 1
        grid.append(row)
    return grid, caption


def _nearest_table(node) -> int | None:
    parent = node.parent
    while parent is not None and parent.tag != "table":
        parent = parent.parent
    return parent.mem_id if parent is not None else None


def _span(value: str | None, limit: int = 100) -> int:
    try:
        return max(1, min(int(value or 1), limit))
    except ValueError:
        return 1
