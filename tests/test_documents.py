"""Reading files: encodings, binary refusal, size limit, folder walking, HTML and Markdown extraction."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from rag.ingest.documents import extract_text, load_document, load_documents, pick_title
from rag.ingest.encodings import decode_bytes, normalize_text, read_text
from rag.ingest.files import iter_files
from rag.ingest.webpages import html_to_text
from rag.errors import DocumentError, YuanwenError

SIMPLIFIED = "乡村振兴人才驿站已收录824位各类人才。\n党建引领产业发展，“绿色驱动”赋能乡村经济新跨越！"
TRADITIONAL = "鄉村振興人才驛站已收錄824位各類人才。\n黨建引領產業發展，「綠色驅動」賦能鄉村經濟新跨越！"
SHORT_SIMPLIFIED = "乡村振兴人才驿站"  # 8 characters, no punctuation: the hard case for detectors
SHORT_TRADITIONAL = "臺灣的天氣很好"

ENCODINGS = [
    ("utf-8", SIMPLIFIED, b""),
    ("utf-8", SIMPLIFIED, codecs.BOM_UTF8),
    ("gb18030", SIMPLIFIED, b""),
    ("gbk", SIMPLIFIED, b""),
    ("gb2312", SIMPLIFIED, b""),
    ("big5", TRADITIONAL, b""),
    ("utf-16-le", SIMPLIFIED, codecs.BOM_UTF16_LE),
    ("utf-16-be", SIMPLIFIED, codecs.BOM_UTF16_BE),
    ("utf-16-le", SIMPLIFIED, b""),  # BOM-less, recognisable by the NULs of its ASCII digits and newline
    ("utf-16-be", SIMPLIFIED, b""),
    ("utf-32-le", SIMPLIFIED, codecs.BOM_UTF32_LE),
    ("utf-8", SHORT_SIMPLIFIED, b""),
    ("gbk", SHORT_SIMPLIFIED, b""),
    ("gb18030", SHORT_SIMPLIFIED, b""),
    ("utf-16-le", SHORT_SIMPLIFIED, codecs.BOM_UTF16_LE),
    ("utf-16-be", SHORT_SIMPLIFIED, codecs.BOM_UTF16_BE),
    ("big5", SHORT_TRADITIONAL, b""),
    ("gbk", "浈江区新韶镇水口村，韶关学院。", b""),  # 浈 is outside GB2312: needs the GB18030/GBK superset
]


@pytest.mark.parametrize(("encoding", "text", "bom"), ENCODINGS, ids=[f"{e}-{len(t)}{'-bom' if b else ''}" for e, t, b in ENCODINGS])
def test_read_text_detects_encoding(tmp_path, encoding, text, bom):
    path = tmp_path / "doc.txt"
    path.write_bytes(bom + text.encode(encoding))
    assert read_text(path) == text


def test_gbk_seed_article_round_trips(tmp_path, seed_raw_texts):
    for name, text in seed_raw_texts.items():
        path = tmp_path / name
        path.write_bytes(text.encode("gb18030"))
        assert read_text(path) == text, name


def test_western_legacy_encoding_still_reads(tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes("Café au lait, crème brûlée — très bon.".encode("cp1252"))
    assert read_text(path) == "Café au lait, crème brûlée — très bon."


@pytest.mark.parametrize("payload", [
    bytes(range(256)) * 4,
    b"\x89PNG\r\n\x1a\n" + bytes(200),
    b"PK\x03\x04" + bytes([0, 0, 8, 0, 1, 2, 3]) * 50,
    b"\x7fELF\x02\x01\x01" + b"\x00\x01\x02\x03\x04\x05\x06\x07" * 40,
])
def test_binary_file_is_refused(tmp_path, payload):
    path = tmp_path / "image.txt"
    path.write_bytes(payload)
    with pytest.raises(DocumentError, match="binary") as excinfo:
        read_text(path)
    assert excinfo.value.hint


def test_mostly_control_characters_is_binary():
    with pytest.raises(DocumentError, match="binary"):
        decode_bytes(bytes([1, 2, 3, 4, 5, 6, 7, 65]) * 20)


def test_size_limit_names_the_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("字" * 100, encoding="utf-8")
    with pytest.raises(DocumentError, match="over the limit of 200 bytes") as excinfo:
        read_text(path, max_bytes=200)
    assert "--max-mb" in excinfo.value.hint
    assert read_text(path, max_bytes=300) == "字" * 100


def test_normalize_text_newlines_trailing_spaces_nfc_fullwidth():
    raw = "\ufeff标题  \r\n第一段，“引号”！（括号）\u3000\rcafe\u0301 \r\n\r\n"
    assert normalize_text(raw) == "标题\n第一段，“引号”！（括号）\ncafé"


def test_iter_files_sorted_recursive_relative_hidden_skipped(tmp_path):
    (tmp_path / "b.txt").write_text("b", encoding="utf-8")
    (tmp_path / "a.md").write_text("a", encoding="utf-8")
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "c.html").write_text("<p>c</p>", encoding="utf-8")
    (tmp_path / "sub" / "d.HTM").write_text("<p>d</p>", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "e.txt").write_text("x", encoding="utf-8")
    (tmp_path / "archive.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    sources = [source for _, source in iter_files([tmp_path])]
    assert sources == ["a.md", "b.txt", "sub/d.HTM", "sub/deeper/c.html"]
    assert [s for _, s in iter_files([tmp_path / "sub" / "d.HTM"])] == ["d.HTM"]


def test_iter_files_missing_path_and_unsupported_file(tmp_path):
    with pytest.raises(YuanwenError, match="No such file") as excinfo:
        list(iter_files([tmp_path / "nope"]))
    assert excinfo.value.hint
    (tmp_path / "x.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DocumentError, match="Unsupported") as excinfo:
        list(iter_files([tmp_path / "x.doc"]))
    assert ".docx" in excinfo.value.hint


HTML_PAGE = """<!doctype html><html><head><meta charset="gbk"><title>乡村振兴新画卷 - 西江网</title>
<style>p { color: red }</style><script>var 广告 = "不要我";</script></head>
<body>
<header><div class="logo">西江网</div><ul><li>首页</li><li>新闻</li></ul></header>
<nav><a href="/">网站首页</a> | <a href="/news">新闻</a></nav>
<article>
  <header><h1>肇庆:党建引领绘就乡村振兴新画卷</h1><p>2022-07-25 来源:西江日报</p></header>
  <p>2021年全市农林牧渔产值<b>722亿元</b>、同比增长9.5%。</p>
  <p>近年来，肇庆坚持
     以党建引领。<br>第二行在这里。</p>
  <div><span>表格前</span><table><tr><td>项目</td><td>金额</td></tr></table></div>
  <!-- a comment -->
  <pre>代码  保留   空格</pre>
</article>
<aside>相关阅读：别的文章</aside>
<footer>粤ICP备09102757号 版权所有</footer>
<script>document.write("也不要我")</script>
</body></html>"""


def test_html_to_text_keeps_blocks_drops_furniture():
    title, text = html_to_text(HTML_PAGE)
    assert title == "肇庆:党建引领绘就乡村振兴新画卷"
    paragraphs = text.split("\n\n")
    assert "2021年全市农林牧渔产值722亿元、同比增长9.5%。" in paragraphs
    assert "近年来，肇庆坚持 以党建引领。\n第二行在这里。" in paragraphs
    assert "2022-07-25 来源:西江日报" in paragraphs  # the article's own header is content
    assert "代码  保留   空格" in paragraphs
    assert any("项目" in p and "金额" in p for p in paragraphs)
    for noise in ("不要我", "color", "网站首页", "相关阅读", "ICP", "a comment", "logo", "西江网\n"):
        assert noise not in text


def test_html_title_falls_back_to_title_tag():
    title, text = html_to_text("<html><head><title> 只有 标题 </title></head><body><p>正文。</p></body></html>")
    assert (title, text) == ("只有 标题", "正文。")


def test_html_file_in_declared_legacy_encoding(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(HTML_PAGE.encode("gbk"))
    document = load_document(path, "page.html")
    assert document.title == "肇庆:党建引领绘就乡村振兴新画卷"
    assert "722亿元" in document.text
    assert "ICP" not in document.text


def test_deeply_nested_html_does_not_recurse():
    html = "<div>" * 3000 + "深处的文字。" + "</div>" * 3000
    assert html_to_text(html)[1] == "深处的文字。"


def test_markdown_title_and_markers(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("\n# 乡村振兴 #\n\n## 第一节\n\n见[报告](http://x.cn/a)和![图一](i.png)，**重点**如下。\n", encoding="utf-8")
    document = load_document(path, "notes.md")
    assert document.title == "乡村振兴"
    assert document.text == "乡村振兴\n\n第一节\n\n见报告和图一，重点如下。"
    assert document.source == "notes.md" and document.path == str(path)


def test_txt_title_skips_tiny_site_label_and_truncates():
    assert pick_title("数字报\n肇庆:党建引领绘就乡村振兴新画卷\n正文") == "肇庆:党建引领绘就乡村振兴新画卷"
    long_title = pick_title("字" * 100)
    assert len(long_title) == 64 and long_title.endswith("…")
    assert pick_title("", fallback="stem") == "stem"


def test_load_documents_skips_bad_files_in_folders_and_named_ones(tmp_path):
    (tmp_path / "good.txt").write_text("标题\n\n正文内容。", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(bytes(range(256)) * 8)
    loaded = load_documents([tmp_path])
    assert [d.source for d in loaded.documents] == ["good.txt"]
    assert [source for source, _ in loaded.skipped] == ["bad.txt"]
    named = load_documents([tmp_path / "bad.txt", tmp_path / "good.txt"])
    assert [d.source for d in named.documents] == ["good.txt"]
    assert [source for source, _ in named.skipped] == ["bad.txt"]
    assert "binary" in named.skipped[0][1].message


def test_load_documents_drops_lines_repeated_across_the_collection(tmp_path):
    for i in range(4):
        (tmp_path / f"{i}.txt").write_text(f"第{i}篇文章的标题\n本页由某某融媒中心维护\n第{i}篇的正文内容在这里。", encoding="utf-8")
    loaded = load_documents([tmp_path])
    assert "本页由某某融媒中心维护" in loaded.boilerplate
    for document in loaded.documents:
        assert "融媒中心" not in document.text
        assert "正文内容" in document.text


def test_seed_documents_load_with_titles(seed_documents):
    titles = {d.source: d.title for d in seed_documents}
    assert titles["001_8996fa506ef393bb.txt"] == "改革攻坚规范治理年!乳源提升党建引领基层治理效能"
    assert titles["002_d4f151120141e1ea.txt"] == "肇庆:党建引领绘就乡村振兴新画卷"
    assert all(0 < len(t) <= 64 for t in titles.values())


def test_extract_text_unknown_suffix_is_plain_text(tmp_path):
    path = tmp_path / "a.text"
    path.write_text("x\r\ny", encoding="utf-8")
    assert extract_text(Path(path)).text == "x\ny"
