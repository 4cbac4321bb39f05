"""BM25 keyword index over jieba tokens (bm25s: sparse matrices, saved as .npy + JSON, never pickle).

bm25s cannot add documents to a built index, so the index is rebuilt from the token
lists the docstore keeps; that costs well under a second per 10k chunks and keeps BM25
exactly in step with the vector index after every incremental update.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)


class KeywordIndex:
    """Scores every chunk (row) for a list of query tokens."""

    def __init__(self, bm25=None, n_rows: int = 0):
        self._bm25 = bm25
        self.n_rows = n_rows

    @classmethod
    def build(cls, token_lists: list[list[str]], *, k1: float = 1.2, b: float = 0.75) -> "KeywordIndex":
        import bm25s

        if not token_lists:
            return cls(None, 0)
        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.index([toks or [""] for toks in token_lists], show_progress=False)
        return cls(bm25, len(token_lists))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "rows.txt").write_text(str(self.n_rows))
        if self._bm25 is not None:
            self._bm25.save(str(directory), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> "KeywordIndex":
        import bm25s

        n_rows = int((directory / "rows.txt").read_text())
        if n_rows == 0:
            return cls(None, 0)
        bm25 = bm25s.BM25.load(str(directory), allow_pickle=False, mmap=False)
        return cls(bm25, n_rows)

    def known(self, tokens: list[str]) -> list[str]:
        """The query tokens that occur in the collection (others cannot score)."""
        if self._bm25 is None:
            return []
        vocab = self._bm25.vocab_dict
        return [t for t in tokens if t in vocab and t != ""]

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every row (zeros when no query token is known)."""
        known = self.known(tokens)
        if not known:
            return np.zeros(self.n_rows, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def document_frequencies(self, tokens: list[str]) -> list[int]:
        """Chunks holding each token (0 for a token the collection lacks)."""
        if self._bm25 is None:
            return [0] * len(tokens)
        vocab, indptr = self._bm25.vocab_dict, self._bm25.scores["indptr"]
        return [int(indptr[vocab[t] + 1] - indptr[vocab[t]]) if t and t in vocab else 0 for t in tokens]

    def idf(self, tokens: list[str]) -> list[float]:
        """BM25 (Lucene) IDF of each token; a token the collection lacks gets the rarest IDF."""
        n = self.n_rows
        return [float(np.log(1 + (n - df + 0.5) / (df + 0.5))) for df in self.document_frequencies(tokens)]

    def group_scores(self, groups: list[list[list[str]]]) -> np.ndarray:
        """Structured query: each group scores a row by its best alternative (an alternative is a
        list of tokens scored together, e.g. a phrase's words); the groups' scores add up. One
        English word with six Chinese senses so counts once, like a word with one."""
        total = np.zeros(self.n_rows, dtype=np.float32)
        cache: dict[str, np.ndarray] = {}
        for group in groups:
            best = None
            for alternative in group:
                known = self.known(alternative)
                if not known:
                    continue
                for t in known:
                    if t not in cache:
                        cache[t] = self.scores([t])
                score = sum(cache[t] for t in known)
                best = score if best is None else np.maximum(best, score)
            if best is not None:
                total += best
        return total

    def search(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        return top_rows(self.scores(tokens), k)


def top_rows(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Rows with the k highest positive scores, best first."""
    if not len(scores):
        return []
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
