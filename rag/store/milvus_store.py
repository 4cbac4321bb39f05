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
generation, rows, index spec); chunk metadata and BM25 stay in the version folder (docs/scale-out.md).

Milvus serves freshly written rows from a temporary index until it has sealed them, built the real
index and handed the indexed segments to its query node (interim IVF, 16 of 128 lists probed: recall
0.5 at 100k). So a build or an update that adds many rows *settles* before it is published: flush,
wait for the index build, wait for the query node to serve the indexed segments (``settle``). The
index type and its build and search parameters are the ``milvus_index`` setting (``IndexSpec``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.errors import YuanwenError

INSERT_BATCH = 5_000
FETCH_BATCH = 1_000  # ids per query when reading vectors back
ALIVE = 2**62  # gen_to of a row no version has removed
# HNSW with ef 512: recall@10 0.99 at 30k and ≥ 0.95 at 100k synthetic vectors (docs/scale-out.md), p95 a few ms.
DEFAULT_INDEX = "HNSW M=16 efConstruction=128 ef=512"
SEARCH_KEYS = ("ef", "nprobe")  # parameters of a search; every other one is a build parameter
SETTLE_ROWS = 10_000  # an update adding this many rows waits for the real index before it is published
SETTLE_TIMEOUT_S = 3600.0  # then it is published anyway (results right, recall lower until Milvus catches up)
MIN_INDEXED_ROWS = 1024  # Milvus's minSegmentSizeToEnableIndex: smaller segments are searched without an index
HANDOFF_GRACE_S = 60.0  # a new collection not served from its index this long after the build is reloaded

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class IndexSpec:
    """A Milvus vector index as one setting: ``"HNSW M=16 efConstruction=128 ef=512"`` or
    ``"IVF_SQ8 nlist=1024 nprobe=32"`` — the index type, then build and search (``ef``, ``nprobe``) parameters."""

    index_type: str
    build: dict = field(default_factory=dict)
    search: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> "IndexSpec":
        words = (text or DEFAULT_INDEX).split()
        build, search = {}, {}
        for word in words[1:]:
            key, eq, value = word.partition("=")
            if not eq or not key or not value:
                raise YuanwenError(f"milvus_index {text!r}: {word!r} is not NAME=VALUE",
                                   f"write it like {DEFAULT_INDEX!r} ($YUANWEN_MILVUS_INDEX or milvus_index in yuanwen.toml)")
            (search if key in SEARCH_KEYS else build)[key] = int(value) if value.isdigit() else value
        return cls(words[0].upper(), build, search)

    def __str__(self) -> str:
        return " ".join([self.index_type, *(f"{k}={v}" for k, v in {**self.build, **self.search}.items())])

    def search_params(self, limit: int) -> dict:
        params = dict(self.search)
        if "ef" in params or self.index_type == "HNSW":  # HNSW needs ef >= the number of results
            params["ef"] = max(int(params.get("ef", limit)), limit)
        return {"metric_type": "IP", "params": params}


def is_server(uri: str) -> bool:
    """A Milvus server (http(s)://, tcp://), not a Milvus Lite file (which has no index builds to wait for)."""
    return "://" in uri


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

    def __init__(self, uri: str, token: str, collection: str, dim: int, count: int, generation: int | None,
                 index: IndexSpec | None = None):
        # generation None: a collection written before generations (one per version, primary key = row).
        self.uri, self.token, self.collection, self.dim = uri, token, collection, dim
        self._count, self.generation = count, generation
        self.index = index or IndexSpec.parse(DEFAULT_INDEX)  # pointers without one: HNSW M16 efC128, as built then

    @property
    def index_type(self) -> str:
        return f"milvus {self.index}"

    @classmethod
    def create(cls, *, uri: str, collection: str, dim: int, token: str = "", index: str = "") -> "MilvusStore":
        """An empty collection (generation 0) with the ``index`` vector index (default ``DEFAULT_INDEX``) on inner product."""
        from pymilvus import DataType

        spec = IndexSpec.parse(index)

        c = client(uri, token)
        if c.has_collection(collection):
            c.drop_collection(collection)
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("gen_from", DataType.INT64)
        schema.add_field("gen_to", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        index_params = c.prepare_index_params()
        index_params.add_index(field_name="vector", index_type=spec.index_type, metric_type="IP", params=spec.build)
        try:
            c.create_collection(collection, schema=schema, index_params=index_params, consistency_level="Bounded")
        except Exception as exc:
            if type(exc).__name__ != "MilvusException":
                raise
            raise YuanwenError(f"Milvus cannot create collection {collection} with index {spec} ({exc})",
                               f"fix the milvus_index setting, e.g. {DEFAULT_INDEX!r} or 'IVF_SQ8 nlist=1024 nprobe=32'"
                               ) from exc
        return cls(uri, token, collection, dim, 0, 0, spec)

    @classmethod
    def build(cls, vectors: np.ndarray, *, uri: str, collection: str, token: str = "", index: str = "",
              settle: bool = True) -> "MilvusStore":
        """A new collection holding ``vectors`` under keys 0..n-1, as generation 1 (benchmarks)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        store = cls.create(uri=uri, collection=collection, dim=int(vectors.shape[1]), token=token, index=index)
        keys = np.arange(len(vectors), dtype=np.int64)
        return store.write_generation(1, keys, vectors, np.zeros(0, dtype=np.int64), len(vectors), settle=settle)

    def write_generation(self, generation: int, add_keys: np.ndarray, add_vectors: np.ndarray,
                         remove_keys: np.ndarray, expected_rows: int, settle: bool | None = None) -> "MilvusStore":
        """Write ``generation`` beside this store's one (which its readers keep seeing unchanged):
        upsert the added rows and the removed ones marked, check the new generation holds
        ``expected_rows``, and — when it adds ``SETTLE_ROWS`` rows or more, or ``settle`` says so —
        wait until Milvus serves it from the built index. Returns the store that reads the new generation."""
        if self.generation is None:
            raise ValueError("a collection without generations cannot be updated in place")
        c = client(self.uri, self.token)
        self._recover(c)
        add_vectors = np.ascontiguousarray(add_vectors, dtype=np.float32)
        remove_keys = np.asarray(remove_keys, dtype=np.int64)
        rows = [{"id": int(k), "vector": v, "gen_from": generation, "gen_to": ALIVE}
                for k, v in zip(np.asarray(add_keys, dtype=np.int64).tolist(), add_vectors)]
        for start in range(0, len(remove_keys), FETCH_BATCH):
            # Bounded is enough: these rows belong to published generations, checked by a Strong count
            # before they were published; one missed here fails the Strong count below, never silently.
            rows += [{**_plain(r), "gen_to": generation} for r in c.query(
                self.collection, ids=remove_keys[start:start + FETCH_BATCH].tolist(),
                output_fields=["id", "vector", "gen_from"])]
        # One upsert per batch for both (an upsert of a new key is an insert): no round trip per kind of change.
        for start in range(0, len(rows), INSERT_BATCH):
            c.upsert(self.collection, rows[start:start + INSERT_BATCH])
        if settle or (settle is None and len(add_keys) >= SETTLE_ROWS):
            self.settle(fresh=self._count == 0 and self.generation == 0)
        # Strong: everything above is applied before the version is published, so readers at the default
        # (Bounded) consistency see all of it.
        visible = self._count_rows(c, generation)
        if visible != expected_rows:
            raise YuanwenError(
                f"Milvus collection {self.collection} holds {visible} rows for the new index version, "
                f"expected {expected_rows}", "rerun the update; if it repeats, rebuild: yuanwen index PATH... --rebuild")
        return MilvusStore(self.uri, self.token, self.collection, self.dim, expected_rows, generation, self.index)

    def settle(self, fresh: bool = False, timeout_s: float | None = None) -> bool:
        """Seal what was written, wait until the vector index covers it and the query node serves the
        indexed segments (not its temporary index of fresh rows); a ``fresh`` collection (no readers
        yet) is reloaded if that hand-off lags. False when ``timeout_s`` passed first (then searches
        are right but from the temporary index until Milvus catches up). Milvus Lite: nothing to wait for."""
        if not is_server(self.uri):
            return True
        from pymilvus.client.types import SegmentState

        c = client(self.uri, self.token)
        timeout_s = SETTLE_TIMEOUT_S if timeout_s is None else timeout_s
        start = time.monotonic()
        c.flush(self.collection)
        indexed_at, reported = None, start
        while True:
            info = c.describe_index(self.collection, "vector")
            if time.monotonic() - reported >= 30:
                reported = time.monotonic()
                log.info("Milvus %s: %s of %s rows indexed after %.0f s", self.collection, info.get("indexed_rows"),
                         info.get("total_rows"), reported - start)
            if int(info.get("pending_index_rows", 0)) == 0 and int(info.get("indexed_rows", 0)) >= int(
                    info.get("total_rows", 0)):
                indexed_at = indexed_at or time.monotonic()
                flushed = {s.segment_id for s in c.list_persistent_segments(self.collection)
                           if s.state in (SegmentState.Flushed, SegmentState.Sealed)}
                # Served from its index: a sealed segment may first be loaded with a temporary one.
                loaded = {s.segment_id for s in c.list_loaded_segments(self.collection)
                          if s.state != SegmentState.Growing and (s.index_id or s.num_rows < MIN_INDEXED_ROWS)}
                if flushed <= loaded:
                    return True
                if fresh and time.monotonic() - indexed_at > HANDOFF_GRACE_S:
                    c.release_collection(self.collection)
                    c.load_collection(self.collection)
                    return True
            if time.monotonic() - start > timeout_s:
                log.warning("Milvus has not finished indexing %s after %.0f s (%s of %s rows indexed); publishing "
                            "anyway, searches use its temporary index until it has", self.collection, timeout_s,
                            info.get("indexed_rows"), info.get("total_rows"))
                return False
            time.sleep(1)

    def _recover(self, c) -> None:
        """Undo what killed writers left: rows added after this generation, removals after it (one
        Strong count when there is nothing to undo, the usual case)."""
        g = self.generation
        leftovers = c.query(self.collection, filter=f"gen_from > {g} or (gen_to > {g} and gen_to < {ALIVE})",
                            output_fields=["count(*)"], consistency_level="Strong")
        if not int(leftovers[0]["count(*)"]):
            return
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
                                    "count": self._count, "generation": self.generation, "index": str(self.index)}))

    @classmethod
    def load(cls, path: Path, token: str = "") -> "MilvusStore":
        meta = json.loads(path.read_text())
        c = client(meta["uri"], token)
        if not c.has_collection(meta["collection"]):
            raise YuanwenError(f"Milvus collection {meta['collection']} is missing at {meta['uri']}",
                               "rebuild the index: yuanwen index PATH... --rebuild")
        c.load_collection(meta["collection"])  # a new process finds it released
        return cls(meta["uri"], token, meta["collection"], int(meta["dim"]), int(meta["count"]),
                   meta.get("generation"), IndexSpec.parse(meta.get("index", "")))

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
            output_fields=["id"], search_params=self.index.search_params(limit), **kwargs)[0]
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
