"""Office-style fixtures built on the fly: a scanned PDF (Chinese text rendered to an image and back to PDF), a PDF
with a ruled table in its text layer, a Word file with a captioned table, a workbook with merged cells and
formulas, and a deck with a table and speaker notes. Statistics-bulletin style, like the public documents the
tables feature is for. Nothing binary is committed.
"""

from __future__ import annotations

import glob
import io

import pytest

from tests.fixtures_formats import PAGE_HEIGHT, PAGE_WIDTH, pdf_from_streams

TABLE_CAPTION = "表1 2022年各县农村居民人均可支配收入（单位：元）"
TABLE_ROWS = [["地区", "2021年", "2022年", "增长（%）"],
              ["乳源县", "16842", "18562", "10.2"],
              ["翁源县", "17130", "18395", "7.4"],
              ["新丰县", "16511", "17790", "7.7"]]

SCAN_PAGES = [
    ["乳源瑶族自治县2022年国民经济和社会发展统计公报",
     "全县地区生产总值达到152.3亿元，比上年增长4.6%。",
     "其中第一产业增加值26.8亿元，第二产业增加值58.1亿元。"],
    ["全年接待游客410万人次，旅游总收入38.6亿元。",
     "南水湖国家湿地公园新建环湖绿道28公里。",
     "全县森林覆盖率达到73.5%，空气质量优良天数比例为98.9%。"],
]


def cjk_font_path() -> str:
    """A Noto CJK font file (Debian's fonts-noto-cjk, installed by `make browser`), or skip the test."""
    for pattern in ("/usr/share/fonts/**/NotoSansCJK-Regular.ttc", "/usr/share/fonts/**/NotoSerifCJK-Regular.ttc",
                    "/usr/share/fonts/**/*CJK*.tt[cf]"):
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    pytest.skip("no Noto CJK font to render the scan with (make browser installs fonts-noto-cjk)")


def render_page(lines: list[str], *, dpi: int = 150):
    """An A4 page image with ``lines`` in 14-point black text on white, as a 150 dpi office scanner gives it."""
    from PIL import Image, ImageDraw, ImageFont

    scale = dpi / 72
    image = Image.new("RGB", (int(PAGE_WIDTH * scale), int(PAGE_HEIGHT * scale)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(cjk_font_path(), int(14 * scale), index=2)  # index 2: the Simplified Chinese face
    y = int(72 * scale)
    for line in lines:
        draw.text((int(60 * scale), y), line, fill="black", font=font)
        y += int(28 * scale)
    return image


def make_image_pdf(pages: list[list[str]], *, dpi: int = 150) -> bytes:
    """A scanned PDF: every page is only an image of its rendered lines, no text layer at all."""
    images = [render_page(lines, dpi=dpi) for lines in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()


def make_table_pdf(caption: str = TABLE_CAPTION, rows: list[list[str]] = TABLE_ROWS, *,
                   intro: str = "第一页\n本页是统计公报的正文。", after: str = "注：数据来源于住户调查。") -> bytes:
    """Two pages: prose on page 1; on page 2 a caption, a table ruled with lines, and a note under it."""
    page1 = _text_ops(intro.split("\n"), 50, PAGE_HEIGHT - 60)
    cell_w, cell_h, x0 = 110, 24, 50
    top = PAGE_HEIGHT - 100
    ops = _text_ops([caption], x0, top + 10)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ops += _text_ops([value], x0 + c * cell_w + 6, top - (r + 1) * cell_h + 7)
    lines = b""
    for r in range(len(rows) + 1):
        y = top - r * cell_h
        lines += b"%d %d m %d %d l S\n" % (x0, y, x0 + cell_w * len(rows[0]), y)
    for c in range(len(rows[0]) + 1):
        x = x0 + c * cell_w
        lines += b"%d %d m %d %d l S\n" % (x, top, x, top - cell_h * len(rows))
    ops += _text_ops([after], x0, top - cell_h * len(rows) - 30)
    chars = {ch for text in [intro, caption, after, *(v for row in rows for v in row)] for ch in text if ch != "\n"}
    return pdf_from_streams([page1, b"0.5 w\n" + lines + ops], chars)


def _text_ops(lines: list[str], x: int, y: int) -> bytes:
    return b"BT /F1 12 Tf 16 TL %d %d Td\n" % (x, y) + b"".join(
        b"<" + line.encode("utf-16-be").hex().upper().encode() + b"> Tj T*\n" for line in lines) + b"ET\n"


def make_table_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("韶关市2022年统计公报（摘要）", level=0)
    document.add_paragraph("全市农村居民收入持续增长。")
    document.add_paragraph(TABLE_CAPTION)
    grid = document.add_table(rows=len(TABLE_ROWS), cols=len(TABLE_ROWS[0]))
    for r, row in enumerate(TABLE_ROWS):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    document.add_paragraph("注：数据来源于住户调查。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx() -> bytes:
    """A bulletin workbook as Excel saves one: a merged title row, a region merged over two rows, formulas with
    their stored values, a second sheet, and a hidden helper sheet."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("居民收入")
    sheet.merge_range("A1:D1", "表2 各县居民人均可支配收入（单位：元）")
    for c, name in enumerate(["地区", "类别", "2021年", "2022年"]):
        sheet.write(1, c, name)
    data = [("乳源县", "城镇", 32105, 33480), ("乳源县", "农村", 16842, 18562),
            ("翁源县", "城镇", 30988, 32240), ("翁源县", "农村", 17130, 18395)]
    for r, (region, kind, y1, y2) in enumerate(data, start=2):
        sheet.write(r, 1, kind)
        sheet.write_number(r, 2, y1)
        sheet.write_number(r, 3, y2)
    sheet.merge_range("A3:A4", "乳源县")
    sheet.merge_range("A5:A6", "翁源县")
    sheet.write(6, 0, "合计")
    sheet.write_formula(6, 2, "=SUM(C3:C6)", None, sum(d[2] for d in data))
    sheet.write_formula(6, 3, "=SUM(D3:D6)", None, sum(d[3] for d in data))
    other = book.add_worksheet("旅游")
    other.write_row(0, 0, ["景区", "2022年接待游客（万人次）"])
    other.write_row(1, 0, ["南岭国家森林公园", 86.5])
    other.write_row(2, 0, ["大峡谷景区", 64.2])
    hidden = book.add_worksheet("辅助")
    hidden.write_row(0, 0, ["隐藏的辅助数据", 1])
    hidden.hide()
    book.close()
    return out.getvalue()


def make_pptx() -> bytes:
    """Three slides: a title slide, a slide with bullet text and notes, and a slide with a table."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "乳源县2022年工作汇报"
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "乳源县2022年工作汇报"
    first.placeholders[1].text = "县统计局"
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "生态建设"
    second.placeholders[1].text = "南水湖湿地保护\n森林覆盖率稳步提高"
    second.notes_slide.notes_text_frame.text = "全县新增造林面积3.2万亩，森林覆盖率达到73.5%。"
    third = deck.slides.add_slide(deck.slide_layouts[5])
    third.shapes.title.text = "2022年旅游接待"
    rows = [["景区", "接待游客（万人次）"], ["南岭国家森林公园", "86.5"], ["大峡谷景区", "64.2"]]
    table = third.shapes.add_table(len(rows), 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def office_bomb(member: str, megabytes: int = 100) -> bytes:
    """An Office zip whose one part inflates to ``megabytes`` of zeros (about a thousandth of that on disk)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr(member, b"\0" * (megabytes * 1024 * 1024))
    return out.getvalue()


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
