"""Document fixtures built on the fly: PDFs with a real text layer, scanned (image-only) PDFs, Word files, and the
broken variants of each. Nothing binary is committed; ``bench/ingest_mixed.py`` builds its folder with these too.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

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
