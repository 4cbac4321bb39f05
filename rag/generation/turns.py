"""Turns at a shared model, granted in arrival order, with each waiter's place in the line.

A process holds one instance of a local chat model, and a model context can answer one prompt at a time.
``threading.Lock`` lets any waiter win when it is released, so under load a request can be overtaken again and
again; a ``TurnQueue`` serves requests first come, first served, and tells each waiter how many are ahead of it
(the UI and the API show that place instead of failing with "busy").
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice


class Turn:
    """One request's place in a ``TurnQueue``: ``wait`` until it is at the front, ``leave`` when done (or given up).

    Use as a context manager (``with queue.join() as turn: turn.wait(); ...``) so a request that fails or is
    abandoned while waiting or holding never blocks the line."""

    def __init__(self, queue: "TurnQueue"):
        self._queue = queue
        self._left = False

    def ahead(self) -> int:
        """How many requests must finish before this one's turn (0: it is this one's turn; -1 once it has left)."""
        return self._queue._ahead(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it is this request's turn (True), or ``timeout`` seconds have passed (False)."""
        return self._queue._wait(self, timeout)

    def leave(self) -> None:
        """Give the turn to the next request, or leave the line without having had it. Idempotent."""
        self._queue._leave(self)

    def __enter__(self) -> "Turn":
        return self

    def __exit__(self, *exc) -> None:
        self.leave()


class TurnQueue:
    """A first-come-first-served lock (or, with ``slots`` > 1, semaphore) whose waiters can read their place.

    ``with queue.turn():`` is the plain lock, for code that does not show the place."""

    def __init__(self, slots: int = 1):
        if slots < 1:
            raise ValueError("a TurnQueue needs at least one slot")
        self.slots = slots
        self._changed = threading.Condition(threading.Lock())
        self._line: deque[Turn] = deque()  # the first ``slots`` hold a turn, the rest wait in order

    def join(self) -> Turn:
        """Enter the line at its end; the returned turn holds a slot once ``ahead()`` is 0."""
        turn = Turn(self)
        with self._changed:
            self._line.append(turn)
        return turn

    def __len__(self) -> int:
        """Requests in the line, those being served included."""
        with self._changed:
            return len(self._line)

    @contextmanager
    def turn(self) -> Iterator[Turn]:
        """Wait for a turn and hold it for the ``with`` block (for code that needs only the order and the
        exclusion, not the place)."""
        with self.join() as turn:
            turn.wait()
            yield turn

    def _ahead(self, turn: Turn) -> int:
        with self._changed:
            try:
                return max(0, self._line.index(turn) - self.slots + 1)
            except ValueError:
                return -1

    def _wait(self, turn: Turn, timeout: float | None) -> bool:
        with self._changed:
            if turn._left:
                raise RuntimeError("this turn has already left the queue")
            return self._changed.wait_for(lambda: any(t is turn for t in islice(self._line, self.slots)), timeout)

    def _leave(self, turn: Turn) -> None:
        with self._changed:
            if turn._left:
                return
            turn._left = True
            self._line.remove(turn)
            self._changed.notify_all()
