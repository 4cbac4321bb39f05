"""What a process loads once and shares: the open index, the embedder, and the turns at the chat model.

The CLI and every UI session go through here (by way of ``rag.app.builder``), so a model is loaded
once per process and an index is reopened only when an indexer has published a new version
(``CURRENT`` changed); searches that are under way keep the version they started with.
Chats that need the process's one chat model wait for it in arrival order (``ask_in_turn``), and
learn their place in the line while they wait; extractive chats take one of a few answer slots.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.generation.turns import TurnQueue
from rag.schema import Answer, final_answer
from rag.store.index import Index, current_version

_lock = threading.Lock()
_open: dict[Path, Index] = {}

# Every chat answered by a local model (llama.cpp, transformers) in this process, UI and API alike.
MODEL_TURNS = TurnQueue()
# Extractive chats use only the CPU: a few at a time finish as soon as twenty interleaved would, and leave the
# interpreter free enough for /health and the UI to answer quickly under load.
ANSWER_SLOTS = TurnQueue(slots=max(2, os.cpu_count() or 1))
WAIT_POLL_S = 0.25  # how often a waiting request looks at its place
WAIT_REPEAT_S = 5.0  # an unchanged place is reported again this often (keeps a stream alive)


def open_index(directory: str | Path, *, embedder: str | None = None, milvus_token: str = "") -> Index:
    """The live version of the index at ``directory`` (reopened after an update)."""
    directory = Path(directory).resolve()
    with _lock:
        cached = _open.get(directory)
        if cached is not None and current_version(directory) == cached.version_dir:
            if embedder and embedder != cached.manifest.embedder:
                return Index.open(directory, embedder=embedder)  # raises the mismatch error
            return cached
        index = Index.open(directory, embedder=embedder, milvus_token=milvus_token)
        _open[directory] = index
        return index


def get_embedder(name: str | None = None):
    from embeddings.loader import load_embedder

    return load_embedder(name or None)


@dataclass(frozen=True)
class Waiting:
    """What ``ask_in_turn`` yields while the request waits: ``ahead`` requests are before it at the model
    (0: the wait is over, its answer starts now)."""

    ahead: int


def ask_in_turn(pipe, question: str, history: list[dict] | None = None) -> Iterator[str | Answer | Waiting]:
    """``pipe.ask_stream`` once it is this request's turn at the local chat model (or, extractive, in an answer
    slot), with ``Waiting`` items until then: when its place changes, every few seconds, and ``Waiting(0)`` when
    a wait is over. Models on a server do not queue here. Closing the iterator leaves the line, also while
    waiting."""
    generator = pipe.generator
    if generator is not None and not getattr(generator, "local", True):
        yield from pipe.ask_stream(question, history)
        return
    with (MODEL_TURNS if generator is not None else ANSWER_SLOTS).join() as turn:
        shown, shown_at = None, 0.0
        while not turn.wait(WAIT_POLL_S):
            ahead = turn.ahead()
            if ahead != shown or time.monotonic() - shown_at >= WAIT_REPEAT_S:
                shown, shown_at = ahead, time.monotonic()
                yield Waiting(ahead)
        if shown is not None:
            yield Waiting(0)
        yield from pipe.ask_stream(question, history)


def answer_in_turn(pipe, question: str, history: list[dict] | None = None) -> Answer:
    """The final Answer of ``ask_in_turn`` (for callers that do not stream)."""
    return final_answer(ask_in_turn(pipe, question, history))
