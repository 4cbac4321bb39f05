"""Chunk and document metadata in SQLite (not pickle): provenance, cleaned text, BM25 tokens.

Row numbers of the ``chunks`` table are the row numbers of the vector store, so a search
hit maps straight to its chunk. The cleaned document text is kept so a UI can show and
highlight ``text[start:end]`` without re-reading (or re-cleaning) the original file.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from .schema import Chunk

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
    tokens TEXT NOT NULL           -- space-joined BM25 tokens
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
            r[0]: Chunk(id=r[1], source=r[2], title=r[3], paragraph=r[4], start=r[5], end=r[6], text=r[7])
            for r in self._query(
                f"SELECT row, chunk_id, source, title, paragraph, start, end, text FROM chunks WHERE row IN ({marks})",
                tuple(rows),
            )
        }
        return [found[r] for r in rows]

    def chunk_records(self) -> list[ChunkRecord]:
        rows = self._query(
            "SELECT c.row, c.chunk_id, c.source, c.title, c.paragraph, c.start, c.end, c.text, d.key,"
            " c.content_hash, c.tokens FROM chunks c JOIN documents d ON d.id = c.doc_id ORDER BY c.row"
        )
        return [
            ChunkRecord(
                chunk=Chunk(id=r[1], source=r[2], title=r[3], paragraph=r[4], start=r[5], end=r[6], text=r[7]),
                doc_key=r[8],
                content_hash=r[9],
                tokens=r[10].split(" ") if r[10] else [],
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

    def document_text(self, source: str) -> str | None:
        rows = self._query("SELECT text FROM documents WHERE source = ? ORDER BY id LIMIT 1", (source,))
        return rows[0][0] if rows else None


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
            " tokens) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
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
                )
                for row, c in enumerate(chunks)
            ],
        )
        conn.commit()
    finally:
        conn.close()
