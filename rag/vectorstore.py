"""Dense vector store: FAISS, inner product on L2-normalised vectors (= cosine).

Row ``i`` of the store is row ``i`` of the docstore. The FAISS index type is chosen by
collection size (exact search while it is cheap, HNSW above) and recorded in the manifest.
Saved with ``faiss.write_index`` — no pickle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Exact search stays under a few ms per query up to here on two cores.
EXACT_MAX_ROWS = 200_000


def choose_index_type(n_rows: int) -> str:
    """FAISS factory string for a collection of ``n_rows`` vectors."""
    return "Flat" if n_rows <= EXACT_MAX_ROWS else "HNSW32,Flat"


class FaissStore:
    def __init__(self, index, index_type: str):
        self.index = index
        self.index_type = index_type

    @classmethod
    def build(cls, vectors: np.ndarray, index_type: str | None = None) -> "FaissStore":
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index_type = index_type or choose_index_type(len(vectors))
        index = faiss.index_factory(vectors.shape[1], index_type, faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            index.train(vectors)
        if len(vectors):
            index.add(vectors)
        return cls(index, index_type)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, index_type: str) -> "FaissStore":
        import faiss

        return cls(faiss.read_index(str(path)), index_type)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self) == 0:
            return []
        if "HNSW" in self.index_type:
            self.index.hnsw.efSearch = max(64, 2 * k)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self.index.search(q, min(k, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
