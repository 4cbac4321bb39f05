"""Office fixtures: the sample office documents of bench/sample_files.py; a test that needs a scan is skipped
without a CJK font."""

from __future__ import annotations


import pytest

from bench import sample_files
from bench.sample_files import (  # noqa: F401  (re-exported for the tests)
    SCAN_PAGES,
    TABLE_CAPTION,
    TABLE_ROWS,
    make_pptx,
    make_table_docx,
    make_table_pdf,
    make_xlsx,
    office_bomb,
)


def render_page(lines: list[str], *, dpi: int = 150):
    try:
        return sample_files.render_page(lines, dpi=dpi)
    except sample_files.MissingCJKFont as exc:
        pytest.skip(str(exc))


def make_image_pdf(pages: list[list[str]], *, dpi: int = 150) -> bytes:
    try:
        return sample_files.make_image_pdf(pages, dpi=dpi)
    except sample_files.MissingCJKFont as exc:
        pytest.skip(str(exc))


@pytest.fixture
def office_folder(tmp_path):
    """A folder with the table PDF, the Word table, the workbook and the deck (no scan: that needs the OCR model)."""
    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "公报.pdf").write_bytes(make_table_pdf())
    (folder / "摘要.docx").write_bytes(make_table_docx())
    (folder / "收入.xlsx").write_bytes(make_xlsx())
    (folder / "汇报.pptx").write_bytes(make_pptx())
    return folder
