"""Chunks: exact spans, merging of short paragraphs, headings with their paragraph, sentence splits with overlap."""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from rag.ingest.chunking import chunk_document, chunk_id, content_hash, is_heading, paragraph_pieces, paragraph_spans
from rag.schema import Document
from tests.fixtures_documents import random_document_text

SENTENCE_END = re.compile(r"[。！？；…!?;.][”’」』\"')）\]]*$")


def make_doc(text: str, source: str = "doc.txt", title: str = "标题") -> Document:
    return Document(source=source, title=title, text=text)


def check_invariants(doc: Document, chunks, target=300, max_chars=500, overlap=50):
    """What every chunking must satisfy, whatever the text."""
    covered = [False] * len(doc.text)
    previous_start = -1
    paragraphs = paragraph_spans(doc.text)
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert len(chunk.text) <= max_chars
        assert chunk.start > previous_start  # in document order, no chunk repeated
        previous_start = chunk.start
        assert chunk.source == doc.source and chunk.title == doc.title
        assert chunk.id == chunk_id(doc.source, chunk.start, chunk.text) and re.fullmatch(r"[0-9a-f]{16}", chunk.id)
        p_start, p_end = paragraphs[chunk.paragraph]
        assert p_start <= chunk.start < p_end  # ``paragraph`` is the one the chunk starts in
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    lost = "".join(ch for ch, c in zip(doc.text, covered) if not c and not ch.isspace())
    assert lost == ""  # no content character falls between chunks
    assert len({c.id for c in chunks}) == len(chunks)


@pytest.mark.parametrize("seed", range(300))
def test_random_texts_keep_invariants(seed):
    rng = random.Random(seed)
    doc = make_doc(random_document_text(rng))
    target = rng.choice([60, 150, 300])
    max_chars = target + rng.choice([0, 40, 200])
    overlap = rng.choice([0, 20, 50])
    chunks = chunk_document(doc, target_chars=target, max_chars=max_chars, overlap_chars=overlap)
    check_invariants(doc, chunks, target, max_chars, overlap)


def test_seed_documents_keep_invariants(seed_documents):
    for doc in seed_documents:
        chunks = chunk_document(doc)
        check_invariants(doc, chunks)
        assert chunk_document(doc) == chunks  # deterministic, ids stable


def test_short_paragraphs_merge_up_to_target():
    paragraphs = [f"第{i}段说明了一件事情。" * 3 for i in range(10)]  # 33 characters each, 103 for three
    doc = make_doc("\n\n".join(paragraphs))
    chunks = chunk_document(doc, target_chars=110, max_chars=200)
    assert [c.text.count("\n\n") + 1 for c in chunks] == [3, 3, 3, 1]
    assert [c.paragraph for c in chunks] == [0, 3, 6, 9]
    assert all(len(c.text) <= 110 for c in chunks)


def test_paragraph_between_target_and_max_stays_whole():
    paragraph = "这是一个较长的句子，讲述了一件完整的事情。" * 20  # 420 characters
    doc = make_doc("前言说明。\n\n" + paragraph + "\n\n结尾一句。")
    texts = [c.text for c in chunk_document(doc)]
    assert texts == ["前言说明。\n\n" + paragraph, "结尾一句。"]  # the short intro binds forward


def test_heading_starts_chunk_with_following_paragraph():
    doc = make_doc("第一段内容比较短。\n\n聚焦组织体系建设\n\n建强乡村振兴“战斗堡垒”\n\n党的报告强调了组织建设的重要性。")
    texts = [c.text for c in chunk_document(doc)]
    assert texts == ["第一段内容比较短。", "聚焦组织体系建设\n\n建强乡村振兴“战斗堡垒”\n\n党的报告强调了组织建设的重要性。"]


def test_heading_joins_first_sentences_of_a_long_paragraph():
    paragraph = "".join(f"第{i}句讲述了乡村振兴工作中的一个方面。" for i in range(40))
    doc = make_doc("人才振兴\n\n" + paragraph)
    chunks = chunk_document(doc)
    assert chunks[0].text.startswith("人才振兴\n\n第0句")
    assert all(len(c.text) <= 500 for c in chunks)


def test_short_lead_in_moves_with_the_paragraph_it_introduces():
    body = "一是搭建平台，吸纳各类精英。" + "精心构建乡村振兴人才信息库，实时更新人才动态。" * 30
    doc = make_doc("前一节的最后一段内容写在这里，长度适中，讲完了上一件事情，到此为止。" * 4
                   + "\n\n党建引领人才振兴，“金色基石”构筑乡村人才新高地。\n\n" + body)
    chunks = chunk_document(doc)
    lead = next(c for c in chunks if "金色基石" in c.text)
    assert lead.text.startswith("党建引领人才振兴") and "一是搭建平台" in lead.text


def test_long_paragraph_split_at_sentence_ends_with_overlap():
    sentences = [f"第{i}句话在这里结束了！" if i % 3 else f"短句{i}。" for i in range(80)]
    doc = make_doc("".join(sentences))
    chunks = chunk_document(doc, target_chars=100, max_chars=150, overlap_chars=20)
    assert len(chunks) > 5
    for chunk in chunks:
        assert SENTENCE_END.search(chunk.text), chunk.text  # cut at a sentence end
        assert chunk.text.startswith(("第", "短句"))  # and starting at a sentence start
        assert chunk.paragraph == 0
    overlaps = [prev.end - cur.start for prev, cur in zip(chunks, chunks[1:]) if cur.start < prev.end]
    assert overlaps, "short sentences should be repeated at the next chunk's start"
    assert all(0 < o <= 20 for o in overlaps)
    for prev, cur in zip(chunks, chunks[1:]):
        if cur.start < prev.end:  # the repeated part is whole sentences
            assert SENTENCE_END.search(doc.text[cur.start:prev.end])


def test_no_overlap_when_sentences_are_longer_than_overlap():
    doc = make_doc("".join(f"第{i}句是一个足够长的句子，它的长度超过了重叠的限制。" for i in range(40)))
    chunks = chunk_document(doc, overlap_chars=10)
    assert all(cur.start >= prev.end for prev, cur in zip(chunks, chunks[1:]))


def test_run_on_sentence_is_cut_at_clause_marks():
    doc = make_doc("，".join(["没有句号的一长串文字"] * 120))
    chunks = chunk_document(doc, target_chars=100, max_chars=150)
    check_invariants(doc, chunks, 100, 150)
    assert all(c.text.endswith(("，", "字")) for c in chunks)


def test_short_tail_of_long_paragraph_is_not_left_alone():
    doc = make_doc("".join(f"第{i}句讲述了乡村振兴工作中的一个方面。" for i in range(23)) + "完。")
    chunks = chunk_document(doc)
    assert len(chunks[-1].text) > 50


def test_paragraph_pieces_respect_quotes_and_decimals():
    text = "他说：“我们做到了！”增长了3.5%。See www.x.cn now. 好吗？"
    sentences = [text[s:e] for s, e in paragraph_pieces(text, 0, len(text), 500)]
    assert sentences == ["他说：“我们做到了！”", "增长了3.5%。", "See www.x.cn now.", "好吗？"]


@pytest.mark.parametrize(("text", "heading"), [
    ("聚焦组织体系建设", True),
    ("建强乡村振兴“战斗堡垒”", True),
    ("党建先行 党员干部奋斗一线", True),
    ("一是强化核心，提升领导力。", False),
    ("他说：“做到了！”", False),
    ("如下：", False),
    ("这是一个很长的标题，" + "字" * 40, False),
])
def test_is_heading(text, heading):
    assert is_heading(text) is heading


def test_content_hash_and_ids():
    assert content_hash("乡村振兴") == hashlib.sha1("乡村振兴".encode()).hexdigest()
    doc = make_doc("同样的段落。")
    a = chunk_document(doc)[0]
    b = chunk_document(make_doc("同样的段落。", source="other.txt"))[0]
    assert a.id != b.id and a.text == b.text


def test_empty_and_whitespace_documents():
    assert chunk_document(make_doc("")) == []
    assert chunk_document(make_doc(" \n\n \n")) == []


def test_invalid_sizes_rejected():
    with pytest.raises(ValueError):
        chunk_document(make_doc("文字。"), target_chars=600, max_chars=500)
