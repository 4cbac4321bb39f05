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

How much each signal counts is decided per question (rag/retrieve/fusion.py): a question phrased the
way the passage is written leans on BM25, a search-box query whose distinctive words the
collection lacks leans on the dense signal. ``FusionConfig(method="fixed")`` keeps the former
fixed ``dense_weight`` for comparison.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rag.errors import YuanwenError
from rag.store.bm25 import top_rows
from rag.retrieve.fusion import AdaptiveFusion, FusionInputs, query_features
from rag.store.index import Index
from rag.text.bigrams import char_bigrams
from rag.text.language import detect_language
from rag.schema import Passage, Retrieval
from rag.text.tokenize import tokenize

MODES = ("dense", "bm25", "hybrid")
DEFAULT_MODE = "hybrid"
# Cross-lingual path (rag/retrieve/crosslingual): "auto" translates a question whose language differs
# from the documents' with every source; the others are ablations (docs/crosslingual.md).
CROSSLINGUAL = {"auto": ("dictionary", "pinyin", "numbers"), "dictionary": ("dictionary",),
                "pinyin": ("pinyin",), "off": ()}


FUSION_METHODS = ("adaptive", "fixed")


@dataclass
class FusionConfig:
    """Score fusion settings, chosen on the dev sets (see docs/retrieval.md)."""

    method: str = "adaptive"  # per-query weights (rag/retrieve/fusion.py), or "fixed": dense_weight for every query
    dense_weight: float = 0.5  # "fixed" only; the BM25 weight is 1 - dense_weight
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
        fusion = fusion or FusionConfig()
        if fusion.method not in FUSION_METHODS:
            raise YuanwenError(f"unknown fusion '{fusion.method}'", f"choose one of: {', '.join(FUSION_METHODS)}")
        if mode in ("dense", "hybrid") and embedder is None:
            raise YuanwenError(f"retriever '{mode}' needs an embedder", "pass one, or use --retriever bm25")
        if embedder is not None:
            index.check_dim(embedder.dim, embedder.name)
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self.fusion = fusion
        self.adaptive = AdaptiveFusion.load() if fusion.method == "adaptive" else None
        self.crosslingual = crosslingual
        self.reranker = reranker  # optional rag.retrieve.rerank.Reranker

    # -- cross-lingual path -----------------------------------------------------------
    def translate(self, query: str):
        """The structured Chinese query for a question in another language than the documents
        (rag.retrieve.crosslingual.CrossLingualQuery), or None: Chinese questions keep the plain path."""
        sources = CROSSLINGUAL[self.crosslingual]
        if not sources or self.mode == "dense" or len(self.index) == 0:
            return None
        if detect_language(query) == "zh":
            return None  # checked before loading anything: Chinese questions pay nothing
        terms = self.index.collection_terms
        if terms.language == detect_language(query) or terms.language != "zh":
            return None
        from rag.retrieve.crosslingual import translate

        return translate(query, terms, sources)

    def _crosslingual_bm25(self, xq) -> np.ndarray:
        """Structured BM25 of the translated groups (rag.store.bm25.KeywordIndex.group_scores). A phrase
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
        return self.index.dense_search(self._query_vector(query), depth)

    def bm25_ranking(self, query: str, depth: int) -> list[tuple[int, float]]:
        return self.index.keywords.search(tokenize(query), depth)

    def _query_vector(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    # -- candidates and fusion ------------------------------------------------------------
    def _candidates(self, query: str, depth: int, timings: dict[str, float]):
        """Both rankings to ``depth``: (details by row, query vector, every chunk's BM25 score,
        translated query or None, the question's BM25 tokens); what each took goes into ``timings``."""
        t0 = time.perf_counter()
        xq = self.translate(query)
        tx = time.perf_counter()
        dense_text = query
        if xq is not None and xq.terms:
            dense_text = f"{query} {' '.join(xq.terms[: self.fusion.crosslingual_dense_terms])}"
        qvec = self._query_vector(dense_text) if self.mode in ("dense", "hybrid") else None
        dense = self.index.dense_search(qvec, depth) if qvec is not None else []
        t1 = time.perf_counter()
        tokens: list[str] = []
        if self.mode not in ("bm25", "hybrid"):
            bm25_all = None
        elif xq is not None:
            bm25_all = self._crosslingual_bm25(xq)
        else:
            tokens = tokenize(query)
            bm25_all = self.index.keywords.scores(tokens)
        bm25 = top_rows(bm25_all, depth) if bm25_all is not None else []
        t2 = time.perf_counter()
        timings.update(dense_ms=(t1 - tx) * 1e3, bm25_ms=(t2 - t1) * 1e3)
        if xq is not None:
            timings["translate_ms"] = (tx - t0) * 1e3

        details: dict[int, dict] = {}
        for rank, (row, score) in enumerate(dense, 1):
            details.setdefault(row, {}).update(dense=score, dense_rank=rank)
        for rank, (row, score) in enumerate(bm25, 1):
            details.setdefault(row, {}).update(bm25=score, bm25_rank=rank)
        return details, qvec, bm25_all, xq, tokens

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """The top ``k`` passages for ``query`` (``retrieve`` says how they were found)."""
        return self.retrieve(query, k).passages

    def retrieve(self, query: str, k: int = 5) -> Retrieval:
        """The top ``k`` passages for ``query``, with the translated query they were found by and the timings."""
        query = query.strip()
        if not query:
            raise YuanwenError("empty question", "type a question")
        found = Retrieval(query=query, passages=[])
        if len(self.index) == 0:
            return found
        details, qvec, bm25_all, xq, tokens = self._candidates(query, max(self.fusion.candidates, 2 * k), found.timings)
        found.translation = xq
        if qvec is not None and not (xq is not None and xq.terms):  # the dense text was the query as written
            found.query_vector = qvec
        if self.mode == "dense":
            scores = {r: d["dense"] for r, d in details.items()}
        elif self.mode == "bm25":
            scores = {r: d["bm25"] for r, d in details.items()}
        else:
            inputs = self._fusion_inputs(query, xq, tokens, qvec, bm25_all, details)
            scores = self._fuse(inputs, details, found.fusion)
        order = sorted(scores, key=lambda r: (-scores[r], r))
        if self.reranker is None:
            found.passages = self._passages(order, scores, details, k)
            return found
        t3 = time.perf_counter()
        head = self._passages(order, scores, details, max(k, self.reranker.candidates))
        found.passages = self.reranker.rerank(query, head, k)
        found.timings["rerank_ms"] = (time.perf_counter() - t3) * 1e3
        return found

    def fusion_inputs(self, query: str) -> FusionInputs:
        """The candidates, their z-scores and the query features of a hybrid search (what
        bench/fit_fusion.py fits the weights on)."""
        if self.mode != "hybrid":
            raise YuanwenError("fusion inputs need the hybrid retriever", "use mode='hybrid'")
        query = query.strip()
        details, qvec, bm25_all, xq, tokens = self._candidates(query, self.fusion.candidates, {})
        return self._fusion_inputs(query, xq, tokens, qvec, bm25_all, details, with_features=True)

    def _fusion_inputs(self, query: str, xq, tokens: list[str], qvec: np.ndarray, bm25_all: np.ndarray,
                       details: dict[int, dict], with_features: bool = False) -> FusionInputs:
        """Per-query z-scores of both signals over the candidates: the dense cosine against a
        fixed sample of the collection, BM25 against every chunk (0 when BM25 matched nothing)."""
        rows = np.fromiter(details, dtype=np.int64, count=len(details))
        missing = [r for r in details if "dense" not in details[r]]
        if missing:
            for r, s in zip(missing, self.index.dense_scores(qvec, missing)):
                details[r]["dense"] = float(s)
        dense = np.array([details[r]["dense"] for r in details], dtype=np.float64)
        bm25 = bm25_all[rows].astype(np.float64)
        sample = self.index.dense_scores(qvec, None)
        dense_z = (dense - float(sample.mean())) / (float(sample.std()) + 1e-6)
        if len(bm25_all) and float(bm25_all.max()) > 0:
            bm25_z = (bm25 - float(bm25_all.mean())) / (float(bm25_all.std()) + 1e-6)
        else:
            bm25_z = np.zeros_like(bm25)
        features = np.zeros(0)
        if self.adaptive is not None or with_features:
            features = query_features(query, dense_z, bm25_z, bm25, self._term_idfs(tokens, xq))
        for r, b in zip(details, bm25):
            details[r].setdefault("bm25", float(b))
        return FusionInputs(rows=rows, dense_z=dense_z, bm25_z=bm25_z, bm25=bm25, features=features)

    def _term_idfs(self, tokens: list[str], xq) -> list[tuple[float, bool]]:
        """(IDF, found in the collection) of each question term: jieba tokens of a Chinese question,
        the translated groups of another language's (a group by its rarest known alternative)."""
        keywords = self.index.keywords
        if xq is None:
            tokens = list(dict.fromkeys(tokens))
            return [(idf, df > 0) for idf, df in zip(keywords.idf(tokens), keywords.document_frequencies(tokens))]
        out = []
        unknown_idf = keywords.idf([""])[0]
        for g in xq.groups:
            tokens = [t for a in g.alternatives for t in ([a] if keywords.known([a]) else tokenize(a))]
            known = keywords.known(tokens)
            out.append((max(keywords.idf(known)), True) if known else (unknown_idf, False))
        return out

    def _fuse(self, inputs: FusionInputs, details: dict[int, dict], weights: dict) -> dict[int, float]:
        """Weighted sum of the two z-scores, with this query's weights (recorded in ``weights``)."""
        if self.adaptive is not None:
            w_dense, w_bm25 = self.adaptive.weights(inputs.features)
            weights.update(dense_weight=round(w_dense, 4), bm25_weight=round(w_bm25, 4),
                           features=inputs.feature_dict())
        else:
            w_dense, w_bm25 = self.fusion.dense_weight, 1 - self.fusion.dense_weight
            weights.update(dense_weight=w_dense, bm25_weight=w_bm25)
        fused = w_dense * inputs.dense_z + w_bm25 * inputs.bm25_z
        out = {}
        for r, dz, bz, f in zip(inputs.rows.tolist(), inputs.dense_z, inputs.bm25_z, fused):
            details[r]["dense_z"], details[r]["bm25_z"] = round(float(dz), 4), round(float(bz), 4)
            out[r] = float(f)
        return out

    def _passages(self, order: list[int], scores: dict, details: dict, k: int) -> list[Passage]:
        out: list[Passage] = []
        seen: list[set[str]] = []
        batch = order[: max(3 * k, k + 10)]
        for chunk, row in zip(self.index.chunks(batch), batch):
            grams = char_bigrams("".join(chunk.text.split()))
            if any(_containment(grams, other) >= self.fusion.dedup_threshold for other in seen):
                continue
            seen.append(grams)
            signals = details[row]
            out.append(Passage(chunk=chunk, score=float(scores[row]), dense=signals.get("dense"), bm25=signals.get("bm25"),
                               details={"row": row, **{k: v for k, v in signals.items() if k not in ("dense", "bm25")}}))
            if len(out) == k:
                break
        return out


def _containment(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the other: catches a passage repeated inside a longer one."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / max(1, len(small))
