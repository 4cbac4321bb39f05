"""Fakes for the answering tests: hand-made passages, a keyword retriever and a scripted generator.

The retriever is real BM25 (rag.store.bm25 over rag.text.tokenize tokens) over chunks made here, so the
answering path can be tested without an embedder or a built index; the generator yields
scripted text in pieces, like an engine streaming tokens.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.store.bm25 import KeywordIndex
from rag.text.language import sentence_spans
from rag.schema import Chunk, Passage, Retrieval
from rag.text.tokenize import tokenize

DOC_TEXT = (
    "青山县交通年报\n"
    "2022年，青山县改造危桥12座，新建农村公路35公里，总投资1.2亿元。全县公路总里程达到2.7万公里。\n"
    "青山县与华南农业大学、青山学院联合举办农技人员培训班，共培训农技人员320人次。\n"
    "县委书记李明华在会上指出，要继续推进“四好农村路”建设。白水镇打造竹林示范基地6000余亩。\n"
)


def make_chunks(text: str, source: str, title: str, max_chars: int = 400) -> list[Chunk]:
    """One chunk per line, long lines cut at sentence ends (offsets into ``text``)."""
    chunks: list[Chunk] = []
    pos = 0
    for paragraph, line in enumerate(text.split("\n")):
        start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        pieces: list[tuple[int, int]] = []
        for a, b in sentence_spans(line):
            if pieces and b - pieces[-1][0] <= max_chars:
                pieces[-1] = (pieces[-1][0], b)
            else:
                pieces.append((a, b))
        for a, b in pieces:
            chunks.append(
                Chunk(
                    id=f"{source}:{start + a}",
                    source=source,
                    title=title,
                    paragraph=paragraph,
                    start=start + a,
                    end=start + b,
                    text=line[a:b],
                )
            )
    return chunks


class KeywordRetriever:
    """``search(query, k)`` by BM25 over jieba tokens, with the details keys of rag.retrieve.retrieval."""

    def __init__(self, chunks: list[Chunk]):
        self.chunks = chunks
        self.keywords = KeywordIndex.build([tokenize(c.text) for c in chunks])
        self.queries: list[str] = []

    @classmethod
    def from_folder(cls, folder: str | Path) -> "KeywordRetriever":
        chunks = []
        for path in sorted(Path(folder).glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            chunks.extend(make_chunks(text, path.name, text.split("\n", 1)[0].strip()))
        return cls(chunks)

    def search(self, query: str, k: int = 5) -> list[Passage]:
        self.queries.append(query)
        ranked = self.keywords.search(tokenize(query), k)
        return [
            Passage(chunk=self.chunks[row], score=score, bm25=score, details={"bm25_rank": rank})
            for rank, (row, score) in enumerate(ranked, 1)
        ]

    def retrieve(self, query: str, k: int = 5) -> Retrieval:
        return Retrieval(query=query, passages=self.search(query, k))


class ScriptedGenerator:
    """A Generator that streams a fixed reply in small pieces and records the messages it got."""

    name = "scripted"

    def __init__(self, reply: str, model: str = "fake-model", piece: int = 3):
        self.reply = reply
        self.model = model
        self.piece = piece
        self.calls: list[list[dict]] = []

    def stream(self, messages, *, max_tokens=256, temperature=0.0, stop=None):
        self.calls.append(messages)
        for i in range(0, len(self.reply), self.piece):
            yield self.reply[i : i + self.piece]


def passage_from(text: str, *, source: str = "doc.txt", start: int = 100, score: float = 1.0,
                 dense: float | None = None, bm25: float | None = None) -> Passage:
    """A hand-made passage whose chunk starts at ``start`` in its document."""
    chunk = Chunk(id=f"{source}:{start}", source=source, title=source, paragraph=0, start=start,
                  end=start + len(text), text=text)
    return Passage(chunk=chunk, score=score, dense=dense, bm25=bm25)


@pytest.fixture
def doc_chunks() -> list[Chunk]:
    return make_chunks(DOC_TEXT, "qingshan.txt", "青山县交通年报")


@pytest.fixture
def keyword_retriever(doc_chunks) -> KeywordRetriever:
    return KeywordRetriever(doc_chunks)


@pytest.fixture
def road_passages(doc_chunks) -> list[Passage]:
    """The document's chunks as passages, in document order."""
    return [Passage(chunk=c, score=1.0 / (i + 1), bm25=1.0) for i, c in enumerate(doc_chunks)]
