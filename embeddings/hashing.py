"""An embedder without a model: character unigrams and bigrams hashed into 64 dimensions.

Deterministic and instant, so tests and benchmarks of everything except embedding quality (ingest, index writes,
fusion plumbing) run without loading a model. Texts that share characters score higher; it is no substitute for
a real embedder's ranking.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np


class HashingEmbedder:
    """Character unigrams and bigrams, hashed with signs into 64 dims and L2-normalised.

    Same text → same vector on every run and machine; texts sharing characters have higher cosine. Counts what it
    embedded so tests can check that unchanged passages are not embedded twice.
    """

    name = "fake-char-bigram-64"  # the name indexes built with it record (kept from the tests that began it)
    dim = 64

    def __init__(self) -> None:
        self.queries_embedded = 0
        self.passages_embedded = 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.queries_embedded += len(texts)
        return self._vectors(texts)

    def embed_passages(
        self,
        texts: list[str],
        *,
        batch_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        self.passages_embedded += len(texts)
        vectors = self._vectors(texts)
        if progress is not None:
            for start in range(0, len(texts), batch_size):
                progress(len(texts[start : start + batch_size]))
        return vectors

    def _vectors(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            grams = [(c, 0.5) for c in text if not c.isspace()] + [
                (text[i : i + 2], 1.0) for i in range(len(text) - 1) if not text[i : i + 2].isspace()
            ]
            for gram, weight in grams:
                digest = zlib.crc32(gram.encode("utf-8"))
                vectors[row, digest % self.dim] += weight if (digest >> 16) & 1 else -weight
            if not vectors[row].any():
                vectors[row, 0] = 1.0  # empty or all-whitespace text: a fixed unit vector
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors
