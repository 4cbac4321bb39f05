"""Dense vector store: FAISS, inner product on L2-normalised vectors (= cosine).

Every vector carries its *key* (``keys.npy`` of the index version maps docstore rows to keys; rag/store/index.py), so an
update can remove and add vectors by key instead of rebuilding: IVF indexes hold ids natively (with a hash-table
direct map, so vectors can be read back and removed), the others sit inside an ``IndexIDMap2``. HNSW cannot remove
vectors; its updates rebuild from the stored vectors. The FAISS index type is chosen by collection size and
recorded in the manifest with its search parameters:

- up to ``EXACT_MAX_ROWS`` rows, exact search (``Flat``): a few ms per query, nothing to tune;
- above, an inverted file over 8-bit scalar-quantised vectors (``IVF<nlist>,SQ8``, nlist ≈ 4·√n, probing
  nlist/16 lists per query): a quarter of the memory of exact search, trained in under two minutes at 1M rows on
  two cores, and p95 ≤ 20 ms with recall@10 ≥ 0.95 against exact search at 1M rows (docs/benchmarks.md).

Override with the ``faiss_index`` setting (``yuanwen index --index-type``, ``$YUANWEN_FAISS_INDEX``): a FAISS factory string such as
``Flat``, ``HNSW32,Flat`` or ``IVF4096,SQ8``, optionally followed by search parameters after a space in FAISS
ParameterSpace syntax (``"IVF4096,SQ8 nprobe=128"``, ``"HNSW32,Flat efSearch=128"``). Saved with
``faiss.write_index`` — no pickle.
"""

from __future__ import annotations

import math
import os  # cpu_count only: settings come from rag.store.options
import threading
from pathlib import Path

import numpy as np

from rag.errors import YuanwenError

# Exact search of 384-d vectors takes ~20 ms per query at 100k rows on a busy 2-core machine (docs/benchmarks.md);
# up to here it stays well inside a 20 ms p95.
EXACT_MAX_ROWS = 50_000
IVF_TRAIN_POINTS_PER_LIST = 50  # k-means sample per list: stable centroids, and training time flat in n
IVF_TRAIN_ITERATIONS = 10
HNSW_MIN_EF_SEARCH = 64
SQ_MIN_COSINE = 0.95  # an in-place SQ8 add must keep vectors this close to themselves, else the index is rebuilt


def choose_index_type(n_rows: int) -> str:
    """FAISS factory string for a collection of ``n_rows`` vectors (when the settings name none)."""
    if n_rows <= EXACT_MAX_ROWS:
        return "Flat"
    return f"IVF{ivf_lists(n_rows)},SQ8"


def ivf_lists(n_rows: int) -> int:
    """About 4·√n inverted lists, rounded to a power of two (4096 at 1M rows, trained in ~100 s on two cores)."""
    return 2 ** max(4, round(math.log2(4 * math.sqrt(max(n_rows, 1)))))


def default_search_params(index_type: str) -> str:
    """ParameterSpace string used at query time when neither the setting nor the manifest gives one."""
    if index_type.startswith("IVF"):
        nlist = int(index_type[3:].split(",")[0].split("_")[0])
        # 1/16 of the lists, at least 16: recall@10 0.97 and p95 17 ms at 1M rows with 4096 lists; 1/32 gave
        # 0.89 (docs/benchmarks.md).
        return f"nprobe={max(16, nlist // 16)}"
    if "HNSW" in index_type:
        return f"efSearch={HNSW_MIN_EF_SEARCH}"
    return ""


def split_index_spec(spec: str) -> tuple[str, str]:
    """``"IVF4096,SQ8 nprobe=64"`` → (``"IVF4096,SQ8"``, ``"nprobe=64"``)."""
    factory, _, params = spec.strip().partition(" ")
    return factory.strip(), params.strip().replace(" ", ",")


class FaissStore:
    def __init__(self, index, index_type: str, search_params: str = ""):
        self.index = index
        self.index_type = index_type
        self.search_params = search_params if search_params else default_search_params(index_type)
        self._apply(self.search_params)

    @classmethod
    def build(cls, vectors: np.ndarray, index_type: str | None = None, search_params: str = "",
              keys: np.ndarray | None = None) -> "FaissStore":
        """A new index over ``vectors``, each under its key (default: its row number)."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        keys = np.arange(len(vectors), dtype=np.int64) if keys is None else np.asarray(keys, dtype=np.int64)
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # undo search()'s single thread for this thread
        index_type = index_type or choose_index_type(len(vectors))
        try:
            index = faiss.index_factory(vectors.shape[1], index_type, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as exc:
            raise YuanwenError(
                f"FAISS cannot build index type {index_type!r}: {str(exc).strip().splitlines()[-1]}",
                "use a FAISS factory string such as Flat, HNSW32,Flat or IVF1024,SQ8 (--index-type, "
                "$YUANWEN_FAISS_INDEX or faiss_index in yuanwen.toml), or unset it to choose by collection size",
            ) from exc
        if not index.is_trained:
            if index_type.startswith("IVF"):
                faiss.extract_index_ivf(index).cp.niter = IVF_TRAIN_ITERATIONS
            try:
                index.train(_training_sample(vectors, index_type))
            except RuntimeError as exc:
                raise YuanwenError(
                    f"FAISS index type {index_type!r} cannot be trained on {len(vectors)} vectors: "
                    f"{str(exc).strip().splitlines()[-1]}",
                    "use fewer IVF lists (about 4·√rows) or Flat for small collections",
                ) from exc
        if _ivf(index) is not None:
            _ivf(index).set_direct_map_type(faiss.DirectMap.Hashtable)
        else:
            index = faiss.IndexIDMap2(index)
        if len(vectors):
            index.add_with_ids(vectors, keys)
        return cls(index, index_type, search_params)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, index_type: str, search_params: str = "") -> "FaissStore":
        import faiss

        return cls(faiss.read_index(str(path)), index_type, search_params)

    @property
    def in_place(self) -> bool:
        """Whether vectors can be removed and added by key (written by this version, and not HNSW)."""
        import faiss

        if _ivf(self.index) is not None:
            return _ivf(self.index).direct_map.type == faiss.DirectMap.Hashtable
        return isinstance(self.index, faiss.IndexIDMap2) and "HNSW" not in self.index_type

    def stores_faithfully(self, vectors: np.ndarray) -> bool:
        """Whether ``vectors`` added now keep their direction: a scalar quantiser clips values outside the
        range it was trained on, so vectors unlike the training data call for a rebuild."""
        if "SQ" not in self.index_type or not len(vectors):
            return True
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        decoded = self.index.sa_decode(self.index.sa_encode(vectors))
        cosine = (decoded * vectors).sum(1) / (np.linalg.norm(decoded, axis=1) * np.linalg.norm(vectors, axis=1) + 1e-12)
        return bool(cosine.min() >= SQ_MIN_COSINE)

    def update(self, remove_keys: np.ndarray, add_keys: np.ndarray, add_vectors: np.ndarray) -> None:
        """Remove and add vectors by key, in place (``in_place`` must hold)."""
        import faiss

        faiss.omp_set_num_threads(os.cpu_count() or 1)
        if len(remove_keys):
            self.index.remove_ids(np.asarray(remove_keys, dtype=np.int64))
        if len(add_keys):
            self.index.add_with_ids(np.ascontiguousarray(add_vectors, dtype=np.float32),
                                    np.asarray(add_keys, dtype=np.int64))

    def get_vectors(self, keys) -> np.ndarray:
        """The stored vectors of ``keys`` (exact for Flat and HNSW, decoded for SQ8), in order."""
        keys = np.asarray(keys, dtype=np.int64)
        if not len(keys):
            return np.zeros((0, self.dim), dtype=np.float32)
        ivf = _ivf(self.index)
        if ivf is not None and ivf.direct_map.no():
            with _direct_map_lock:  # an index written before keys existed: ids are row numbers
                if ivf.direct_map.no():
                    ivf.make_direct_map(True)
        return self.index.reconstruct_batch(keys)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self) == 0:
            return []
        import faiss

        # One query is too little work to split: with two OpenMP threads on a busy two-core machine a 10k-row
        # exact search took ~70 ms instead of 0.3 ms (threads spin waiting for a core). The setting is per
        # calling thread, so index builds elsewhere keep all cores.
        faiss.omp_set_num_threads(1)
        if "HNSW" in self.index_type:
            _hnsw(self.index).efSearch = max(self._ef_search, 2 * k)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self.index.search(q, min(k, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _apply(self, params: str) -> None:
        self._ef_search = HNSW_MIN_EF_SEARCH
        if not params:
            return
        import faiss

        for item in params.split(","):
            if item.strip().startswith("efSearch="):
                self._ef_search = int(item.split("=", 1)[1])
        try:
            faiss.ParameterSpace().set_index_parameters(self.index, params)
        except RuntimeError as exc:
            raise YuanwenError(
                f"FAISS search parameters {params!r} do not apply to index type {self.index_type!r}",
                "use nprobe=N for IVF indexes or efSearch=N for HNSW, or leave them unset",
            ) from exc


_direct_map_lock = threading.Lock()


def _ivf(index):
    """The inverted-file index inside ``index``, or None."""
    import faiss

    return faiss.try_extract_index_ivf(index)


def _hnsw(index):
    """The HNSW graph of ``index`` (unwrapping an ``IndexIDMap2``)."""
    import faiss

    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    return inner.hnsw


def _training_sample(vectors: np.ndarray, index_type: str) -> np.ndarray:
    """Evenly spaced rows for k-means: a fixed sample keeps training time flat as the collection grows."""
    if not index_type.startswith("IVF"):
        return vectors
    nlist = int(index_type[3:].split(",")[0].split("_")[0])
    wanted = nlist * IVF_TRAIN_POINTS_PER_LIST
    if len(vectors) <= wanted:
        return vectors
    picks = np.linspace(0, len(vectors) - 1, wanted).astype(np.int64)
    return np.ascontiguousarray(vectors[picks])
