"""One interface for every chat engine, so the pipeline never knows which one answers.

Engines load their model lazily, on the first call that needs it, and keep it for the rest of the process:
loading takes seconds to minutes on a CPU, so two generators for the same (engine, model) share one copy.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

Loaded = TypeVar("Loaded")

# (engine, model) -> loaded model object, shared by every generator in this process.
_loaded_models: dict[tuple[str, str], Any] = {}
_loading_lock = threading.Lock()


def load_once(engine: str, model: str, load: Callable[[], Loaded]) -> Loaded:
    """Return the model loaded for (engine, model), calling ``load`` only the first time."""
    key = (engine, model)
    with _loading_lock:
        if key not in _loaded_models:
            _loaded_models[key] = load()
        return _loaded_models[key]


def forget_loaded_models() -> None:
    """Drop every cached model (tests and long-running UIs that switch models use this)."""
    with _loading_lock:
        _loaded_models.clear()


class Generator(ABC):
    """A chat model behind one streaming call.

    ``name`` is the engine ("llamacpp", "transformers", "openai"); ``model`` is what the user chose
    (a path or a model id), shown in answers and in the UI.
    """

    name: str
    model: str
    # The model runs in this process, as one shared instance that answers one request at a time: requests take
    # turns at it in arrival order (``rag.app.runtime.ask_in_turn``). False for a server that queues on its own.
    local: bool = True

    @abstractmethod
    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        """Yield the answer in pieces as the model produces them (greedy when temperature is 0)."""

    def complete(self, messages: list[dict], **kw) -> str:
        """The whole answer at once."""
        return "".join(self.stream(messages, **kw))

    def warm_up(self) -> None:
        """Load the model now instead of on the first question (the UI calls this at start-up)."""

    def render_prompt(self, messages: list[dict]) -> str | None:
        """The exact text the model is given for ``messages``, when the engine can tell (None otherwise)."""
        return None

    def yes_probability(self, messages: list[dict], *, yes: tuple[str, ...], no: tuple[str, ...]) -> float | None:
        """How sure the model is that its reply to ``messages`` starts with one of ``yes`` rather than ``no``:
        P(yes) / (P(yes) + P(no)) over its first token, read from its probabilities instead of its sampled text
        (rag/answer/model_judge.py). None when the engine cannot read them."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


def cut_at_stop(pieces: Iterable[str], stop: list[str] | None) -> Iterator[str]:
    """Pass pieces through until a stop string appears, even one split across pieces; drop it and what follows.

    Engines that cannot stop on strings themselves (or servers that ignore ``stop``) use this, so every
    engine honours ``stop`` the same way.
    """
    stops = [s for s in (stop or []) if s]
    if not stops:
        yield from pieces
        return
    keep_back = max(len(s) for s in stops) - 1  # a stop string may start in the tail we hold back
    pending = ""
    for piece in pieces:
        pending += piece
        hits = [i for i in (pending.find(s) for s in stops) if i >= 0]
        if hits:
            if min(hits):
                yield pending[: min(hits)]
            return
        if len(pending) > keep_back:
            cut = len(pending) - keep_back
            yield pending[:cut]
            pending = pending[cut:]
    if pending:
        yield pending
