"""Plain data records that travel along the data path.

document -> chunks -> (vectors) -> passages -> answer with citations.
They are dataclasses with a ``to_json`` that matches the CLI contract, so every
stage can be tested alone with hand-made records.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Region:
    """Where a span of a document's text came from: its page, sheet or slide, and how it was read.

    ``text[start:end]`` of the document is one page of a PDF, one slide, one table block of a sheet…; chunks never
    cross a region, so each chunk has exactly one ``page``/``location``. ``page`` is 1-based (PDF page, slide
    number), None for formats without pages; ``location`` is what a citation shows ("p. 3", "slide 2",
    "sheet 收入"); ``ocr`` marks text read from an image; ``table`` marks "列名：值" rows of a table.
    """

    start: int
    end: int
    page: int | None = None
    location: str = ""
    ocr: bool = False
    table: bool = False


@dataclass(frozen=True)
class Document:
    """A cleaned document, ready for chunking.

    ``source`` is the file name relative to the indexed folder (the CLI contract);
    ``text`` is the cleaned text that chunk spans point into; ``regions`` (for paged and tabular formats) say which
    page, sheet or slide each span of it came from.
    """

    source: str
    title: str
    text: str
    path: str = ""
    regions: tuple[Region, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``doc_text[start:end] == text``.

    ``source`` is the file name relative to its indexed folder (what users read, unique only per folder);
    ``doc_key`` names the document uniquely within the index (its absolute path; empty for hand-made chunks).
    """

    id: str
    source: str
    title: str
    paragraph: int
    start: int
    end: int
    text: str
    page: int | None = None  # 1-based page (or slide) of a paged format
    location: str = ""  # "p. 3", "slide 2", "sheet 收入": where a reader finds it in the file
    ocr: bool = False  # read from a page image by OCR
    doc_key: str = ""


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its score (higher is better), the first-stage signals the refusal checks
    read, and ranking details for diagnosis (ranks, z-scores, the reranker's score)."""

    chunk: Chunk
    score: float
    details: dict = field(default_factory=dict)
    dense: float | None = None  # cosine of question and chunk; None when the retrieval did not embed the question
    bm25: float | None = None  # BM25 score; None when the retrieval did not search by keywords

    @property
    def source(self) -> str:
        return self.chunk.source

    @property
    def text(self) -> str:
        return self.chunk.text

    def to_json(self) -> dict:
        c = self.chunk
        return {
            "source": c.source,
            "title": c.title,
            "text": c.text,
            "score": round(float(self.score), 6),
            "start": c.start,
            "end": c.end,
            "page": c.page,
            "location": c.location,
            "ocr": c.ocr,
            # not "path": a Gradio client takes a dict with a "path" for a file to download
            **({"doc_key": c.doc_key} if c.doc_key else {}),
        }


@dataclass
class Retrieval:
    """What retrieval hands to answering: the ranked passages of one query, the translated query they were
    found by (a rag.retrieve.crosslingual ``CrossLingualQuery``; None when the question was searched as written),
    the hybrid fusion's weights, and what each step took (ms)."""

    query: str
    passages: list[Passage]
    translation: object | None = None
    query_vector: object | None = None  # the embedder's vector of ``query`` as written (None: not embedded as is)
    fusion: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Citation:
    """A verified pointer from answer marker ``[n]`` to a span of passage ``n``.

    ``start``/``end`` are offsets in the cleaned document text, so a UI can
    highlight ``doc_text[start:end]``; ``text`` is that supporting span; ``passage`` is the
    retrieved passage that holds it and ``doc_key`` its document (see ``Chunk``).
    """

    n: int
    source: str
    text: str
    start: int
    end: int
    page: int | None = None
    location: str = ""
    doc_key: str = ""
    passage: Passage | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, n: int, passage: Passage, a: int, b: int) -> "Citation":
        """Marker ``n`` citing ``passage.text[a:b]``."""
        c = passage.chunk
        return cls(n=n, source=c.source, text=c.text[a:b], start=c.start + a, end=c.start + b, page=c.page,
                   location=c.location, doc_key=c.doc_key, passage=passage)

    @classmethod
    def from_json(cls, data: dict) -> "Citation":
        return cls(n=data["n"], source=data["source"], text=data["text"], start=data["start"], end=data["end"],
                   page=data.get("page"), location=data.get("location", ""), doc_key=data.get("doc_key", ""))

    def to_json(self) -> dict:
        out = {"n": self.n, "source": self.source, "text": self.text, "start": self.start, "end": self.end,
               "page": self.page, "location": self.location}
        if self.doc_key:
            out["doc_key"] = self.doc_key
        return out


@dataclass
class Answer:
    """What the pipeline returns for one question."""

    question: str
    answer: str
    refused: bool
    generator: str
    model: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    query: str = ""  # standalone (rewritten) query used for retrieval
    prompt: list[dict] | None = None  # exact messages sent to the model, if any
    details: dict = field(default_factory=dict)

    def cited_passage(self, citation: Citation) -> Passage | None:
        """The passage the citation quotes: the one it holds, else (a citation read back from JSON) the retrieved
        passage of the same document whose span holds the citation's span (both use document offsets)."""
        if citation.passage is not None:
            return citation.passage
        for p in self.passages:
            c = p.chunk
            same_document = c.doc_key == citation.doc_key if citation.doc_key else c.source == citation.source
            if same_document and c.start <= citation.start and citation.end <= c.end:
                return p
        return None

    def citation_records(self) -> list[dict]:
        """One record per citation: n, source, the document's title, the span and the quoted text."""
        out = []
        for c in self.citations:
            p = self.cited_passage(c)
            out.append({"n": c.n, "source": c.source, "title": p.chunk.title if p is not None else "",
                        "start": c.start, "end": c.end, "text": c.text})
        return out

    def to_json(self) -> dict:
        out = {
            "question": self.question,
            "query": self.query or self.question,
            "answer": self.answer,
            "refused": self.refused,
            "generator": self.generator,
            "model": self.model,
            "citations": [c.to_json() for c in self.citations],
            "passages": [p.to_json() for p in self.passages],
        }
        out.update(self.details)
        return out


def final_answer(items) -> "Answer | None":
    """The verified Answer that ends a stream of answer pieces (``Pipeline.ask_stream`` and what wraps it)."""
    answer = None
    for item in items:
        if isinstance(item, Answer):
            answer = item
    return answer
