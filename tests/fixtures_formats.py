"""Document fixtures: the sample documents of bench/sample_files.py, written to files for a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sample_files import DOCX_PARAGRAPHS, DOCX_TABLE, PDF_PAGES, make_docx, make_pdf


@pytest.fixture
def pdf_file(tmp_path) -> Path:
    path = tmp_path / "乳源旅游.pdf"
    path.write_bytes(make_pdf(PDF_PAGES, title="乳源县文化旅游"))
    return path


@pytest.fixture
def docx_file(tmp_path) -> Path:
    path = tmp_path / "翁源兰花.docx"
    path.write_bytes(make_docx(DOCX_PARAGRAPHS, title="翁源兰花产业", table=DOCX_TABLE))
    return path
