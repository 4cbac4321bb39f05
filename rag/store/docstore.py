"""Chunk and document metadata in SQLite (not pickle): provenance, cleaned text, BM25 tokens.

Row numbers of the ``chunks`` table are the row numbers of the vector store, so a search
hit maps straight to its chunk. The cleaned document text is kept so a UI can show and
highlight ``text[start:end]`` without re-reading (or re-cleaning) the original file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rag.schema import Chunk

SCHEMA = """
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE NOT NULL,      -- absolute path of the file
    root TEXT NOT NULL,            -- folder (or file) given to `yuanwen index`
    source TEXT NOT NULL,          -- file name relative to root
    title TEXT NOT NULL,
    text TEXT NOT NULL,            -- cleaned text; chunk spans point into it
    file_sha1 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY,       -- row in the vector store and BM25 index
    chunk_id TEXT NOT NULL,
    doc_id INTEGER NOT NULL REFERENCES documents(id),
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    paragraph INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,    -- sha1 of text: unchanged text is never embedded twice
    tokens TEXT NOT NULL,          -- space-joined BM25 tokens
    page INTEGER,                  -- 1-based page or slide of a paged format, else NULL
    location TEXT NOT NULL DEFAULT '',  -- "p. 3", "slide 2", "sheet 收入"
    ocr INTEGER NOT NULL DEFAULT 0 -- 1: text read from a page image
);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE INDEX chunks_hash ON chunks(content_hash);
"""


@dataclass(frozen=True)
class DocumentRecord:
    key: str
    root: str
    source: str
    title: str
    text: str
    file_sha1: str
    size: int
    mtime: float
    n_chunks: int = 0


def document_labels(documents: list[DocumentRecord]) -> dict[str, str]:
    """A name per document key for lists and menus: its source, with its folder when two folders hold that name."""
    counts = Counter(d.source for d in documents)
    return {d.key: d.source if counts[d.source] == 1 else f"{d.source} ({d.root})" for d in documents}


@dataclass(frozen=True)
class ChunkRecord:
    chunk: Chunk
    doc_key: str
    content_hash: str
    tokens: list[str]


class DocStore:
    """Read access to one index version's metadata; safe to share between threads."""

    def __init__(self, path: Path):
        self.path = path
        uri = f"file:{path}?mode=ro"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        columns = {r[1] for r in self._query("PRAGMA table_info(chunks)")}
        # Indexes written before pages were kept have no provenance columns: their chunks read as unpaged.
        self._provenance = "c.page, c.location, c.ocr" if "page" in columns else "NULL, '', 0"

    def close(self) -> None:
        self._conn.close()

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def count(self) -> int:
        return self._query("SELECT COUNT(*) FROM chunks")[0][0]

    def chunks(self, rows: list[int]) -> list[Chunk]:
        """Chunks for vector-store rows, in the order given."""
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        found = {
            r[0]: _chunk(r[1:])
            for r in self._query(
                f"SELECT c.row, c.chunk_id, c.source, c.title, c.paragraph, c.start, c.end, c.text, {self._provenance},"
                f" d.key FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.row IN ({marks})",
                tuple(rows),
            )
        }
        return [found[r] for r in rows]

    def chunk_records(self) -> list[ChunkRecord]:
        rows = self._query(
            "SELECT c.row, c.chunk_id, c.source, c.title, c.paragraph, c.start, c.end, c.text,"
            f" {self._provenance}, d.key, c.content_hash, c.tokens"
            " FROM chunks c JOIN documents d ON d.id = c.doc_id ORDER BY c.row"
        )
        return [
            ChunkRecord(
                chunk=_chunk(r[1:12]),
                doc_key=r[11],
                content_hash=r[12],
                tokens=r[13].split(" ") if r[13] else [],
            )
            for r in rows
        ]

    def tokens(self) -> list[list[str]]:
        return [t.split(" ") if t else [] for (t,) in self._query("SELECT tokens FROM chunks ORDER BY row")]

    def documents(self) -> list[DocumentRecord]:
        rows = self._query(
            "SELECT d.key, d.root, d.source, d.title, d.text, d.file_sha1, d.size, d.mtime,"
            " (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id) FROM documents d ORDER BY d.root, d.source"
        )
        return [DocumentRecord(*r) for r in rows]

    def document_text(self, key: str) -> str | None:
        """The cleaned text of the document with this key (``Chunk.doc_key``); a source name is accepted
        when it names one document only."""
        rows = self._query("SELECT text FROM documents WHERE key = ?", (key,))
        if not rows:
            rows = self._query("SELECT text FROM documents WHERE source = ? LIMIT 2", (key,))
        return rows[0][0] if len(rows) == 1 else None


def _chunk(r: tuple) -> Chunk:
    """A Chunk from (chunk_id, source, title, paragraph, start, end, text, page, location, ocr, document key)."""
    return Chunk(id=r[0], source=r[1], title=r[2], paragraph=r[3], start=r[4], end=r[5], text=r[6],
                 page=r[7], location=r[8] or "", ocr=bool(r[9]), doc_key=r[10])


def write_docstore(path: Path, documents: list[DocumentRecord], chunks: list[ChunkRecord]) -> None:
    """Write a new docstore file; chunk order = vector-store row order."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        ids = {}
        for i, d in enumerate(documents):
            ids[d.key] = i
            conn.execute(
                "INSERT INTO documents (id, key, root, source, title, text, file_sha1, size, mtime)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (i, d.key, d.root, d.source, d.title, d.text, d.file_sha1, d.size, d.mtime),
            )
        conn.executemany(
            "INSERT INTO chunks (row, chunk_id, doc_id, source, title, paragraph, start, end, text, content_hash,"
            " tokens, page, location, ocr) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    row,
                    c.chunk.id,
                    ids[c.doc_key],
                    c.chunk.source,
                    c.chunk.title,
                    c.chunk.paragraph,
                    c.chunk.start,
                    c.chunk.end,
                    c.chunk.text,
                    c.content_hash,
                    " ".join(c.tokens),
                    c.chunk.page,
                    c.chunk.location,
                    int(c.chunk.ocr),
                )
                for row, c in enumerate(chunks)
            ],
        )
        conn.commit()
    finally:
        conn.close()
