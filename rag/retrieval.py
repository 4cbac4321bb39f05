"""Retrieval: dense (FAISS), keyword (jieba BM25) and their fusion.

Neither signal wins everywhere: BM25 is best when the question shares rare words (names,
numbers) with the passage, dense when the wording differs or the question is in another
language. The default ``hybrid`` fuses both rankings with weighted reciprocal-rank fusion
and lets a signal count only when it is confident (a BM25 ranking built from no known query
term, e.g. an English question over Chinese text, contributes nothing), then drops
near-duplicate passages so the same scraped sentence does not fill the top k.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .errors import YuanwenError
from .index import Index
from .schema import Passage
from .tokenize import tokenize

MODES = ("dense", "bm25", "hybrid")
DEFAULT_MODE = "hybrid"


@dataclass
class FusionConfig:
    """Weighted reciprocal-rank fusion. Chosen on the dev sets (see docs/retrieval.md)."""

    rrf_k: float = 60.0
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 50  # depth read from each ranking
    dedup_threshold: float = 0.9  # char-bigram containment above which a passage is a near-duplicate


class Retriever:
    """``search(query, k)`` → passages ranked best first."""

    def __init__(self, index: Index, embedder=None, *, mode: str = DEFAULT_MODE,
                 fusion: FusionConfig | None = None):
        if mode not in MODES:
            raise YuanwenError(f"unknown retriever '{mode}'", f"choose one of: {', '.join(MODES)}")
        if mode in ("dense", "hybrid") and embedder is None:
            raise YuanwenError(f"retriever '{mode}' needs an embedder", "pass one, or use --retriever bm25")
        if embedder is not None:
            index.check_dim(embedder.dim, embedder.name)
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self.fusion = fusion or FusionConfig()
        self.last_timings: dict[str, float] = {}

    # -- the two signals -------------------------------------------------------------
    def dense_ranking(self, query: str, depth: int) -> list[tuple[int, float]]:
        vec = self.embedder.embed_queries([query])[0]
        return self.index.vectors.search(vec, depth)

    def bm25_ranking(self, query: str, depth: int) -> list[tuple[int, float]]:
        return self.index.keywords.search(tokenize(query), depth)

    # -- fusion ------------------------------------------------------------------------
    def search(self, query: str, k: int = 5) -> list[Passage]:
        query = query.strip()
        if not query:
            raise YuanwenError("empty question", "type a question")
        if len(self.index) == 0:
            return []
        f = self.fusion
        depth = max(f.candidates, 2 * k)
        t0 = time.perf_counter()
        dense = self.dense_ranking(query, depth) if self.mode in ("dense", "hybrid") else []
        t1 = time.perf_counter()
        bm25 = self.bm25_ranking(query, depth) if self.mode in ("bm25", "hybrid") else []
        t2 = time.perf_counter()
        self.last_timings = {"dense_ms": (t1 - t0) * 1e3, "bm25_ms": (t2 - t1) * 1e3}

        details: dict[int, dict] = {}
        for rank, (row, score) in enumerate(dense, 1):
            details.setdefault(row, {})
            details[row].update(dense=score, dense_rank=rank)
        for rank, (row, score) in enumerate(bm25, 1):
            details.setdefault(row, {})
            details[row].update(bm25=score, bm25_rank=rank)

        fused: dict[int, float] = {}
        for row, d in details.items():
            s = 0.0
            if "dense_rank" in d:
                s += f.dense_weight / (f.rrf_k + d["dense_rank"])
            if "bm25_rank" in d:
                s += f.bm25_weight / (f.rrf_k + d["bm25_rank"])
            fused[row] = s
        order = sorted(fused, key=lambda r: (-fused[r], r))
        if self.mode == "dense":
            scores = {r: details[r]["dense"] for r in order}
        elif self.mode == "bm25":
            scores = {r: details[r]["bm25"] for r in order}
        else:
            scores = fused
        return self._passages(order, scores, details, k)

    def _passages(self, order: list[int], scores: dict, details: dict, k: int) -> list[Passage]:
        out: list[Passage] = []
        seen: list[set[str]] = []
        batch = order[: max(3 * k, k + 10)]
        for chunk, row in zip(self.index.chunks(batch), batch):
            grams = _bigrams(chunk.text)
            if any(_containment(grams, other) >= self.fusion.dedup_threshold for other in seen):
                continue
            seen.append(grams)
            out.append(Passage(chunk=chunk, score=float(scores[row]), details={"row": row, **details[row]}))
            if len(out) == k:
                break
        return out


def _bigrams(text: str) -> set[str]:
    t = "".join(text.split())
    return {t[i : i + 2] for i in range(len(t) - 1)} or {t}


def _containment(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the other: catches a passage repeated inside a longer one."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / max(1, len(small))
