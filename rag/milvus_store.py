"""Dense vector store on Milvus: Milvus Lite (a local ``.db`` file, embedded) or a Milvus
standalone/cluster server by URI and token — the same code for both.

Each index version gets its own collection (``yuanwen_<version>``); the version folder keeps a
small ``milvus.json`` naming URI and collection, so publishing a version stays the atomic
``CURRENT`` swap of rag/index.py and pruning an old version drops its collection. Row ``i`` is
primary key ``i``, as in the FAISS store. Chunk metadata, BM25 and the reference vectors for
hybrid fusion stay in the version folder (docs/scale-out.md).
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import numpy as np

from .errors import YuanwenError

URI_ENV = "YUANWEN_MILVUS_URI"
TOKEN_ENV = "YUANWEN_MILVUS_TOKEN"
INSERT_BATCH = 5_000

_clients: dict[tuple[str, str], object] = {}
_lock = threading.Lock()


def default_uri(index_dir: Path) -> str:
    """$YUANWEN_MILVUS_URI, else a Milvus Lite file beside the index versions."""
    return os.environ.get(URI_ENV) or str(Path(index_dir).resolve() / "milvus.db")


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
                                   "start Milvus or fix YUANWEN_MILVUS_URI / YUANWEN_MILVUS_TOKEN") from exc
        return _clients[key]


def collection_name(version_dir: Path) -> str:
    return "yuanwen_" + re.sub(r"[^0-9a-zA-Z_]", "_", Path(version_dir).name)


class MilvusStore:
    index_type = "milvus"

    def __init__(self, uri: str, token: str, collection: str, dim: int, count: int):
        self.uri, self.token, self.collection, self.dim, self._count = uri, token, collection, dim, count

    @classmethod
    def build(cls, vectors: np.ndarray, *, uri: str, collection: str, token: str = "") -> "MilvusStore":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        c = client(uri, token)
        if c.has_collection(collection):
            c.drop_collection(collection)
        c.create_collection(collection, dimension=int(vectors.shape[1]), metric_type="IP",
                            consistency_level="Strong")
        for start in range(0, len(vectors), INSERT_BATCH):
            block = vectors[start : start + INSERT_BATCH]
            c.insert(collection, [{"id": start + i, "vector": v.tolist()} for i, v in enumerate(block)])
        return cls(uri, token, collection, int(vectors.shape[1]), len(vectors))

    def save(self, path: Path) -> None:
        """Write the pointer file (the token is not stored: it comes from the environment)."""
        path.write_text(json.dumps({"uri": self.uri, "collection": self.collection, "dim": self.dim,
                                    "count": self._count}))

    @classmethod
    def load(cls, path: Path) -> "MilvusStore":
        meta = json.loads(path.read_text())
        token = os.environ.get(TOKEN_ENV, "")
        c = client(meta["uri"], token)
        if not c.has_collection(meta["collection"]):
            raise YuanwenError(f"Milvus collection {meta['collection']} is missing at {meta['uri']}",
                               "rebuild the index: yuanwen index PATH... --rebuild")
        c.load_collection(meta["collection"])  # a new process finds it released
        count = int(c.get_collection_stats(meta["collection"])["row_count"])
        return cls(meta["uri"], token, meta["collection"], int(meta["dim"]), count)

    @staticmethod
    def drop(path: Path) -> None:
        """Drop the collection a pruned version pointed to (best effort)."""
        try:
            meta = json.loads(path.read_text())
            client(meta["uri"], os.environ.get(TOKEN_ENV, "")).drop_collection(meta["collection"])
        except Exception:
            pass

    def __len__(self) -> int:
        return self._count

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._count == 0:
            return []
        hits = client(self.uri, self.token).search(
            self.collection, data=[np.asarray(query, dtype=np.float32).tolist()], limit=min(k, self._count),
            search_params={"metric_type": "IP"},
        )[0]
        return [(int(h["id"]), float(h["distance"])) for h in hits]
