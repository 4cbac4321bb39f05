"""Scans, tables, workbooks and decks through the real stack: the bundled OCR model, the e5 embedder, hybrid
retrieval and the extractive answerer (no LLM). Every question is answered and cited with the right page, sheet or
slide. Slow (real models): run by `make test`, skipped by `make test-fast`.
"""

from __future__ import annotations

import pytest

from rag.app.cli import main
from rag.ingest.documents import extract_text
from rag.ingest.ocr import character_accuracy
from rag.answer.pipeline import Pipeline
from rag.app.builder import make_retriever
from rag.app.config import Settings
from tests.fixtures_office import (SCAN_PAGES, make_image_pdf, make_pptx, make_table_docx, make_table_pdf, make_xlsx,
                                   render_page)

pytestmark = pytest.mark.slow

IMAGE_LINES = ["新丰县佛手瓜产业简报", "全县佛手瓜种植面积达到1.2万亩，年产值4.5亿元。"]


@pytest.fixture(scope="module")
def office_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("office")
    (folder / "扫描件.pdf").write_bytes(make_image_pdf(SCAN_PAGES))
    render_page(IMAGE_LINES).save(folder / "简报.png")
    (folder / "公报.pdf").write_bytes(make_table_pdf())
    (folder / "摘要.docx").write_bytes(make_table_docx())
    (folder / "收入.xlsx").write_bytes(make_xlsx())
    (folder / "汇报.pptx").write_bytes(make_pptx())
    index = tmp_path_factory.mktemp("office-index") / "index"
    assert main(["index", str(folder), "--index", str(index)]) == 0
    return folder, index


def test_ocr_reads_the_rendered_scan_at_95_percent_character_accuracy(office_index):
    folder, _ = office_index
    extracted = extract_text(folder / "扫描件.pdf")
    assert [s.page for s in extracted.sections] == [1, 2] and all(s.ocr for s in extracted.sections)
    for section, lines in zip(extracted.sections, SCAN_PAGES):
        assert character_accuracy(section.text, "".join(lines)) >= 0.95, section.text
    image = extract_text(folder / "简报.png")
    assert character_accuracy(image.text, "".join(IMAGE_LINES)) >= 0.95


@pytest.mark.parametrize("question, evidence, where", [
    # the scan, page by page, read by OCR
    ("乳源县2022年地区生产总值是多少？", "152.3亿元", {"扫描件.pdf": "p. 1"}),
    ("南水湖国家湿地公园新建环湖绿道多少公里？", "28公里", {"扫描件.pdf": "p. 2"}),
    ("新丰县佛手瓜种植面积有多少？", "1.2万亩", {"简报.png": "OCR"}),
    # table cells: the PDF table is on page 2; the Word copy of it has no pages
    ("2022年新丰县农村居民人均可支配收入是多少？", "17790", {"公报.pdf": "p. 2", "摘要.docx": ""}),
    ("2022年乳源县农村居民人均可支配收入是多少？", "18562",
     {"公报.pdf": "p. 2", "摘要.docx": "", "收入.xlsx": "sheet 居民收入"}),
    # workbook: merged region cells and a second sheet
    ("翁源县2022年城镇居民人均可支配收入是多少？", "32240", {"收入.xlsx": "sheet 居民收入"}),
    ("大峡谷景区2022年接待游客多少万人次？", "64.2", {"收入.xlsx": "sheet 旅游", "汇报.pptx": "slide 3"}),
    # deck: speaker notes
    ("乳源县新增造林面积多少万亩？", "3.2万亩", {"汇报.pptx": "slide 2"}),
])
def test_questions_are_answered_and_cited_at_the_right_place(office_index, question, evidence, where):
    _, index = office_index
    answer = Pipeline(make_retriever(Settings(index=str(index))), None, k=5).ask(question)
    assert not answer.refused, (question, answer.answer, answer.details.get("refusal"))
    assert evidence in answer.answer, (question, answer.answer)
    supporting = [c for c in answer.citations if evidence in c.text]
    assert supporting, (question, answer.citations)
    for citation in supporting:
        assert citation.source in where and citation.location == where[citation.source], citation
        assert citation.page == (int(citation.location[3:]) if citation.location.startswith("p. ") else
                                 int(citation.location[6:]) if citation.location.startswith("slide ") else None)
    ocr_sources = {"扫描件.pdf", "简报.png"}
    cited = {p.chunk.source: p.chunk.ocr for p in answer.passages if p.chunk.source in {c.source for c in supporting}}
    assert all(flag == (source in ocr_sources) for source, flag in cited.items())


def test_a_scan_uploaded_in_the_ui_is_ocred_with_page_progress(ui_backend, tmp_path):
    import types

    from ui.app import upload

    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(make_image_pdf(SCAN_PAGES))
    calls = []
    status = upload(ui_backend, [types.SimpleNamespace(name=str(scan), orig_name=scan.name)],
                    progress=lambda value=None, desc="", unit="": calls.append((desc, unit, value)))
    assert "扫描件.pdf" in status, status
    ocr = [(unit, value) for desc, unit, value in calls if desc == "OCR 扫描件.pdf"]
    assert ocr and ocr[-1] == ("pages", (2, 2)) and all(unit == "pages" for unit, _ in ocr)
    assert "扫描件.pdf" in [d.source for d in ui_backend.documents()]
