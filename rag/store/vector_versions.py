"""The vectors of a new index version: written in place where the store allows it, else rebuilt.

An update knows which keys it keeps, adds (with their new vectors) and removes
(``VectorChanges``). FAISS removes and adds by key in the writer's private copy of the live
index and saves it into the new version folder (no re-training, no re-reading every vector);
HNSW, a changed index type or an index written before keys existed is rebuilt from the stored
vectors. Milvus writes the new generation into the live collection (rag/store/milvus_store.py); a
first build, ``--rebuild`` or another server writes a new collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.store.options import StoreOptions
from rag.store.vectorstore import FaissStore, choose_index_type


@dataclass
class VectorChanges:
    """What an update does to the dense vectors, by key."""

    keys: np.ndarray  # the key of every row of the new version, in docstore row order
    added_keys: np.ndarray  # keys the previous version does not hold (all keys for a full build)
    added_vectors: np.ndarray  # their vectors, in the same order
    removed_keys: np.ndarray  # keys of the previous version this one drops

    @classmethod
    def full(cls, vectors: np.ndarray, dim: int) -> "VectorChanges":
        """Every row new, keyed by its row number."""
        keys = np.arange(len(vectors), dtype=np.int64)
        return cls(keys, keys, np.asarray(vectors, dtype=np.float32).reshape(len(vectors), dim),
                   np.zeros(0, dtype=np.int64))

    def vectors(self, keys: np.ndarray, previous_store) -> np.ndarray:
        """Vectors of ``keys``: added here, else read back from the previous version's store."""
        keys = np.asarray(keys, dtype=np.int64)
        dim = self.added_vectors.shape[1] if self.added_vectors.ndim == 2 else previous_store.dim
        out = np.zeros((len(keys), dim), dtype=np.float32)
        hit = np.zeros(len(keys), dtype=bool)
        if len(self.added_keys) and len(keys):
            order = np.argsort(self.added_keys, kind="stable")
            at = np.minimum(np.searchsorted(self.added_keys[order], keys), len(order) - 1)
            hit = self.added_keys[order[at]] == keys
            out[hit] = self.added_vectors[order[at[hit]]]
        if not hit.all():
            out[~hit] = previous_store.get_vectors(keys[~hit])
        return out

def assign_keys(old_hashes: list[str], old_keys: np.ndarray, new_hashes: list[str],
                next_key: int) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Vector keys of the new rows: a row whose content an old row held takes over that row's key
    (and so its stored vector); the others get new keys. → (keys, rows needing a vector, removed keys)."""
    free: dict[str, list[int]] = {}
    for h, k in zip(reversed(old_hashes), reversed(np.asarray(old_keys).tolist())):
        free.setdefault(h, []).append(int(k))
    keys = np.empty(len(new_hashes), dtype=np.int64)
    fresh: list[int] = []
    for row, h in enumerate(new_hashes):
        if free.get(h):
            keys[row] = free[h].pop()
        else:
            keys[row], next_key = next_key, next_key + 1
            fresh.append(row)
    removed = np.array(sorted(k for left in free.values() for k in left), dtype=np.int64)
    return keys, fresh, removed


def write_faiss(folder: Path, manifest, changes: VectorChanges, previous) -> FaissStore:
    """``faiss.index`` of the new version; ``previous`` is the writer's own loaded Index (or None)."""
    wanted = manifest.faiss_index_type or choose_index_type(len(changes.keys))
    old = previous.vectors if previous is not None and isinstance(previous.vectors, FaissStore) else None
    if (old is not None and previous.manifest.format_version >= 2 and old.index_type == wanted and old.in_place
            and old.stores_faithfully(changes.added_vectors)):
        old.update(changes.removed_keys, changes.added_keys, changes.added_vectors)
        store = old
    else:
        vectors = changes.vectors(changes.keys, previous.vectors if previous is not None else None)
        params = manifest.faiss_search_params if manifest.faiss_index_type else ""
        store = FaissStore.build(vectors, wanted, params, keys=changes.keys)
    manifest.faiss_index_type = store.index_type
    manifest.faiss_search_params = store.search_params
    store.save(folder / "faiss.index")
    return store


def write_milvus(folder: Path, directory: Path, manifest, changes: VectorChanges, previous,
                 options: StoreOptions = StoreOptions()):
    """``milvus.json`` of the new version, its rows written into the live collection when it can be
    (on ``options.milvus_uri``, else where the previous version is, else a Milvus Lite file beside the index)."""
    from rag.store.milvus_store import MilvusStore, collection_name, default_uri

    old = previous.vectors if previous is not None and isinstance(previous.vectors, MilvusStore) else None
    uri = options.milvus_uri or (old.uri if old is not None else default_uri(directory))  # an index stays where it is
    if old is not None and old.generation is not None and old.uri == uri:
        base, added, added_vectors, removed = old, changes.added_keys, changes.added_vectors, changes.removed_keys
    else:
        base = MilvusStore.create(uri=uri, collection=collection_name(folder.name.removeprefix(".tmp-")),
                                  dim=manifest.dim, token=options.milvus_token, index=options.milvus_index)
        base.save(folder / "milvus.json")  # written first: a killed build's collection is found and dropped
        added, removed = changes.keys, np.zeros(0, dtype=np.int64)
        added_vectors = changes.vectors(changes.keys, previous.vectors if previous is not None else None)
    store = base.write_generation(manifest.generation, added, added_vectors, removed, len(changes.keys))
    manifest.faiss_index_type = manifest.faiss_search_params = ""
    store.save(folder / "milvus.json")
    return store


def prune_milvus(dropped: list[Path], remaining: list[Path], token: str = "") -> None:
    """Drop the collections only ``dropped`` versions point to; in collections still in use, delete
    the rows none of the ``remaining`` versions reads."""
    from rag.store.milvus_store import MilvusStore, read_pointer

    kept: dict[tuple[str, str], int] = {}
    for version in remaining:
        meta = read_pointer(version / "milvus.json")
        if meta is not None:
            where = (meta["uri"], meta["collection"])
            generation = meta.get("generation") or 0
            kept[where] = min(kept.get(where, generation), generation)
    for version in dropped:
        meta = read_pointer(version / "milvus.json")
        if meta is not None and (meta["uri"], meta["collection"]) not in kept:
            MilvusStore.drop(meta["uri"], meta["collection"], token)
    if any(read_pointer(v / "milvus.json") for v in dropped):
        for (uri, collection), oldest in kept.items():
            try:
                MilvusStore(uri, token, collection, 0, 0, oldest).prune(oldest)
            except Exception:  # best effort: the next update prunes again
                pass
