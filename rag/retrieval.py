"""Retrieval: dense (FAISS), keyword (jieba BM25) and their fusion.

Neither signal wins everywhere: BM25 is best when the question shares rare words (names,
numbers) with the passage, dense when the wording differs or the question is in another
language. The default ``hybrid`` fuses the two *scores* after standardising each against its
own distribution for this query (z-scores: dense cosine against a fixed sample of the
collection, BM25 against every chunk). A signal therefore weighs in by how far its best
passages stand out, not by rank alone: a peaked BM25 hit on a rare name or number wins, a
flat BM25 ranking (few or no query words in the collection, e.g. an English question over
Chinese text) contributes almost nothing. Plain reciprocal-rank fusion, measured side by
side, lost to the better single signal on the seed set (docs/retrieval.md). Near-duplicate
passages are dropped so the same scraped sentence does not fill the top k.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .errors import YuanwenError
from .bm25 import top_rows
from .index import Index
from .language import detect_language
from .schema import Passage
from .tokenize import tokenize

MODES = ("dense", "bm25", "hybrid")
DEFAULT_MODE = "hybrid"
# Cross-lingual path (rag/crosslingual): "auto" translates a question whose language differs
# from the documents' with every source; the others are ablations (docs/crosslingual.md).
CROSSLINGUAL = {"auto": ("dictionary", "pinyin", "numbers"), "dictionary": ("dictionary",),
                "pinyin": ("pinyin",), "off": ()}


@dataclass
class FusionConfig:
    """Score fusion settings, chosen on the dev sets (see docs/retrieval.md)."""

    dense_weight: float = 0.5  # the BM25 weight is 1 - dense_weight
    candidates: int = 50  # depth read from each ranking
    dedup_threshold: float = 0.9  # char-bigram containment above which a passage is a near-duplicate
    crosslingual_dense_terms: int = 8  # translated terms appended to the question for the dense signal


class Retriever:
    """``search(query, k)`` → passages ranked best first."""

    def __init__(self, index: Index, embedder=None, *, mode: str = DEFAULT_MODE,
                 fusion: FusionConfig | None = None, crosslingual: str = "auto", reranker=None):
        if mode not in MODES:
            raise YuanwenError(f"unknown retriever '{mode}'", f"choose one of: {', '.join(MODES)}")
        if crosslingual not in CROSSLINGUAL:
            raise YuanwenError(f"unknown cross-lingual setting '{crosslingual}'",
                               f"choose one of: {', '.join(CROSSLINGUAL)}")
        if mode in ("dense", "hybrid") and embedder is None:
            raise YuanwenError(f"retriever '{mode}' needs an embedder", "pass one, or use --retriever bm25")
        if embedder is not None:
            index.check_dim(embedder.dim, embedder.name)
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self.fusion = fusion or FusionConfig()
        self.crosslingual = crosslingual
        self.reranker = reranker  # optional rag.rerank.Reranker
        self.last_timings: dict[str, float] = {}

    # -- cross-lingual path -----------------------------------------------------------
    def translate(self, query: str):
        """The structured Chinese query for a question in another language than the documents
        (rag.crosslingual.CrossLingualQuery), or None: Chinese questions keep the plain path."""
        sources = CROSSLINGUAL[self.crosslingual]
        if not sources or self.mode == "dense" or len(self.index) == 0:
            return None
        if detect_language(query) == "zh":
            return None  # checked before loading anything: Chinese questions pay nothing
        terms = self.index.collection_terms
        if terms.language == detect_language(query) or terms.language != "zh":
            return None
        from .crosslingual import translate

        return translate(query, terms, sources)

    def _crosslingual_bm25(self, xq) -> np.ndarray:
        """Structured BM25 of the translated groups (rag.bm25.KeywordIndex.group_scores). A phrase
        the index splits into several tokens scores its tokens' sum, and only in the passages
        that hold the phrase itself."""
        keywords = self.index.keywords
        plain, phrases = [], []
        for g in xq.groups:
            alternatives = [[t] if keywords.known([t]) else tokenize(t) for t in g.alternatives]
            if g.kind != "phrase":
                plain.append([a for a in alternatives if a])
                continue
            for term, tokens in zip(g.alternatives, alternatives):
                if len(tokens) > 1:
                    phrases.append((term, tokens))
                else:
                    plain.append([tokens])
        scores = keywords.group_scores(plain)
        if phrases:
            texts = self.index.term_texts()
            for term, tokens in phrases:
                rows = np.fromiter((term in t for t in texts), dtype=bool, count=len(texts))
                scores += keywords.group_scores([[tokens]]) * rows
        return scores

    # -- the two signals -------------------------------------------------------------
    def dense_ranking(self, query: str, depth: int) -> list[tuple[int, float]]:
        return self.index.vectors.search(self._query_vector(query), depth)

    def bm25_ranking(self, query: str, depth: int) -> list[tuple[int, float]]:
        return self.index.keywords.search(tokenize(query), depth)

    def _query_vector(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    # -- fusion ------------------------------------------------------------------------
    def search(self, query: str, k: int = 5) -> list[Passage]:
        query = query.strip()
        if not query:
            raise YuanwenError("empty question", "type a question")
        if len(self.index) == 0:
            return []
        depth = max(self.fusion.candidates, 2 * k)
        t0 = time.perf_counter()
        xq = self.translate(query)
        tx = time.perf_counter()
        dense_text = query
        if xq is not None and xq.terms:
            dense_text = f"{query} {' '.join(xq.terms[: self.fusion.crosslingual_dense_terms])}"
        qvec = self._query_vector(dense_text) if self.mode in ("dense", "hybrid") else None
        dense = self.index.vectors.search(qvec, depth) if qvec is not None else []
        t1 = time.perf_counter()
        if self.mode not in ("bm25", "hybrid"):
            bm25_all = None
        elif xq is not None:
            bm25_all = self._crosslingual_bm25(xq)
        else:
            bm25_all = self.index.keywords.scores(tokenize(query))
        bm25 = top_rows(bm25_all, depth) if bm25_all is not None else []
        t2 = time.perf_counter()
        self.last_timings = {"dense_ms": (t1 - tx) * 1e3, "bm25_ms": (t2 - t1) * 1e3}
        if xq is not None:
            self.last_timings["translate_ms"] = (tx - t0) * 1e3

        details: dict[int, dict] = {}
        for rank, (row, score) in enumerate(dense, 1):
            details.setdefault(row, {}).update(dense=score, dense_rank=rank)
        for rank, (row, score) in enumerate(bm25, 1):
            details.setdefault(row, {}).update(bm25=score, bm25_rank=rank)

        if self.mode == "dense":
            scores = {r: d["dense"] for r, d in details.items()}
        elif self.mode == "bm25":
            scores = {r: d["bm25"] for r, d in details.items()}
        else:
            scores = self._fuse(qvec, bm25_all, details)
        order = sorted(scores, key=lambda r: (-scores[r], r))
        if self.reranker is None:
            return self._passages(order, scores, details, k)
        t3 = time.perf_counter()
        head = self._passages(order, scores, details, max(k, self.reranker.candidates))
        passages = self.reranker.rerank(query, head, k)
        self.last_timings["rerank_ms"] = (time.perf_counter() - t3) * 1e3
        return passages

    def _fuse(self, qvec: np.ndarray, bm25_all: np.ndarray, details: dict[int, dict]) -> dict[int, float]:
        """Weighted sum of per-query z-scores of the dense and BM25 signals."""
        rows = list(details)
        missing = [r for r in rows if "dense" not in details[r]]
        if missing:
            for r, s in zip(missing, self.index.dense_scores(qvec, missing)):
                details[r]["dense"] = float(s)
        sample = self.index.dense_scores(qvec, None)
        d_mean, d_std = float(sample.mean()), float(sample.std()) + 1e-6
        b_max = float(bm25_all.max()) if len(bm25_all) else 0.0
        b_mean, b_std = float(bm25_all.mean()), float(bm25_all.std()) + 1e-6
        w = self.fusion.dense_weight
        fused = {}
        for r in rows:
            d = details[r]
            d.setdefault("bm25", float(bm25_all[r]))
            dz = (d["dense"] - d_mean) / d_std
            bz = (d["bm25"] - b_mean) / b_std if b_max > 0 else 0.0
            d["dense_z"], d["bm25_z"] = round(dz, 4), round(bz, 4)
            fused[r] = w * dz + (1 - w) * bz
        return fused

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
