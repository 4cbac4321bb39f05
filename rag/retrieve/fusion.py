"""Query-adaptive fusion: how much to trust the dense and the BM25 signal, decided per question.

One fixed weight cannot suit every way of asking. A question written while reading the text
("乡镇干部周转房建了多少套？") shares rare words with its passage and BM25 should lead; a query typed
the way people type into a search box ("2022年英特尔全年营收") often shares only common words with it,
and the dense signal should lead. The retriever sees which case it is in at query time: how far
each signal's best passage stands out, how much of the question's IDF mass BM25 matched at all,
how long the question is and whether it is phrased as a question, and whether the two top lists
agree. The fused score of a candidate is ``w·z_dense + (1 − w)·z_bm25`` where the dense share
``w = sigmoid(coefficients · features)`` is fitted on the shared dev sets by ``bench/fit_fusion.py``
(coefficients in ``rag/retrieve/fusion_weights.json``; docs/retrieval.md has the leave-one-set-out
results and which features earned a non-zero coefficient).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHTS_FILE = Path(__file__).with_name("fusion_weights.json")

# Query features, in the order the fitted coefficients use them.
FEATURES = ("bias", "dense_top_z", "bm25_top_z", "dense_gap", "bm25_gap", "idf_matched",
            "terms", "question_form", "agreement", "top_agree")
AGREEMENT_DEPTH = 5  # top-k lists compared for agreement

_QUESTION_WORD = re.compile(
    r"什么|多少|哪|谁|几[个年月天家位项次种名]|何|吗|怎|为啥|是否|有没有|[?？]\s*$"
    r"|^\s*(what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can)\b",
    re.IGNORECASE)


def question_form(question: str) -> float:
    """1 for a question phrased as one (a question word or mark), 0 for a search-box keyword query."""
    return 1.0 if _QUESTION_WORD.search(question) else 0.0


def idf_matched_share(term_idfs: list[tuple[float, bool]]) -> float:
    """Share of the question's IDF mass carried by terms BM25 found in the collection; a question
    whose distinctive words are all absent gets a BM25 ranking made of its common words."""
    total = sum(idf for idf, _ in term_idfs)
    if total <= 0:
        return 0.0
    return sum(idf for idf, known in term_idfs if known) / total


@dataclass
class FusionInputs:
    """Everything fusion needs for one question: the candidate rows, both z-scores of each, and
    the query features (``FEATURES`` order)."""

    rows: np.ndarray
    dense_z: np.ndarray
    bm25_z: np.ndarray
    bm25: np.ndarray  # raw BM25 (0: the row does not match at all)
    features: np.ndarray

    def feature_dict(self) -> dict[str, float]:
        return {name: round(float(v), 4) for name, v in zip(FEATURES, self.features)}


def query_features(question: str, dense_z: np.ndarray, bm25_z: np.ndarray, bm25_raw: np.ndarray,
                   term_idfs: list[tuple[float, bool]]) -> np.ndarray:
    """The query features over the candidates (the union of both top lists)."""
    dense_order = np.argsort(-dense_z, kind="stable")
    bm25_order = np.argsort(-bm25_raw, kind="stable")
    dense_top = float(dense_z[dense_order[0]]) if len(dense_z) else 0.0
    dense_gap = float(dense_z[dense_order[0]] - dense_z[dense_order[1]]) if len(dense_z) > 1 else 0.0
    b_sorted = bm25_raw[bm25_order]
    matched = len(b_sorted) and b_sorted[0] > 0
    bm25_top = math.log1p(max(0.0, float(bm25_z.max()))) if matched else 0.0
    bm25_gap = float((b_sorted[0] - b_sorted[1]) / b_sorted[0]) if matched and len(b_sorted) > 1 else 0.0
    if matched:
        depth = min(AGREEMENT_DEPTH, len(dense_order))
        d_top, b_top = set(dense_order[:depth].tolist()), set(bm25_order[:depth].tolist())
        agreement = len(d_top & b_top) / depth
        top_agree = float(dense_order[0] == bm25_order[0])
    else:
        agreement = top_agree = 0.0
    return np.array([1.0, dense_top, bm25_top, dense_gap, bm25_gap, idf_matched_share(term_idfs),
                     math.log1p(len(term_idfs)), question_form(question), agreement, top_agree],
                    dtype=np.float64)


class AdaptiveFusion:
    """The dense signal's share of the fused score, ``sigmoid(coefficients · features)``; BM25 gets
    the rest. All-zero coefficients are the fixed 0.5/0.5 fusion, so the fit only moves away from
    it where the features justify it."""

    def __init__(self, dense_share: np.ndarray, features: tuple[str, ...] = FEATURES):
        if tuple(features) != FEATURES:
            raise ValueError(f"fusion weights are for features {features}, this code computes {FEATURES}")
        self.dense_share = np.asarray(dense_share, dtype=np.float64)

    @classmethod
    def load(cls, path: Path | str = WEIGHTS_FILE) -> "AdaptiveFusion":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["dense_share"], tuple(data["features"]))

    def weights(self, features: np.ndarray) -> tuple[float, float]:
        """(dense weight, BM25 weight) for one question, summing to 1."""
        share = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, float(self.dense_share @ features)))))
        return share, 1.0 - share

    def scores(self, inputs: FusionInputs) -> np.ndarray:
        w_dense, w_bm25 = self.weights(inputs.features)
        return w_dense * inputs.dense_z + w_bm25 * inputs.bm25_z
