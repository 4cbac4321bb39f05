"""Seconds per ingest stage, so a slow `yuanwen index` says where its time went.

Code marks a stage with ``with stage("chunk"):``; a caller that wants the figures wraps the work in
``with recording() as seconds:``. Time inside a nested stage counts for the nested one only, so the
figures add up to the wall time of the stages. Outside ``recording()`` a stage costs one lookup.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

# The active recording: seconds per stage, plus the stack of open stages' child time.
_clock = time.perf_counter
_active: ContextVar[tuple[dict[str, float], list[float]] | None] = ContextVar("yuanwen_stages", default=None)


@contextlib.contextmanager
def recording() -> Iterator[dict[str, float]]:
    """Collect stage seconds (exclusive of nested stages) into the yielded dict, in first-seen order."""
    seconds: dict[str, float] = {}
    token = _active.set((seconds, []))
    try:
        yield seconds
    finally:
        _active.reset(token)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    active = _active.get()
    if active is None:
        yield
        return
    seconds, children = active
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
