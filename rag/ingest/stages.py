"""Seconds per ingest stage, so a slow `yuanwen index` says where its time went.

Code marks a stage with ``with stage("chunk"):``; a caller that wants the figures wraps the work in
``with recording() as seconds:``. Time inside a nested stage counts for the nested one only, so the
figures add up to the wall time of the stages. Outside ``recording()`` a stage costs one lookup.
Work run in another thread alongside the main one (``beside(fn)``) is recorded under its stage name plus
``BESIDE``: those seconds overlap the main thread's and are not part of the sum.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

BESIDE = "(beside embed)"
# The active recording: seconds per stage, the stack of open stages' child time, and the suffix of stage names.
_clock = time.perf_counter
_active: ContextVar[tuple[dict[str, float], list[float], str] | None] = ContextVar("yuanwen_stages", default=None)


@contextlib.contextmanager
def recording() -> Iterator[dict[str, float]]:
    """Collect stage seconds (exclusive of nested stages) into the yielded dict, in first-seen order."""
    seconds: dict[str, float] = {}
    token = _active.set((seconds, [], ""))
    try:
        yield seconds
    finally:
        _active.reset(token)


def beside(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` for another thread: its stages go to the caller's recording, named "<stage> (beside embed)"."""
    active = _active.get()

    def run(*args, **kwargs) -> T:
        if active is None:
            return fn(*args, **kwargs)
        token = _active.set((active[0], [], f" {BESIDE}"))
        try:
            return fn(*args, **kwargs)
        finally:
            _active.reset(token)

    return run


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    active = _active.get()
    if active is None:
        yield
        return
    seconds, children, suffix = active
    name += suffix
    children.append(0.0)
    started = _clock()
    try:
        yield
    finally:
        took = _clock() - started
        nested = children.pop()
        seconds[name] = seconds.get(name, 0.0) + took - nested
        if children:
            children[-1] += took
