"""Sample documents built on the fly, for the tests and the benchmarks: PDFs with a real text layer, scanned
(image-only) PDFs, Word files and the broken variants of each; a scanned PDF (Chinese text rendered to an image),
a PDF with a ruled table, a Word file with a captioned table, a workbook with merged cells and formulas, a deck
with a table and speaker notes (statistics-bulletin style, like the public documents the tables feature is for).
Nothing binary is committed.
"""

from __future__ import annotations

import glob
import io

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points


def make_pdf(pages: list[str], *, title: str = "") -> bytes:
    """A PDF whose pages hold ``pages`` (one text line per ``\\n``) as a text layer any extractor can read.

    Text is shown with a Type0 font in Identity-H encoding (two bytes per character = its UTF-16 code) and a
    ToUnicode CMap that maps each used code back to the character: the way CJK PDFs from Word or WPS are built,
    minus the embedded glyphs (extraction never needs them). BMP characters only.
    """
    streams = [b"BT /F1 12 Tf 16 TL 50 %d Td\n" % (PAGE_HEIGHT - 60)
               + b"".join(b"<" + line.encode("utf-16-be").hex().upper().encode() + b"> Tj T*\n"
                          for line in page.split("\n")) + b"ET" for page in pages]
    return pdf_from_streams(streams, {ch for page in pages for ch in page if ch != "\n"}, title=title)


def pdf_from_streams(streams: list[bytes], chars: set[str], *, title: str = "") -> bytes:
    """A PDF of one page per content stream; the streams show text with font /F1 (see :func:`make_pdf`) as
    UTF-16 hex strings of the ``chars`` given, and may draw lines."""
    chars = sorted(chars)
    if any(ord(ch) > 0xFFFF for ch in chars):
        raise ValueError("make_pdf handles BMP characters only")
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes) -> bytes:
        return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

    catalog = add(b"")  # filled in once the page tree exists
    tree = add(b"")
    cmap = (b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + b"".join(b"%d beginbfchar\n" % len(chars[i:i + 100])
                       + b"".join(b"<%04X> <%04X>\n" % (ord(c), ord(c)) for c in chars[i:i + 100])
                       + b"endbfchar\n" for i in range(0, len(chars), 100))
            + b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
    to_unicode = add(stream(cmap))
    descriptor = add(b"<< /Type /FontDescriptor /FontName /SimSun /Flags 4 /FontBBox [0 -200 1000 900] "
                     b"/ItalicAngle 0 /Ascent 900 /Descent -200 /CapHeight 700 /StemV 80 >>")
    cid_font = add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDSystemInfo << /Registry (Adobe) "
                   b"/Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW 1000 >>" % descriptor)
    font = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
               b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid_font, to_unicode))
    kids = []
    for page_stream in streams:
        content = add(stream(page_stream))
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 %d 0 R >> "
                        b">> /Contents %d 0 R >>" % (tree, PAGE_WIDTH, PAGE_HEIGHT, font, content)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                         + b"] /Count %d >>" % len(kids))
    info = add(b"<< /Title <FEFF" + title.encode("utf-16-be").hex().upper().encode() + b"> >>") if title else 0

    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog) + (b" /Info %d 0 R" % info if info else b"")
    out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def make_scanned_pdf(n_pages: int = 2) -> bytes:
    """A PDF of blank pages: what a scanner produces, minus the page images — no text layer at all."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(n_pages):
        writer.add_blank_page(PAGE_WIDTH, PAGE_HEIGHT)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_encrypted_pdf(text: str, password: str) -> bytes:
    """``make_pdf([text])`` encrypted with a user password (RC4, which pypdf reads without extra packages)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([text]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(paragraphs: list[str], *, title: str = "", table: list[list[str]] | None = None,
              core_title: str = "") -> bytes:
    """A Word .docx: an optional "Title"-styled first paragraph, body paragraphs, then an optional table."""
    import docx

    document = docx.Document()
    if title:
        document.add_heading(title, level=0)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    if core_title:
        document.core_properties.title = core_title
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def corrupt_copy(data: bytes) -> bytes:
    """The first half of a file followed by noise: what an interrupted download or a bad disk leaves."""
    return data[: len(data) // 2] + bytes(range(256))


PDF_PAGES = ["乳源县文化旅游发展\n乳源县2023年接待游客312万人次，\n旅游收入增长18%。",
             "第二页\n大峡谷景区新建步道12公里。"]
DOCX_PARAGRAPHS = ["翁源县兰花产业年产值达到15亿元。", "全县兰花种植面积超过8000亩。"]
DOCX_TABLE = [["指标", "数值"], ["种植户", "1200户"]]


class MissingCJKFont(RuntimeError):
    """No font to render Chinese text into a page image (tests skip, benchmarks stop with this message)."""


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
    """A Noto CJK font file (Debian's fonts-noto-cjk, installed by `make browser`); MissingCJKFont without one."""
    for pattern in ("/usr/share/fonts/**/NotoSansCJK-Regular.ttc", "/usr/share/fonts/**/NotoSerifCJK-Regular.ttc",
                    "/usr/share/fonts/**/*CJK*.tt[cf]"):
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    raise MissingCJKFont("no Noto CJK font to render the scan with (make browser installs fonts-noto-cjk)")


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
