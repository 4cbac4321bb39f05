"""Dense vector store on Milvus: Milvus Lite (a local ``.db`` file, embedded) or a Milvus
standalone/cluster server by URI and token — the same code for both.

One long-lived collection per index. Every row holds its key (primary key, the key of
rag/store/index.py's ``keys.npy``), its vector and the generations it lives in: ``gen_from``, the
index version that added it, and ``gen_to``, the version that removed it (``ALIVE`` while it
is live). A version of generation G reads ``gen_from <= G and gen_to > G``, so an update
writes in place — new rows under G+1, removed rows marked ``gen_to = G+1`` — while readers of
G see none of it, and publishing stays the atomic ``CURRENT`` swap of rag/store/index.py. Rows of a
killed writer are read by no published version; the next writer deletes or restores them
first. Rows no kept version reads are deleted when old versions are pruned. A full build (the
first, ``--rebuild``, another server) writes a new collection, dropped with the last version
that points to it. The version folder keeps a small ``milvus.json`` (URI, collection,
generation, rows); chunk metadata and BM25 stay in the version folder (docs/scale-out.md).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import numpy as np

from rag.errors import YuanwenError

INSERT_BATCH = 5_000
FETCH_BATCH = 1_000  # ids per query when reading vectors back
ALIVE = 2**62  # gen_to of a row no version has removed
HNSW_PARAMS = {"M": 16, "efConstruction": 128}
MIN_EF = 128  # HNSW search breadth: top-50 candidate lists identical to exact search on the dev sets

_clients: dict[tuple[str, str], object] = {}
_lock = threading.Lock()


def default_uri(index_dir: Path) -> str:
    """A Milvus Lite file beside the index versions (when no ``milvus_uri`` is configured)."""
    return str(Path(index_dir).resolve() / "milvus.db")


def client(uri: str, token: str = ""):
    """One MilvusClient per (uri, token) per process."""
    with _lock:
        key = (uri, token)
        if key not in _clients:
            try:
                from pymilvus import MilvusClient
            except ImportError as exc:
                raise YuanwenError("the Milvus backend needs pymilvus",
                                   "pip install 'yuanwen[milvus]' (pymilvus + milvus-lite)") from exc
            try:
                _clients[key] = MilvusClient(uri, token=token) if token else MilvusClient(uri)
            except Exception as exc:
                raise YuanwenError(f"cannot reach Milvus at {uri} ({type(exc).__name__}: {exc})",
                                   "start Milvus or fix the milvus_uri / milvus_token settings ($YUANWEN_MILVUS_URI / $YUANWEN_MILVUS_TOKEN)") from exc
        return _clients[key]


def collection_name(version_dir: Path) -> str:
    return "yuanwen_" + re.sub(r"[^0-9a-zA-Z_]", "_", Path(version_dir).name)


def read_pointer(path: Path) -> dict | None:
    """The ``milvus.json`` of a version folder, or None (no Milvus store, or unreadable)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


class MilvusStore:
    index_type = "milvus"

    def __init__(self, uri: str, token: str, collection: str, dim: int, count: int, generation: int | None):
        # generation None: a collection written before generations (one per version, primary key = row).
        self.uri, self.token, self.collection, self.dim = uri, token, collection, dim
        self._count, self.generation = count, generation

    @classmethod
    def create(cls, *, uri: str, collection: str, dim: int, token: str = "") -> "MilvusStore":
        """An empty collection (generation 0) with an HNSW index on inner product."""
        from pymilvus import DataType

        c = client(uri, token)
        if c.has_collection(collection):
            c.drop_collection(collection)
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("gen_from", DataType.INT64)
        schema.add_field("gen_to", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        index_params = c.prepare_index_params()
        index_params.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=HNSW_PARAMS)
        c.create_collection(collection, schema=schema, index_params=index_params, consistency_level="Bounded")
        return cls(uri, token, collection, dim, 0, 0)

    @classmethod
    def build(cls, vectors: np.ndarray, *, uri: str, collection: str, token: str = "") -> "MilvusStore":
        """A new collection holding ``vectors`` under keys 0..n-1, as generation 1 (benchmarks)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        store = cls.create(uri=uri, collection=collection, dim=int(vectors.shape[1]), token=token)
        keys = np.arange(len(vectors), dtype=np.int64)
        return store.write_generation(1, keys, vectors, np.zeros(0, dtype=np.int64), len(vectors))

    def write_generation(self, generation: int, add_keys: np.ndarray, add_vectors: np.ndarray,
                         remove_keys: np.ndarray, expected_rows: int) -> "MilvusStore":
        """Write ``generation`` beside this store's one (which its readers keep seeing unchanged):
        insert the added rows, mark the removed ones, check the new generation holds
        ``expected_rows``. Returns the store that reads the new generation."""
        if self.generation is None:
            raise ValueError("a collection without generations cannot be updated in place")
        c = client(self.uri, self.token)
        self._recover(c)
        add_vectors = np.ascontiguousarray(add_vectors, dtype=np.float32)
        for start in range(0, len(add_keys), INSERT_BATCH):
            c.insert(self.collection, [
                {"id": int(k), "vector": v.tolist(), "gen_from": generation, "gen_to": ALIVE}
                for k, v in zip(add_keys[start:start + INSERT_BATCH], add_vectors[start:start + INSERT_BATCH])])
        remove_keys = np.asarray(remove_keys, dtype=np.int64)
        for start in range(0, len(remove_keys), FETCH_BATCH):
            rows = c.query(self.collection, ids=[int(k) for k in remove_keys[start:start + FETCH_BATCH]],
                           output_fields=["id", "vector", "gen_from"], consistency_level="Strong")
            if rows:
                c.upsert(self.collection, [{**_plain(r), "gen_to": generation} for r in rows])
        # Strong: everything above is applied before the version is published, so readers at the default
        # (Bounded) consistency see all of it.
        visible = self._count_rows(c, generation)
        if visible != expected_rows:
            raise YuanwenError(
                f"Milvus collection {self.collection} holds {visible} rows for the new index version, "
                f"expected {expected_rows}", "rerun the update; if it repeats, rebuild: yuanwen index PATH... --rebuild")
        return MilvusStore(self.uri, self.token, self.collection, self.dim, expected_rows, generation)

    def _recover(self, c) -> None:
        """Undo what killed writers left: rows added after this generation, removals after it."""
        g = self.generation
        c.delete(self.collection, filter=f"gen_from > {g}")
        while True:
            rows = c.query(self.collection, filter=f"gen_to > {g} and gen_to < {ALIVE}",
                           output_fields=["id", "vector", "gen_from"], limit=FETCH_BATCH, consistency_level="Strong")
            if not rows:
                return
            c.upsert(self.collection, [{**_plain(r), "gen_to": ALIVE} for r in rows])

    def _count_rows(self, c, generation: int) -> int:
        res = c.query(self.collection, filter=_generation_filter(generation), output_fields=["count(*)"],
                      consistency_level="Strong")
        return int(res[0]["count(*)"])

    def prune(self, oldest_kept: int) -> None:
        """Delete rows that no version from ``oldest_kept`` on reads (removed at or before it)."""
        client(self.uri, self.token).delete(self.collection, filter=f"gen_to <= {int(oldest_kept)}")

    def save(self, path: Path) -> None:
        """Write the pointer file (the token is not stored: it comes from the settings)."""
        path.write_text(json.dumps({"uri": self.uri, "collection": self.collection, "dim": self.dim,
                                    "count": self._count, "generation": self.generation}))

    @classmethod
    def load(cls, path: Path, token: str = "") -> "MilvusStore":
        meta = json.loads(path.read_text())
        c = client(meta["uri"], token)
        if not c.has_collection(meta["collection"]):
            raise YuanwenError(f"Milvus collection {meta['collection']} is missing at {meta['uri']}",
                               "rebuild the index: yuanwen index PATH... --rebuild")
        c.load_collection(meta["collection"])  # a new process finds it released
        return cls(meta["uri"], token, meta["collection"], int(meta["dim"]), int(meta["count"]),
                   meta.get("generation"))

    @staticmethod
    def drop(uri: str, collection: str, token: str = "") -> None:
        """Drop a collection no kept version points to (best effort)."""
        try:
            client(uri, token).drop_collection(collection)
        except Exception:
            pass

    def __len__(self) -> int:
        return self._count

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(key, inner product) of the best ``k`` rows of this store's generation."""
        if self._count == 0:
            return []
        limit = min(k, self._count)
        kwargs = {} if self.generation is None else {"filter": _generation_filter(self.generation)}
        hits = client(self.uri, self.token).search(
            self.collection, data=[np.asarray(query, dtype=np.float32).tolist()], limit=limit,
            output_fields=["id"], search_params={"metric_type": "IP", "params": {"ef": max(MIN_EF, limit)}},
            **kwargs)[0]
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def get_vectors(self, keys) -> np.ndarray:
        """The stored vectors of ``keys``, in order."""
        keys = [int(k) for k in np.asarray(keys, dtype=np.int64)]
        found: dict[int, list[float]] = {}
        c = client(self.uri, self.token)
        for start in range(0, len(keys), FETCH_BATCH):
            for r in c.query(self.collection, ids=keys[start:start + FETCH_BATCH], output_fields=["vector"]):
                found[int(r["id"])] = r["vector"]
        missing = [k for k in keys if k not in found]
        if missing:
            raise YuanwenError(f"Milvus collection {self.collection} lacks {len(missing)} vectors of this index "
                               f"(e.g. key {missing[0]})", "rebuild the index: yuanwen index PATH... --rebuild")
        return np.asarray([found[k] for k in keys], dtype=np.float32).reshape(len(keys), self.dim)


def _generation_filter(generation: int) -> str:
    return f"gen_from <= {int(generation)} and gen_to > {int(generation)}"


def _plain(row: dict) -> dict:
    """A queried row as insertable data (pymilvus returns its own row and vector types)."""
    return {"id": int(row["id"]), "gen_from": int(row["gen_from"]),
            "vector": np.asarray(row["vector"], dtype=np.float32).tolist()}
