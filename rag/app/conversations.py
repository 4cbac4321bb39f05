"""Saved conversations and their feedback, in one SQLite file beside the knowledge bases.

A turn is written once, when its answer is final, in one transaction with its conversation (so a
crash mid-answer loses only that unfinished answer, never an earlier one or the file): WAL
journal, ``synchronous=FULL``. Every read and write names the user; with ``--auth`` that is the
login, without it the one local user, so one user never sees another's conversations or feedback.
A connection is opened per call: the server answers from several threads.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import YuanwenError
from rag.schema import Answer, Chunk, Citation, Passage

DB_NAME = "conversations.sqlite3"
LOCAL_USER = "local"
TITLE_CHARS = 40
RATINGS = {"up": 1, "down": -1}
# Pipeline details kept with a turn (the rest — prompts, per-sentence checks — is re-derivable noise).
KEPT_DETAILS = ("timings", "ttft_s", "refusal", "fallback", "translated_terms", "query_terms")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    kb TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_user ON conversations (user, updated DESC);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    record TEXT NOT NULL,
    created REAL NOT NULL,
    rating INTEGER,
    comment TEXT NOT NULL DEFAULT '',
    rated REAL
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation_id, id);
"""


@dataclass
class Turn:
    """One question and its final answer, as saved (``answer`` rebuilt with its citations and passages)."""

    id: int
    conversation_id: str
    answer: Answer
    created: float
    rating: int | None = None
    comment: str = ""

    def to_json(self) -> dict:
        return {"id": self.id, "question": self.answer.question, "answer": self.answer.answer,
                "refused": self.answer.refused, "query": self.answer.query, "generator": self.answer.generator,
                "model": self.answer.model, "citations": self.answer.citation_records(),
                "details": self.answer.details, "created": self.created,
                "feedback": {"rating": rating_name(self.rating), "comment": self.comment}}


@dataclass
class Conversation:
    id: str
    user: str
    kb: str
    title: str
    created: float
    updated: float
    turns: list[Turn] = field(default_factory=list)

    def to_json(self, with_turns: bool = False) -> dict:
        out = {"id": self.id, "kb": self.kb, "title": self.title, "created": self.created, "updated": self.updated}
        if with_turns:
            out["turns"] = [t.to_json() for t in self.turns]
        return out

    def history(self) -> list[dict]:
        """The turns as the pipeline's chat history (so a reopened conversation's follow-ups work)."""
        out = []
        for t in self.turns:
            out += [{"role": "user", "content": t.answer.question}, {"role": "assistant", "content": t.answer.answer}]
        return out


def rating_name(rating: int | None) -> str | None:
    return {1: "up", -1: "down"}.get(rating)


def title_for(question: str) -> str:
    text = " ".join(question.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def answer_record(answer: Answer) -> dict:
    """What is kept of an answer: the text, citations with spans, the passages (for the Sources panel),
    the rewritten query, who answered, timings."""
    return {
        "question": answer.question, "answer": answer.answer, "refused": answer.refused, "query": answer.query,
        "generator": answer.generator, "model": answer.model,
        "citations": [c.to_json() for c in answer.citations],
        "passages": [{"id": p.chunk.id, "source": p.chunk.source, "title": p.chunk.title,
                      "paragraph": p.chunk.paragraph, "start": p.chunk.start, "end": p.chunk.end,
                      "text": p.chunk.text, "score": round(float(p.score), 6), "page": p.chunk.page,
                      "location": p.chunk.location, "ocr": p.chunk.ocr, "doc_key": p.chunk.doc_key}
                     for p in answer.passages],
        "details": {k: v for k, v in answer.details.items() if k in KEPT_DETAILS},
    }


def answer_from_record(data: dict) -> Answer:
    passages = [Passage(Chunk(id=p["id"], source=p["source"], title=p["title"], paragraph=p["paragraph"],
                              start=p["start"], end=p["end"], text=p["text"], page=p.get("page"),
                              location=p.get("location", ""), ocr=bool(p.get("ocr", False)),
                              doc_key=p.get("doc_key", "")), p["score"])
                for p in data.get("passages", [])]
    return Answer(question=data["question"], answer=data["answer"], refused=bool(data["refused"]),
                  generator=data.get("generator", ""), model=data.get("model", ""),
                  citations=[Citation.from_json(c) for c in data.get("citations", [])], passages=passages,
                  query=data.get("query", ""), details=dict(data.get("details", {})))


class ConversationStore:
    """The conversations of every user of one data folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: str | Path) -> "ConversationStore":
        return cls(Path(data_dir) / DB_NAME)

    @contextlib.contextmanager
    def _connect(self):
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise YuanwenError(f"cannot open the conversation store {self.path} ({exc})",
                               "check that the data folder is writable") from exc
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        except sqlite3.DatabaseError as exc:
            raise YuanwenError(f"the conversation store {self.path} failed ({exc})",
                               "check the disk; `sqlite3 FILE 'PRAGMA integrity_check'` tells whether it is intact") from exc
        finally:
            db.close()

    @contextlib.contextmanager
    def _transaction(self):
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- writing ------------------------------------------------------------------------------
    def add_turn(self, user: str, conversation_id: str | None, kb: str, answer: Answer) -> tuple[str, int]:
        """Save a final answer; a new conversation (titled by its first question) when ``conversation_id``
        is empty. Returns (conversation id, turn id)."""
        now = time.time()
        record = json.dumps(answer_record(answer), ensure_ascii=False, default=str)
        with self._transaction() as db:
            if conversation_id:
                self._owned(db, user, conversation_id)
                db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
            else:
                conversation_id = uuid.uuid4().hex[:12]
                db.execute("INSERT INTO conversations (id, user, kb, title, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                           (conversation_id, user, kb, title_for(answer.question), now, now))
            cur = db.execute("INSERT INTO turns (conversation_id, question, answer, refused, record, created) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (conversation_id, answer.question, answer.answer, int(answer.refused), record, now))
            return conversation_id, int(cur.lastrowid)

    def rename(self, user: str, conversation_id: str, title: str) -> None:
        title = " ".join((title or "").split())
        if not title:
            raise YuanwenError("a conversation needs a title", "type a title first")
        with self._transaction() as db:
            self._owned(db, user, conversation_id)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title[:200], conversation_id))

    def delete(self, user: str, conversation_id: str) -> None:
        with self._transaction() as db:
            self._owned(db, user, conversation_id)
            db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def rate(self, user: str, turn_id: int, rating: str | None, comment: str = "") -> None:
        """Store 👍 ("up") / 👎 ("down") / None (cleared) and an optional comment on one of the user's answers."""
        if rating not in (None, *RATINGS):
            raise YuanwenError(f"unknown rating {rating!r}", "use up or down")
        with self._transaction() as db:
            row = db.execute("SELECT t.id FROM turns t JOIN conversations c ON c.id = t.conversation_id "
                             "WHERE t.id = ? AND c.user = ?", (int(turn_id), user)).fetchone()
            if row is None:
                raise YuanwenError(f"no answer {turn_id} in your conversations", "rate an answer you were given")
            db.execute("UPDATE turns SET rating = ?, comment = ?, rated = ? WHERE id = ?",
                       (RATINGS.get(rating), (comment or "").strip()[:2000], time.time(), int(turn_id)))

    @staticmethod
    def _owned(db, user: str, conversation_id: str) -> None:
        row = db.execute("SELECT user FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if row is None or row["user"] != user:  # another user's conversation is reported as missing
            raise YuanwenError(f"no conversation {conversation_id!r}", "list yours with `yuanwen conversations list`")

    # -- reading ------------------------------------------------------------------------------
    def list(self, user: str, kb: str | None = None, limit: int = 200) -> list[Conversation]:
        """The user's conversations, newest first (optionally of one knowledge base)."""
        sql = "SELECT * FROM conversations WHERE user = ?" + (" AND kb = ?" if kb else "")
        args = (user, kb) if kb else (user,)
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY updated DESC, rowid DESC LIMIT ?", (*args, int(limit))).fetchall()
        return [Conversation(r["id"], r["user"], r["kb"], r["title"], r["created"], r["updated"]) for r in rows]

    def get(self, user: str, conversation_id: str) -> Conversation:
        with self._connect() as db:
            self._owned(db, user, conversation_id)
            r = db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            turns = db.execute("SELECT * FROM turns WHERE conversation_id = ? ORDER BY id", (conversation_id,)).fetchall()
        conv = Conversation(r["id"], r["user"], r["kb"], r["title"], r["created"], r["updated"])
        conv.turns = [Turn(t["id"], conversation_id, answer_from_record(json.loads(t["record"])), t["created"],
                           t["rating"], t["comment"]) for t in turns]
        return conv

    def rated_turns(self, kb: str, user: str | None = None) -> list[Turn]:
        """Every rated answer in knowledge base ``kb`` (of one user, or of all when ``user`` is None: the
        feedback export is the server owner's tool), oldest first."""
        sql = ("SELECT t.* FROM turns t JOIN conversations c ON c.id = t.conversation_id "
               "WHERE c.kb = ? AND t.rating IS NOT NULL" + (" AND c.user = ?" if user else "") + " ORDER BY t.id")
        with self._connect() as db:
            rows = db.execute(sql, (kb, user) if user else (kb,)).fetchall()
        return [Turn(t["id"], t["conversation_id"], answer_from_record(json.loads(t["record"])), t["created"],
                     t["rating"], t["comment"]) for t in rows]

    def earlier_questions(self, turn: Turn) -> list[str]:
        """The questions asked before ``turn`` in its conversation (an eval line's ``history``)."""
        with self._connect() as db:
            rows = db.execute("SELECT question FROM turns WHERE conversation_id = ? AND id < ? ORDER BY id",
                              (turn.conversation_id, turn.id)).fetchall()
        return [r["question"] for r in rows]

    def integrity(self) -> str:
        with self._connect() as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]


def conversation_markdown(conv: Conversation) -> str:
    """The conversation as Markdown: each question, its answer with ``[n]`` markers, the rewritten
    query, who answered, feedback, then the numbered citations with their passages quoted."""
    from rag.generation.offline_models import display_name

    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(conv.created))
    lines = [f"# {conv.title}", "", f"Knowledge base: {conv.kb} · started {created} · {len(conv.turns)} question(s)", ""]
    for i, turn in enumerate(conv.turns, 1):
        a = turn.answer
        lines += [f"## {i}. {a.question}", "", a.answer, ""]
        if a.query and a.query != a.question:
            lines += [f"*Searched for: {a.query}*", ""]
        by = a.generator + (f" · {display_name(a.model)}" if a.model else "")
        lines += [f"*— {by}{' · refused' if a.refused else ''}*", ""]
        if turn.rating is not None:
            lines += [f"Feedback: {'👍' if turn.rating > 0 else '👎'}{' — ' + turn.comment if turn.comment else ''}", ""]
        for r in a.citation_records():
            head = f"[{r['n']}] {r['source']}" + (f" · {r['title']}" if r["title"] else "") + f", chars {r['start']}–{r['end']}"
            lines += [head, ""] + [f"> {line}" if line else ">" for line in r["text"].strip().splitlines()] + [""]
    return "\n".join(lines).rstrip() + "\n"
