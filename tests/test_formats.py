"""PDF and Word files, and every format in every encoding: what a real folder holds.

Fixtures are generated here (tests/fixtures_formats.py, from bench/sample_files.py): no binary file is committed.
"""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from bench.sample_files import (
    DOCX_PARAGRAPHS,
    DOCX_TABLE,
    PDF_PAGES,
    corrupt_copy,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_scanned_pdf,
)
from rag.ingest.documents import docx_to_text, extract_text, load_documents, pdf_to_text
from rag.ingest.files import SUPPORTED_SUFFIXES
from rag.errors import DocumentError


def test_pdf_and_docx_are_supported_types():
    assert {".pdf", ".docx"} <= SUPPORTED_SUFFIXES


# -- PDF ---------------------------------------------------------------------------------------
def test_pdf_text_layer_every_page_in_order_with_metadata_title(pdf_file):
    extracted = extract_text(pdf_file)
    assert extracted.title == "乳源县文化旅游"
    assert "乳源县2023年接待游客312万人次" in extracted.text and "大峡谷景区新建步道12公里。" in extracted.text
    assert extracted.text.index("312万") < extracted.text.index("第二页")
    assert "\n\n" in extracted.text  # pages are separate blocks


def test_pdf_without_metadata_title_is_titled_by_its_first_line(tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_bytes(make_pdf(["韶关市丹霞山申遗纪实\n丹霞山2010年列入世界自然遗产名录。"]))
    doc = load_documents([path]).documents[0]
    assert doc.title == "韶关市丹霞山申遗纪实" and "2010年" in doc.text and doc.source == "notes.pdf"


def test_blank_pdf_says_it_has_no_text(tmp_path):
    """Pages with neither a text layer nor an image to OCR: nothing to read, said in one line."""
    with pytest.raises(DocumentError, match=r"no text on any page \(no text layer, no page images\)") as excinfo:
        pdf_to_text(make_scanned_pdf(), name="scan.pdf")
    assert "print it again to PDF" in excinfo.value.hint and "scan.pdf" in excinfo.value.message


@pytest.mark.parametrize("payload", [
    corrupt_copy(make_pdf(PDF_PAGES)),
    make_pdf(PDF_PAGES)[:200],
    b"%PDF-1.7\n" + bytes(range(256)) * 4,
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    b"not a pdf at all, just text pretending",
], ids=["half-then-noise", "truncated", "garbage", "dangling-root", "plain-text"])
def test_corrupt_pdf_is_one_clear_error(payload):
    with pytest.raises(DocumentError) as excinfo:
        pdf_to_text(payload, name="broken.pdf")
    message = excinfo.value.message
    assert "broken.pdf" in message and "\n" not in message and len(message) < 220
    assert "not a readable PDF" in message or "no text layer" in message
    assert excinfo.value.hint


def test_encrypted_pdf_opens_without_user_password_and_is_refused_with_one():
    assert "公开内容" in pdf_to_text(make_encrypted_pdf("公开内容在此。", password="")).text
    with pytest.raises(DocumentError, match="password-protected"):
        pdf_to_text(make_encrypted_pdf("秘密内容在此。", password="s3cret"), name="secret.pdf")


# -- Word ---------------------------------------------------------------------------------------
def test_docx_paragraphs_tables_and_title_style(docx_file):
    extracted = extract_text(docx_file)
    assert extracted.title == "翁源兰花产业"
    for paragraph in DOCX_PARAGRAPHS:
        assert paragraph in extracted.text
    assert "指标：种植户，数值：1200户。" in extracted.text  # a table row is one line of "列名：值" pairs
    assert extracted.text.index("15亿元") < extracted.text.index("8000亩") < extracted.text.index("1200户")


def test_docx_document_property_title_wins(tmp_path):
    data = make_docx(["正文第一段内容。"], title="样式标题", core_title="属性标题")
    assert docx_to_text(data).title == "属性标题"
    assert docx_to_text(make_docx(["只有正文，没有标题。"])).title == ""


def _docx_with_part(part: str, payload: bytes) -> bytes:
    """A real .docx with one part replaced."""
    source = zipfile.ZipFile(io.BytesIO(make_docx(DOCX_PARAGRAPHS)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, payload if info.filename == part else source.read(info))
    return out.getvalue()


@pytest.mark.parametrize("payload", [
    corrupt_copy(make_docx(DOCX_PARAGRAPHS)),
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),  # an old .doc renamed .docx
    _docx_with_part("word/document.xml", b"<w:document><unclosed"),
    _docx_with_part("[Content_Types].xml", b"garbage"),
], ids=["half-then-noise", "ole-doc", "broken-xml", "broken-content-types"])
def test_corrupt_docx_is_one_clear_error(payload):
    with pytest.raises(DocumentError, match="broken.docx is not a readable Word .docx") as excinfo:
        docx_to_text(payload, name="broken.docx")
    assert "\n" not in excinfo.value.message and "save it as .docx" in excinfo.value.hint


def test_docx_zip_bomb_is_refused_before_inflating():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (8 * 1024 * 1024))  # 8 MB of zeros: ~8 kB compressed
    data = out.getvalue()
    assert len(data) < 64 * 1024
    with pytest.raises(DocumentError, match="unpacks to 8.0 MB, over the limit"):
        docx_to_text(data, name="bomb.docx", max_unzipped=1024 * 1024)


def test_docx_size_limit_comes_from_max_bytes(tmp_path):
    path = tmp_path / "big.docx"
    path.write_bytes(make_docx(["段落内容很多很多。" * 200] * 20))
    size = path.stat().st_size
    assert extract_text(path, max_bytes=size).text
    with pytest.raises(DocumentError, match="over the limit"):
        extract_text(path, max_bytes=size - 1)


# -- every text format in every encoding -------------------------------------------------------
GB_TEXT = "浈江区人才公寓已建成，投资200多万元。"
BIG5_TEXT = "臺灣鄉村振興，綠色驅動產業發展。"
SHORT = "人才驿站"


@pytest.mark.parametrize(("suffix", "encoding", "bom", "text"), [
    (".txt", "gb18030", b"", GB_TEXT),
    (".txt", "gbk", b"", SHORT),
    (".txt", "big5", b"", BIG5_TEXT),
    (".txt", "utf-16-le", codecs.BOM_UTF16_LE, SHORT),
    (".txt", "utf-16-le", b"", GB_TEXT),
    (".md", "utf-8", codecs.BOM_UTF8, GB_TEXT),
    (".md", "gbk", b"", GB_TEXT),
    (".md", "utf-16-be", codecs.BOM_UTF16_BE, BIG5_TEXT),
    (".html", "gbk", b"", GB_TEXT),
    (".html", "big5", b"", BIG5_TEXT),
    (".html", "utf-16-le", codecs.BOM_UTF16_LE, GB_TEXT),
])
def test_text_formats_in_every_encoding(tmp_path, suffix, encoding, bom, text):
    if suffix == ".html":
        body = f'<html><head><meta charset="{encoding}"><title>網頁</title></head><body><p>{text}</p></body></html>'
    elif suffix == ".md":
        body = f"# 标题\n\n{text}"
    else:
        body = text
    path = tmp_path / f"doc{suffix}"
    path.write_bytes(bom + body.encode(encoding))
    assert text in extract_text(path).text


def test_folder_of_every_format_loads_each_once(tmp_path, pdf_file, docx_file):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.txt").write_bytes(GB_TEXT.encode("gbk"))
    (folder / "b.md").write_bytes(codecs.BOM_UTF16_LE + BIG5_TEXT.encode("utf-16-le"))
    (folder / "c.html").write_bytes(f"<meta charset=big5><p>{BIG5_TEXT}</p>".encode("big5"))
    (folder / "d.pdf").write_bytes(pdf_file.read_bytes())
    (folder / "e.docx").write_bytes(docx_file.read_bytes())
    loaded = load_documents([folder])
    assert not loaded.skipped
    assert [d.source for d in loaded.documents] == ["a.txt", "b.md", "c.html", "d.pdf", "e.docx"]
    assert all(d.text.strip() for d in loaded.documents)
