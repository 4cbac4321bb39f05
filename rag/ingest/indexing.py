"""Incremental indexing: files → cleaned documents → chunks → vectors → a new index version.

Every run re-reads and re-chunks the given files (cheap) but embeds only chunks whose
content hash the live index does not already hold (the expensive part), drops the chunks of
files that disappeared, and keeps documents indexed from other folders. The result is
published as a new version (see ``rag.store.index``), so a failed or killed run leaves the
previous index untouched.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from rag.ingest.chunking import (DEFAULT_MAX_CHARS, DEFAULT_OVERLAP_CHARS, DEFAULT_TARGET_CHARS, chunk_document,
                       content_hash)
from rag.store.docstore import ChunkRecord, DocumentRecord
from rag.ingest.documents import load_documents
from rag.errors import CorruptIndexError, IndexMismatchError, YuanwenError
from rag.store.index import Index, Manifest, index_exists, version_terms, write_lock, write_version
from rag.store.options import StoreOptions
from rag.schema import Document
from rag.ingest.stages import BESIDE, beside, recording, stage
from rag.store.vector_versions import VectorChanges, assign_keys
from rag.text.tokenize import tokenize

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class IndexReport:
    documents: int = 0
    chunks: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    seconds: float = 0.0
    index_dir: str = ""
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (rag/ingest/stages.py), "other" = the rest

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def embedding_text(title: str, text: str) -> str:
    """What the embedder sees for a chunk: its document title gives it context."""
    return text if not title or title in text else f"{title}\n{text}"


def _chunks(doc: Document):
    with stage("chunk"):
        return chunk_document(doc)


def _tokens_and_terms(index_dir: Path, chunks: list[ChunkRecord], new_texts: list[str]):
    """BM25 tokens of the new chunks' texts, and the new version's term/pinyin index (every chunk's text)."""
    with stage("tokenise"):
        tokens = [tokenize(t) for t in new_texts]
    with stage("term/pinyin index"):
        terms = version_terms(index_dir, chunks)
    return tokens, terms


def _file_sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_documents(paths: list[Path], *, skipped: list[tuple[str, str]] | None = None,
                   max_bytes: int | None = None, progress: Progress | None = None) -> list[tuple[Path, Path, Document]]:
    """(root, file, cleaned document) for every readable file under ``paths``.

    Lines repeated across many documents of this batch (site navigation, footers) are
    removed as boilerplate; unreadable files inside folders are reported in ``skipped``.
    """
    for p in paths:
        if not Path(p).exists():
            raise YuanwenError(f"no such file or folder: {p}", "check the path (supported: .txt .md .html .pdf .docx .xlsx .pptx .png .jpg)")
    roots = [Path(p).resolve() for p in paths]
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
    loaded = load_documents(paths, progress=progress, **kwargs)
    if skipped is not None:
        skipped.extend((source, exc.message) for source, exc in loaded.skipped)
    out = []
    for doc in loaded.documents:
        file = Path(doc.path).resolve()
        if not doc.text.strip():
            if skipped is not None:
                skipped.append((doc.source, "no text left after removing page noise"))
            continue
        root = next((r for r in roots if r == file or r in file.parents), file.parent)
        out.append((root if root.is_dir() else root.parent, file, doc))
    return out


def update_index(paths: list[str | Path], index_dir: str | Path, *, embedder=None, embedder_name: str | None = None,
                 rebuild: bool = False, progress: Progress | None = None,
                 max_bytes: int | None = None, store: StoreOptions = StoreOptions()) -> IndexReport:
    """Add or refresh ``paths`` in the index at ``index_dir``; see the module docstring.

    ``embedder``: a loaded embedder, else one is loaded by ``embedder_name`` (else the index's own, else the
    default); ``store``: vector store, FAISS type and Milvus address for the new version."""
    t0 = time.perf_counter()
    with recording() as seconds:
        report = _update_index(paths, index_dir, embedder=embedder, embedder_name=embedder_name, rebuild=rebuild,
                               progress=progress, max_bytes=max_bytes, store=store)
    report.seconds = time.perf_counter() - t0
    report.stages = {name: round(s, 3) for name, s in seconds.items()}
    in_main_thread = sum(s for name, s in seconds.items() if not name.endswith(BESIDE))
    report.stages["other"] = round(max(0.0, report.seconds - in_main_thread), 3)
    return report


def _update_index(paths, index_dir, *, embedder, embedder_name, rebuild, progress, max_bytes, store) -> IndexReport:
    index_dir = Path(index_dir)
    paths = [Path(p) for p in paths]
    report = IndexReport(index_dir=str(index_dir))
    with write_lock(index_dir):
        old = None
        if index_exists(index_dir) and not rebuild:
            try:
                with stage("previous version"):
                    old = Index.open(index_dir, milvus_token=store.milvus_token)
            except CorruptIndexError as exc:
                raise CorruptIndexError(exc.message, "rerun with --rebuild to build it again from the files") from exc
        if old is not None and embedder_name and embedder_name != old.manifest.embedder:
            raise IndexMismatchError(
                f"index at {index_dir} was built with embedder '{old.manifest.embedder}', not '{embedder_name}'",
                "rerun with --rebuild to re-embed everything with the new embedder",
            )
        if embedder is None:
            from embeddings.loader import load_embedder

            with stage("model load"):
                embedder = load_embedder(embedder_name or (old.manifest.embedder if old else None))

        docs = read_documents(paths, skipped=report.skipped, max_bytes=max_bytes, progress=progress)
        if not docs:
            first = f"; {report.skipped[0][0]}: {report.skipped[0][1]}" if report.skipped else ""
            raise YuanwenError(
                f"no readable documents under {', '.join(map(str, paths))} ({len(report.skipped)} files skipped{first})",
                "add .txt, .md, .html, .pdf, .docx, .xlsx, .pptx or image files with text",
            )

        # Documents of the previous version that this run does not replace are carried over.
        roots = [p.resolve() for p in paths]
        new_keys = {str(path.resolve()) for _, path, _ in docs}
        with stage("previous version"):
            old_chunks = old.docstore.chunk_records() if old else []
            old_docs = old.documents() if old else []

        def replaced(key: str) -> bool:
            k = Path(key)
            return key in new_keys or any(k == r or r in k.parents for r in roots)

        kept_docs = [d for d in old_docs if not replaced(d.key)]
        kept_keys = {d.key for d in kept_docs}
        kept_chunks = [(i, c) for i, c in enumerate(old_chunks) if c.doc_key in kept_keys]

        documents: list[DocumentRecord] = list(kept_docs)
        chunks: list[ChunkRecord] = [c for _, c in kept_chunks]
        new_texts: list[str] = []  # what each new chunk is embedded and BM25-tokenised as
        for root, path, doc in docs:
            with stage("file hash"):
                stat = path.stat()
                sha1 = _file_sha1(path)
            key = str(path.resolve())  # unique per index: two folders may both hold an a.txt
            documents.append(DocumentRecord(key=key, root=str(root), source=doc.source,
                                            title=doc.title, text=doc.text, file_sha1=sha1,
                                            size=stat.st_size, mtime=stat.st_mtime))
            for ch in _chunks(doc):
                emb_text = embedding_text(ch.title, ch.text)
                new_texts.append(emb_text)
                chunks.append(ChunkRecord(chunk=replace(ch, doc_key=key), doc_key=key,
                                          content_hash=content_hash(emb_text), tokens=[]))

        # Vectors: a chunk whose text the live index holds keeps that vector (under its key); embed the rest.
        old_hashes = {c.content_hash for c in old_chunks if c.doc_key not in kept_keys}
        new_hashes = {c.content_hash for c in chunks[len(kept_chunks):]}
        report.unchanged = sum(c.content_hash in old_hashes for c in chunks[len(kept_chunks):])
        report.added = len(chunks) - len(kept_chunks) - report.unchanged
        report.removed = sum(h not in new_hashes for h in (c.content_hash for c in old_chunks if c.doc_key not in kept_keys))

        keys, fresh, removed = assign_keys([c.content_hash for c in old_chunks], old.keys if old else [],
                                           [c.content_hash for c in chunks], old.manifest.next_key if old else 0)
        stored_key = {c.content_hash: int(k) for c, k in zip(old_chunks, old.keys)} if old else {}
        copied = [r for r in fresh if chunks[r].content_hash in stored_key]  # repeated text: vector read back
        todo_texts = list(dict.fromkeys(embedding_text(chunks[r].chunk.title, chunks[r].chunk.text)
                                        for r in fresh if chunks[r].content_hash not in stored_key))
        known: dict[str, np.ndarray] = {}
        # BM25 tokens and the term/pinyin index are pure-Python CPU work that needs only the chunks' text: a
        # thread does it while ONNX Runtime (which releases the GIL) embeds.
        pool = ThreadPoolExecutor(1, thread_name_prefix="yuanwen-index")
        texts_work = pool.submit(beside(_tokens_and_terms), index_dir, chunks, new_texts)
        pool.shutdown(wait=False)
        if copied:
            found = old.vectors.get_vectors([stored_key[chunks[r].content_hash] for r in copied])
            known.update((chunks[r].content_hash, v) for r, v in zip(copied, found))
        if todo_texts:
            done = 0

            def step(n: int) -> None:
                nonlocal done
                done += n
                if progress:
                    progress("embedding", done, len(todo_texts))

            if progress:
                progress("embedding", 0, len(todo_texts))
            with stage("embed"):
                vecs = embedder.embed_passages(todo_texts, progress=step)
            for text, vec in zip(todo_texts, vecs):
                known[content_hash(text)] = vec
        report.embedded = len(todo_texts)
        with stage("waiting for tokens and terms"):
            tokens, terms = texts_work.result()
        fresh_from = len(kept_chunks)
        chunks[fresh_from:] = [replace(c, tokens=t) for c, t in zip(chunks[fresh_from:], tokens)]

        dim = embedder.dim
        added = (np.stack([known[chunks[r].content_hash] for r in fresh]).astype(np.float32) if fresh
                 else np.zeros((0, dim), np.float32))
        changes = VectorChanges(keys, keys[fresh], added, removed)
        manifest = Manifest(embedder=embedder.name, dim=dim,
                            chunking={"target_chars": DEFAULT_TARGET_CHARS, "max_chars": DEFAULT_MAX_CHARS,
                                      "overlap_chars": DEFAULT_OVERLAP_CHARS, "title_in_embedding": True})
        if old is not None and not store.vector_store:
            manifest.vector_store = old.manifest.vector_store  # an index stays on the store it was built on
        if progress:
            progress("writing index", 0, 1)
        write_version(index_dir, manifest, documents, chunks, changes, previous=old, stage=stage, options=store,
                      terms=terms)
        if progress:
            progress("writing index", 1, 1)
        if old is not None:
            old.close()
        report.documents = len(documents)
        report.chunks = len(chunks)
    return report


def remove_documents(sources: list[str], index_dir: str | Path, store: StoreOptions = StoreOptions()) -> int:
    """Drop documents (each named by its path, or by its source name when only one document has it) from
    the index; returns how many were removed."""
    index_dir = Path(index_dir)
    with write_lock(index_dir):
        old = Index.open(index_dir, milvus_token=store.milvus_token)
        docs = old.documents()
        gone: set[str] = set()
        for name in sources:
            by_key = [d.key for d in docs if d.key == name or d.key == str(Path(name).expanduser().resolve())]
            by_source = [d.key for d in docs if d.source == name]
            if not by_key and len(by_source) > 1:
                old.close()
                raise YuanwenError(f"{name} names {len(by_source)} indexed documents: {', '.join(sorted(by_source))}",
                                   "pass the path of the one to remove (see: yuanwen docs)")
            gone.update(by_key or by_source)
        if not gone:
            old.close()
            raise YuanwenError(f"no indexed document named {', '.join(sources)}", "see: yuanwen docs")
        chunks = old.docstore.chunk_records()
        keep = np.array([i for i, c in enumerate(chunks) if c.doc_key not in gone], dtype=np.int64)
        dropped = np.setdiff1d(old.keys, old.keys[keep])
        changes = VectorChanges(old.keys[keep], np.zeros(0, np.int64), np.zeros((0, old.manifest.dim), np.float32),
                                dropped)
        write_version(index_dir, Manifest.from_json({**old.manifest.__dict__}),
                      [d for d in docs if d.key not in gone], [chunks[i] for i in keep], changes, previous=old,
                      options=store)
        old.close()
    return len(gone)
