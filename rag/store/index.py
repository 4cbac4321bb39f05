"""A persisted index: vectors (FAISS or Milvus) + metadata (SQLite) + BM25, behind a manifest.

On disk every update is a new *version* directory, written beside the live one; the
``CURRENT`` file names the live version and is swapped with an atomic rename. A crash or a
kill at any moment therefore leaves the previous version loadable, and readers that opened
an older version keep reading it undisturbed. Vectors are stored under keys that outlive
versions, so an update adds and removes vectors instead of copying all of them
(rag/store/vector_versions.py): a new FAISS file made from the live one, or a new generation in the
one Milvus collection of the index (rag/store/milvus_store.py).

    INDEX_DIR/
      CURRENT                 -> "v-20261125-160102-3f2a"
      v-20261125-160102-3f2a/
        manifest.json         format version, embedder, dimension, normaliser, index type
        docstore.sqlite       documents and chunks (provenance, cleaned text, tokens)
        keys.npy              int64 (n,): the vector-store key of each docstore row
        score_sample.npy      float32 (≤ 2048, dim): evenly spaced rows' vectors, hybrid fusion's reference
        faiss.index           dense index, vectors under their keys (or milvus.json: collection + generation)
        bm25/                 keyword index (bm25s arrays + JSON)
        crosslingual/         documents' language, dictionary terms, pinyin of n-grams (JSON)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rag import __version__
from rag.store.bm25 import KeywordIndex
from rag.store.docstore import ChunkRecord, DocStore, DocumentRecord, write_docstore
from rag.errors import CorruptIndexError, IndexMismatchError, YuanwenError
from rag.schema import Chunk
from rag.store.vector_versions import VectorChanges, prune_milvus, write_faiss, write_milvus
from rag.store.options import VECTOR_STORES, StoreOptions
from rag.store.vectorstore import FaissStore, split_index_spec

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)  # 1: row = key, every vector in vectors.npy
TOKENIZER = "jieba-search-v1"
KEEP_OLD_VERSIONS = 1
SCORE_SAMPLE = 2048  # vectors sampled to estimate a query's dense score distribution


@dataclass
class Manifest:
    embedder: str
    dim: int
    normalize: str = "l2"
    metric: str = "inner_product"
    faiss_index_type: str = ""  # empty until written: chosen by collection size (rag.store.vectorstore)
    faiss_search_params: str = ""  # FAISS ParameterSpace string used at query time, e.g. "nprobe=64"
    vector_store: str = ""  # "faiss" (default) or "milvus"; empty until written (StoreOptions.vector_store)
    tokenizer: str = TOKENIZER
    n_documents: int = 0
    n_chunks: int = 0
    chunking: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    yuanwen_version: str = __version__
    updated_at: str = ""
    generation: int = 0  # counts published versions; Milvus rows are visible by generation
    next_key: int = 0  # the next unused vector key

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _rebuild_hint(directory: Path) -> str:
    return f"rebuild it: yuanwen index PATH... --index {directory} --rebuild"


def current_version(directory: Path) -> Path | None:
    pointer = directory / "CURRENT"
    if not pointer.exists():
        return None
    name = pointer.read_text().strip()
    return directory / name


def index_exists(directory: Path) -> bool:
    return (Path(directory) / "CURRENT").exists()


class Index:
    """One loaded index version. Read-only and safe to share between threads."""

    def __init__(self, directory: Path, version_dir: Path, manifest: Manifest, docstore: DocStore,
                 vectors: FaissStore, keywords: KeywordIndex):
        self.directory = directory
        self.version_dir = version_dir
        self.manifest = manifest
        self.docstore = docstore
        self.vectors = vectors
        self.keywords = keywords
        self._sample: np.ndarray | None = None
        self._mapped: np.ndarray | None = None
        self.keys = np.arange(manifest.n_chunks, dtype=np.int64)  # format 1: key = row
        self._key_order: np.ndarray | None = None
        self._terms = None
        self._term_texts: list[str] | None = None

    @classmethod
    def open(cls, directory: str | Path, *, embedder: str | None = None, milvus_token: str = "") -> "Index":
        """Open the live version; ``embedder`` (a registry name) must match the one it was built with;
        ``milvus_token`` opens a version whose vectors are on a Milvus server that needs one."""
        directory = Path(directory)
        if not directory.exists() or not index_exists(directory):
            raise YuanwenError(
                f"no index at {directory}",
                "build one first: yuanwen index PATH... (or pass --index DIR)",
            )
        version_dir = current_version(directory)
        try:
            data = json.loads((version_dir / "manifest.json").read_text())
            if not isinstance(data, dict):
                raise ValueError("manifest.json does not hold a JSON object")
            manifest = Manifest.from_json(data)
        except (OSError, ValueError, TypeError) as exc:
            raise CorruptIndexError(f"index at {directory} is damaged ({exc})", _rebuild_hint(directory)) from exc
        if manifest.format_version not in READABLE_FORMATS:
            raise IndexMismatchError(
                f"index at {directory} has format {manifest.format_version}, this yuanwen reads {FORMAT_VERSION}",
                _rebuild_hint(directory),
            )
        if embedder is not None and embedder != manifest.embedder:
            raise IndexMismatchError(
                f"index at {directory} was built with embedder '{manifest.embedder}' (dim {manifest.dim}), "
                f"not '{embedder}'",
                f"use --embedder {manifest.embedder}, or {_rebuild_hint(directory)} --embedder {embedder}",
            )
        try:
            docstore = DocStore(version_dir / "docstore.sqlite")
            n = docstore.count()
            if manifest.vector_store == "milvus":
                from rag.store.milvus_store import MilvusStore

                vectors = MilvusStore.load(version_dir / "milvus.json", milvus_token)
            else:
                vectors = FaissStore.load(version_dir / "faiss.index", manifest.faiss_index_type or "Flat",
                                          manifest.faiss_search_params)
            keywords = KeywordIndex.load(version_dir / "bm25")
            if manifest.format_version >= 2:
                keys = np.load(version_dir / "keys.npy", allow_pickle=False)
                sample = np.load(version_dir / "score_sample.npy", allow_pickle=False)
                vector_rows = (len(keys), sample.shape[1] if sample.ndim == 2 else -1)
            else:
                keys = sample = None
                # Memory-mapped: only the header is read, but a truncated file fails here, not in the first search.
                vector_rows = np.load(version_dir / "vectors.npy", allow_pickle=False, mmap_mode="r").shape
        except Exception as exc:  # sqlite, faiss and numpy raise their own types
            raise CorruptIndexError(f"index at {directory} is damaged ({exc})", _rebuild_hint(directory)) from exc
        if not (n == len(vectors) == keywords.n_rows == manifest.n_chunks):
            raise CorruptIndexError(
                f"index at {directory} is inconsistent ({n} chunks, {len(vectors)} vectors, "
                f"{keywords.n_rows} keyword rows, manifest says {manifest.n_chunks})",
                _rebuild_hint(directory),
            )
        if vector_rows != (n, manifest.dim):
            what = "keys.npy and score_sample.npy hold" if keys is not None else "vectors.npy holds"
            raise CorruptIndexError(f"index at {directory} is inconsistent ({what} {vector_rows}, "
                                    f"expected ({n}, {manifest.dim}))", _rebuild_hint(directory))
        if vectors.dim != manifest.dim:
            raise CorruptIndexError(f"index at {directory} has vectors of dim {vectors.dim}, manifest "
                                    f"says {manifest.dim}", _rebuild_hint(directory))
        index = cls(directory, version_dir, manifest, docstore, vectors, keywords)
        if keys is not None:
            index.keys, index._sample = keys.astype(np.int64), np.ascontiguousarray(sample, dtype=np.float32)
        return index

    def check_dim(self, dim: int, embedder: str) -> None:
        if dim != self.manifest.dim:
            raise IndexMismatchError(
                f"embedder '{embedder}' gives {dim}-dim vectors but the index at {self.directory} holds "
                f"{self.manifest.dim}-dim vectors from '{self.manifest.embedder}'",
                _rebuild_hint(self.directory),
            )

    def __len__(self) -> int:
        return self.manifest.n_chunks

    def chunks(self, rows: list[int]) -> list[Chunk]:
        return self.docstore.chunks(rows)

    def documents(self) -> list[DocumentRecord]:
        return self.docstore.documents()

    def document_text(self, key: str) -> str | None:
        """The cleaned text a chunk's spans point into, by ``Chunk.doc_key`` (or an unambiguous source name)."""
        return self.docstore.document_text(key)

    def vectors_array(self) -> np.ndarray:
        """Every row's vector, read back from the vector store (benchmarks and tests)."""
        return self.vectors.get_vectors(self.keys)

    def dense_search(self, query_vector: np.ndarray, depth: int) -> list[tuple[int, float]]:
        """(row, cosine) of the nearest rows of this version."""
        hits = self.vectors.search(query_vector, depth)
        rows = self.rows_of([key for key, _ in hits])
        return [(int(r), score) for r, (_, score) in zip(rows, hits) if r >= 0]

    def rows_of(self, keys) -> np.ndarray:
        """Docstore rows of vector-store keys (-1 for a key this version does not hold)."""
        keys = np.asarray(keys, dtype=np.int64)
        if self._key_order is None:
            self._key_order = np.argsort(self.keys, kind="stable")
        order = self._key_order
        if not len(order):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys[order], keys), len(order) - 1)
        rows = order[at]
        return np.where(self.keys[rows] == keys, rows, -1)

    def dense_scores(self, query_vector: np.ndarray, rows: list[int] | None) -> np.ndarray:
        """Cosine of the query with the given rows, or (rows=None) with a fixed sample of the
        collection — the reference distribution that hybrid retrieval standardises against."""
        if rows is None:
            if self._sample is None:  # format 1: the sample comes from vectors.npy
                picks = score_sample_rows(len(self))
                self._sample = np.ascontiguousarray(self._mapped_vectors()[picks], dtype=np.float32)
            return self._sample @ query_vector
        return np.asarray(self.vectors.get_vectors(self.keys[np.asarray(rows, dtype=np.int64)]) @ query_vector)

    def _mapped_vectors(self) -> np.ndarray:
        """A format-1 version's vectors.npy, memory-mapped once per loaded version."""
        if self._mapped is None:
            self._mapped = np.load(self.version_dir / "vectors.npy", allow_pickle=False, mmap_mode="r")
        return self._mapped

    @property
    def collection_terms(self):
        """The cross-lingual term index (rag.retrieve.crosslingual), loaded on first use; built in memory
        for versions written before it existed."""
        if self._terms is None:
            from rag.retrieve.crosslingual import CollectionTerms, build_collection_terms

            terms = CollectionTerms.load(self.version_dir)
            if terms is None:
                terms = build_collection_terms(_term_texts(self.docstore.chunk_records()))
            self._terms = terms
        return self._terms

    def term_texts(self) -> list[str]:
        """Normalised title + text of every row, for phrase matching (loaded once)."""
        if self._term_texts is None:
            from rag.text.tokenize import normalize

            self._term_texts = [normalize(t) for t in _term_texts(self.docstore.chunk_records())]
        return self._term_texts

    def close(self) -> None:
        self.docstore.close()


@contextlib.contextmanager
def write_lock(directory: Path):
    """One writer at a time per index directory (readers never wait)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise YuanwenError(
                f"another process is updating the index at {directory}", "wait for it to finish and try again"
            ) from None
        yield


def score_sample_rows(n_rows: int) -> np.ndarray:
    """Evenly spaced rows whose vectors are the reference distribution of dense scores."""
    if n_rows == 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.linspace(0, n_rows - 1, min(SCORE_SAMPLE, n_rows)).astype(np.int64))


def write_version(directory: Path, manifest: Manifest, documents: list[DocumentRecord],
                  chunks: list[ChunkRecord], vectors: np.ndarray | VectorChanges,
                  previous: "Index | None" = None, stage=lambda name: contextlib.nullcontext(),
                  options: StoreOptions = StoreOptions(), terms=None) -> Path:
    """Write a new version beside the live one, then make it live atomically.

    ``vectors`` is every row's vector (a full build) or the changes against ``previous``, the
    writer's own loaded copy of the live version (which may be modified: it is not reused).
    ``stage(name)`` times each step (the ingest passes rag/ingest/stages.stage).
    The manifest's store and FAISS type win (an index keeps them); ``options`` fill what it leaves empty.
    ``terms``: the cross-lingual term index of ``chunks`` when the caller built it already (version_terms)."""
    directory.mkdir(parents=True, exist_ok=True)
    # Sortable to the nanosecond, so pruning always keeps the newest versions.
    name = f"v-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}-{uuid.uuid4().hex[:4]}"
    tmp = directory / f".tmp-{name}"
    tmp.mkdir()
    try:
        changes = vectors if isinstance(vectors, VectorChanges) else VectorChanges.full(vectors, manifest.dim)
        if len(changes.keys) != len(chunks):
            raise ValueError(f"{len(changes.keys)} vector keys for {len(chunks)} chunks")
        manifest.n_documents = len(documents)
        manifest.n_chunks = len(chunks)
        manifest.updated_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        manifest.format_version = FORMAT_VERSION
        live = previous.manifest if previous is not None else None
        manifest.generation = (live.generation if live is not None else 0) + 1
        manifest.next_key = max(live.next_key if live is not None else 0,
                                int(changes.keys.max()) + 1 if len(changes.keys) else 0,
                                len(previous) if previous is not None else 0)
        manifest.vector_store = manifest.vector_store or options.vector_store or "faiss"
        if manifest.vector_store not in VECTOR_STORES:
            raise YuanwenError(f"unknown vector store '{manifest.vector_store}'", f"choose {' or '.join(VECTOR_STORES)}")
        if manifest.vector_store == "faiss" and not manifest.faiss_index_type and options.faiss_index:
            manifest.faiss_index_type, manifest.faiss_search_params = split_index_spec(options.faiss_index)
        # The sample is read before a FAISS update modifies the previous store in place.
        sample = changes.vectors(changes.keys[score_sample_rows(len(chunks))],
                                 previous.vectors if previous is not None else None)
        with stage("vector index"):
            if manifest.vector_store == "milvus":
                write_milvus(tmp, directory, manifest, changes, previous, options)
            else:
                write_faiss(tmp, manifest, changes, previous)
        with stage("docstore"):
            write_docstore(tmp / "docstore.sqlite", documents, chunks)
            np.save(tmp / "keys.npy", np.asarray(changes.keys, dtype=np.int64), allow_pickle=False)
            np.save(tmp / "score_sample.npy", sample.reshape(len(sample), manifest.dim), allow_pickle=False)
        with stage("bm25"):
            KeywordIndex.build([c.tokens for c in chunks]).save(tmp / "bm25")
        with stage("term/pinyin index"):
            (terms if terms is not None else version_terms(directory, chunks)).save(tmp)
        (tmp / "manifest.json").write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2))
        with stage("publish"):
            _fsync_tree(tmp)
        final = directory / name
        os.rename(tmp, final)
        pointer_tmp = directory / f".CURRENT-{name}"
        pointer_tmp.write_text(name + "\n")
        _fsync(pointer_tmp)
        os.replace(pointer_tmp, directory / "CURRENT")
        _fsync(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with stage("publish"):
        _prune(directory, keep=final, milvus_token=options.milvus_token)
    return final


def _term_texts(chunks: list[ChunkRecord]) -> list[str]:
    return [f"{c.chunk.title}\n{c.chunk.text}" for c in chunks]


def version_terms(directory: Path, chunks: list[ChunkRecord]):
    """The cross-lingual term index of a new version holding ``chunks`` (only their title and text are read),
    reusing the live version's pinyin."""
    from rag.retrieve.crosslingual import CollectionTerms, build_collection_terms

    live = current_version(directory)
    previous = CollectionTerms.load(live) if live is not None else None
    return build_collection_terms(_term_texts(chunks), previous)


def _prune(directory: Path, keep: Path, milvus_token: str = "") -> None:
    """Remove old versions and leftovers of killed writers, keeping the newest few; Milvus
    collections and rows that no kept version reads go with them."""
    versions = sorted(p for p in directory.glob("v-*") if p.is_dir() and p != keep)
    cut = max(0, len(versions) - KEEP_OLD_VERSIONS)
    dropped = versions[:cut] + [p for p in directory.glob(".tmp-v-*") if p.is_dir()]
    prune_milvus(dropped, [keep, *versions[cut:]], milvus_token)
    for old in dropped:
        shutil.rmtree(old, ignore_errors=True)
    for junk in directory.glob(".CURRENT-*"):
        junk.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            _fsync(p)
    _fsync(path)
