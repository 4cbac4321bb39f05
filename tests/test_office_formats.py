"""Tables, workbooks, decks, scans and page-aware provenance (fast: no OCR model, fake embedder)."""

from __future__ import annotations

import json

import pytest

from rag.ingest.chunking import chunk_document
from rag.app.cli import main
from rag.ingest.documents import extract_text, load_documents
from rag.errors import DocumentError
from rag.ingest.ocr import OcrLine, reading_order_text
from rag.text.tables import TABLE_BLOCK_CHARS, table_blocks
from tests.fixtures_office import (TABLE_CAPTION, make_pptx, make_table_docx, make_table_pdf, make_xlsx,
                                   office_bomb)

SHAOGUAN_ROW = "地区：乳源县，2021年：16842元，2022年：18562元，增长：10.2%。"  # units from caption and header


def _chunks(folder):
    loaded = load_documents([folder])
    assert not loaded.skipped, loaded.skipped
    return {doc.source: chunk_document(doc) for doc in loaded.documents}


# -- tables -------------------------------------------------------------------------------------
def test_table_rows_name_their_columns_under_the_caption():
    rows = [["表3 各县粮食产量", None, None], ["单位：万吨", None, None], ["地区", "2021年", "2022年"],
            ["乳源县", 8.1, 8.4], ["翁源县", 12.0, None]]
    [block] = table_blocks(rows, caption="韶关统计公报")
    lines = block.split("\n")
    assert lines[0] == "韶关统计公报 表3 各县粮食产量 单位：万吨"
    assert lines[1] == "地区：乳源县，2021年：8.1万吨，2022年：8.4万吨。"  # the caption's unit on every number
    assert lines[2] == "地区：翁源县，2021年：12万吨。"  # an empty cell is left out, 12.0 is written as Excel shows it


def test_two_level_headers_are_joined_and_long_tables_cut_into_captioned_blocks():
    rows = [["地区", "人均收入（元）", "人均收入（元）"], ["地区", "2021年", "2022年"]]
    rows += [[f"第{i}镇", str(10000 + i), str(11000 + i)] for i in range(60)]
    blocks = table_blocks(rows, caption="表4 各镇人均收入")
    assert len(blocks) > 1
    assert all(b.startswith("表4 各镇人均收入\n") and len(b) <= TABLE_BLOCK_CHARS for b in blocks)
    assert "地区：第0镇，人均收入（元）2021年：10000，人均收入（元）2022年：11000。" in blocks[0]
    assert sum(b.count("\n") for b in blocks) == 60  # every row once


def test_pdf_table_becomes_rows_on_its_page(tmp_path):
    (tmp_path / "公报.pdf").write_bytes(make_table_pdf())
    chunks = _chunks(tmp_path)["公报.pdf"]
    table = [c for c in chunks if SHAOGUAN_ROW in c.text]
    assert len(table) == 1 and table[0].text.startswith(TABLE_CAPTION)
    assert table[0].page == 2 and table[0].location == "p. 2"
    assert [c.page for c in chunks if "本页是统计公报的正文" in c.text] == [1]
    note = [c for c in chunks if "数据来源于住户调查" in c.text]
    assert note and note[0].page == 2 and SHAOGUAN_ROW not in note[0].text  # text under the table stays apart


def test_docx_table_is_captioned_rows_of_its_own(tmp_path):
    (tmp_path / "摘要.docx").write_bytes(make_table_docx())
    chunks = _chunks(tmp_path)["摘要.docx"]
    [table] = [c for c in chunks if SHAOGUAN_ROW in c.text]
    assert table.text.startswith(TABLE_CAPTION + "\n") and "全市农村居民收入持续增长" not in table.text
    assert table.page is None and table.location == ""


def test_html_table_with_merged_cells_and_caption(tmp_path):
    html = ("<html><body><h1>统计公报</h1><p>正文段落，介绍全县经济运行情况。</p><table>"
            "<caption>表5 城乡居民收入</caption>"
            "<tr><th>地区</th><th>类别</th><th>2022年</th></tr>"
            "<tr><td rowspan='2'>乳源县</td><td>城镇</td><td>33480</td></tr>"
            "<tr><td>农村</td><td>18562</td></tr>"
            "<tr><td colspan='2'>合计</td><td>52042</td></tr></table></body></html>")
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    text = extract_text(tmp_path / "page.html").text
    assert "表5 城乡居民收入\n地区：乳源县，类别：城镇，2022年：33480。\n地区：乳源县，类别：农村，2022年：18562。" in text
    assert "地区：合计，2022年：52042。" in text  # a colspan cell written once
    assert "正文段落" in text
    [table] = [c for c in _chunks(tmp_path)["page.html"] if "18562" in c.text]  # a chunk of its own, captioned
    assert table.text.startswith("表5 城乡居民收入\n") and "正文段落" not in table.text


def test_xlsx_values_not_formulas_merged_cells_filled_hidden_sheets_left_out(tmp_path):
    (tmp_path / "收入.xlsx").write_bytes(make_xlsx())
    chunks = _chunks(tmp_path)["收入.xlsx"]
    text = "\n".join(c.text for c in chunks)
    assert "地区：乳源县，类别：农村，2021年：16842元，2022年：18562元。" in text  # A3:A4 merged: both rows say 乳源县
    assert "地区：合计，2021年：97065元，2022年：102677元。" in text and "SUM" not in text  # stored formula values
    assert "隐藏的辅助数据" not in text
    by_sheet = {c.location: c for c in chunks}
    assert set(by_sheet) == {"sheet 居民收入", "sheet 旅游"}
    assert by_sheet["sheet 旅游"].text.startswith("旅游\n景区：南岭国家森林公园，2022年接待游客：86.5万人次。")
    assert all(c.page is None for c in chunks)


def test_pptx_slides_with_titles_notes_and_tables(tmp_path):
    (tmp_path / "汇报.pptx").write_bytes(make_pptx())
    chunks = _chunks(tmp_path)["汇报.pptx"]
    [ecology] = [c for c in chunks if "生态建设" in c.text]
    assert ecology.page == 2 and ecology.location == "slide 2"
    assert "备注：全县新增造林面积3.2万亩，森林覆盖率达到73.5%。" in ecology.text
    [tourism] = [c for c in chunks if "大峡谷景区" in c.text]
    assert tourism.page == 3 and tourism.text.startswith("2022年旅游接待\n景区：南岭国家森林公园，接待游客：86.5万人次。")
    assert load_documents([tmp_path]).documents[0].title == "乳源县2022年工作汇报"


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, member", [("bomb.xlsx", "xl/worksheets/sheet1.xml"),
                                          ("bomb.pptx", "ppt/slides/slide1.xml")])
def test_zip_bombs_are_refused_before_unpacking(tmp_path, name, member):
    (tmp_path / name).write_bytes(office_bomb(member, 80))
    with pytest.raises(DocumentError, match=r"unpacks to 80\.0 MB, over the limit"):
        extract_text(tmp_path / name, max_bytes=1024 * 1024)


def test_image_bomb_is_refused_by_its_pixel_count(tmp_path):
    from PIL import Image

    Image.new("1", (12000, 6000)).save(tmp_path / "huge.png")  # 72 MP of white: a few KB on disk
    with pytest.raises(DocumentError, match=r"12000×6000 pixels, over the limit of 60 MP"):
        extract_text(tmp_path / "huge.png")


def test_broken_office_files_are_skipped_with_a_reason_and_the_rest_indexed(tmp_path):
    (tmp_path / "good.xlsx").write_bytes(make_xlsx())
    (tmp_path / "broken.xlsx").write_bytes(make_xlsx()[:400])
    (tmp_path / "broken.pptx").write_bytes(b"PK\x03\x04" + bytes(100))
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(100))
    loaded = load_documents([tmp_path])
    assert [d.source for d in loaded.documents] == ["good.xlsx"]
    reasons = {source: exc.message for source, exc in loaded.skipped}
    assert "not a readable Excel .xlsx" in reasons["broken.xlsx"]
    assert "not a readable PowerPoint .pptx" in reasons["broken.pptx"]
    assert "Unsupported file type .xls" in reasons["old.xls"]
    assert "save it as .xlsx" in dict(loaded.skipped)["old.xls"].hint


# -- OCR reading order (the model itself runs in the slow tests) ------------------------------------
def test_ocr_lines_are_read_in_rows_and_paragraphs():
    lines = [OcrLine("第二段开头", 0.9, (50, 300, 300, 330)),
             OcrLine("右栏", 0.9, (400, 102, 480, 128)), OcrLine("标题行", 0.9, (50, 100, 300, 130)),
             OcrLine("第一段", 0.9, (50, 140, 300, 170)), OcrLine("GDP", 0.9, (50, 180, 100, 210)),
             OcrLine("152.3", 0.9, (110, 181, 200, 209))]
    assert reading_order_text(lines) == "标题行右栏\n第一段\nGDP 152.3\n\n第二段开头"


def test_ocr_pool_keeps_page_order_and_reports_progress(monkeypatch):
    import time

    from rag.ingest import ocr

    def fake(image):
        time.sleep(0.02 * (3 - image))  # later pages finish first
        return ocr.OcrPage(1, 1, (OcrLine(f"第{image}页", 0.9, (0, 0, 1, 1)),))

    monkeypatch.setattr(ocr, "recognise", fake)
    seen = []
    pages = ocr.recognise_pages(iter(range(3)), 3, progress=lambda done, total: seen.append((done, total)),
                                workers=2)
    assert [p.text for p in pages] == ["第0页", "第1页", "第2页"]
    assert seen[0] == (0, 3) and seen[-1] == (3, 3) and len(seen) == 4


# -- provenance through the index, the CLI and the answer ------------------------------------------
def test_search_json_gives_page_and_location(office_folder, tmp_path, tiny_st_model_dir, capsys):
    index = tmp_path / "idx"
    assert main(["index", str(office_folder), "--index", str(index), "--embedder", str(tiny_st_model_dir)]) == 0
    capsys.readouterr()
    assert main(["search", "2022年乳源县农村居民人均可支配收入", "--index", str(index), "--json", "-k", "8", "--retriever", "bm25"]) == 0
    passages = json.loads(capsys.readouterr().out)["passages"]
    pdf = [p for p in passages if p["source"] == "公报.pdf" and SHAOGUAN_ROW in p["text"]]
    assert pdf and pdf[0]["page"] == 2 and pdf[0]["location"] == "p. 2" and pdf[0]["ocr"] is False
    sheet = [p for p in passages if p["source"] == "收入.xlsx"]
    assert sheet and sheet[0]["location"] == "sheet 居民收入" and sheet[0]["page"] is None
    assert main(["search", "森林覆盖率 备注", "--index", str(index), "-k", "8", "--retriever", "bm25"]) == 0
    assert "汇报.pptx · slide 2" in capsys.readouterr().out


# -- the UI ------------------------------------------------------------------------------------------
def test_source_cards_show_the_page_and_an_ocr_badge_escaped():
    from rag.schema import Answer, Chunk, Citation, Passage
    from ui.render import sources_html

    text = "全县地区生产总值<b>152.3亿元</b>。"
    chunk = Chunk(id="c", source="扫描<件>.pdf", title="公报", paragraph=0, start=10, end=10 + len(text), text=text,
                  page=12, location="p. 12", ocr=True)
    other = Chunk(id="d", source="收入.xlsx", title="收入", paragraph=0, start=0, end=4, text="地区：乳源县",
                  location="sheet <居民收入>")
    cit = Citation(n=1, source=chunk.source, text=text, start=10, end=10 + len(text), page=12, location="p. 12")
    html = sources_html(Answer(question="q", answer="a [1]", refused=False, generator="extractive", model="",
                               citations=[cit], passages=[Passage(chunk, 1.0), Passage(other, 0.5)]))
    assert '<span class="yw-loc">p. 12</span>' in html and ">OCR</span>" in html
    assert "扫描&lt;件&gt;.pdf" in html and "&lt;b&gt;152.3亿元&lt;/b&gt;" in html and "<b>" not in html
    assert '<span class="yw-loc">sheet &lt;居民收入&gt;</span>' in html  # the other retrieved passage, escaped too
    assert html.count(">OCR</span>") == 1


def test_uploading_office_files_indexes_them_with_progress(ui_backend, office_folder):
    import types

    from ui.app import upload

    calls = []
    files = [types.SimpleNamespace(name=str(p), orig_name=p.name) for p in sorted(office_folder.iterdir())]
    status = upload(ui_backend, files, progress=lambda *a, **kw: calls.append(kw.get("desc")))
    assert "skipped" not in status.lower() or "0 skipped" in status.lower(), status
    assert {"公报.pdf", "收入.xlsx", "汇报.pptx", "摘要.docx"} <= {d.source for d in ui_backend.documents()}
    assert "reading files" in calls and "embedding" in calls


def test_upload_progress_counts_pages_for_ocr():
    from ui.app import progress_unit

    assert progress_unit("OCR 扫描件.pdf") == "pages" and progress_unit("reading files") == "files"
    assert progress_unit("embedding") == "passages"


def test_the_cited_pdf_page_is_shown_with_the_cited_cells_boxed(tmp_path):
    import base64
    import io as _io

    from PIL import Image

    from rag.schema import Answer, Citation
    from ui.pageview import PAGE_WIDTH_PX, page_images, page_png
    from ui.render import sources_html

    path = tmp_path / "公报.pdf"
    path.write_bytes(make_table_pdf())
    png, boxes = page_png(path, 2, SHAOGUAN_ROW)
    image = Image.open(_io.BytesIO(png))
    assert image.width == PAGE_WIDTH_PX and boxes >= 4  # the row's cells: 乳源县, 16842, 18562, 10.2 (and headers)
    # boxes are drawn: the page has yellow-orange pixels where the cells are
    assert any(r > 200 and g > 100 and b < 120 for r, g, b in image.convert("RGB").getdata())
    _, none = page_png(path, 2, "这句话不在这一页上出现")
    assert none == 0

    cit = Citation(n=1, source="公报.pdf", text=SHAOGUAN_ROW, start=0, end=len(SHAOGUAN_ROW), page=2, location="p. 2")
    other = Citation(n=2, source="摘要.docx", text="x", start=0, end=1)
    answer = Answer(question="q", answer="a [1][2]", refused=False, generator="extractive", model="",
                    citations=[cit, other])
    images = page_images(answer, {"公报.pdf": str(path)}.get)
    assert list(images) == [1] and base64.b64decode(images[1].split(",", 1)[1])[:4] == b"\x89PNG"
    assert page_images(answer, {}.get) == {}  # the file is gone: no image, no error
    html = sources_html(answer, images)
    assert '<details class="yw-page"><summary>Show the page (p. 2)</summary><img class="yw-page-img" src="data:image/png;base64,' in html
