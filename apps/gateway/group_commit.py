"""Group commit: the accepted SMS of concurrent calls in one process, written in one transaction.

A call hands its rows to ``GroupCommit.submit`` and waits; the first caller while nobody is
writing becomes the *leader*: it takes every pending item, writes them all with one
``write(items)`` call (one transaction: multi-row INSERTs, one broker message) and wakes the
others. Calls that arrive while a batch is being written queue up and form the next batch,
whose first item leads it. So batches grow with the load and nobody waits for a timer: a
lone call is written at once, as before.

Each call answers only after its batch has **committed**: an accepted message is never lost
when the process dies after answering (see docs/performance.md, "Partner gateway"). A failed
write fails every call of its batch (each answers with the error, none is half-written).
Inside a caller's own transaction (tests, a service composing calls) the item is written
directly in that transaction: another call's rows must not commit or roll back with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.db import connection

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Pending(Generic[T, R]):
    item: T
    result: R | None = None
    error: BaseException | None = None
    done: bool = False
    lead: bool = False
    ready: threading.Event = field(default_factory=threading.Event)


class GroupCommit(Generic[T, R]):
    """``write(items) -> results`` (one result per item, in order) run by a leader thread for
    every pending item at once; ``max_batch`` items at most per write."""

    def __init__(self, write: Callable[[list[T]], list[R]], *, max_batch: int = 500) -> None:
        self._write = write
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending[T, R]] = []
        self._writing = False
        self.batches = 0  # for tests and the benchmark: how many writes, how many items
        self.items = 0

    def submit(self, item: T) -> R:
        if connection.in_atomic_block:
            return self._write([item])[0]
        pending: _Pending[T, R] = _Pending(item)
        with self._lock:
            self._queue.append(pending)
            if self._writing:
                lead = False
            else:
                self._writing = lead = True
        if not lead:
            pending.ready.wait()
            if not pending.done:  # woken to lead the next batch
                self._lead()
        else:
            self._lead()
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        try:
            results = self._write([p.item for p in batch])
        except BaseException as exc:  # every call of the batch answers with the error
            for p in batch:
                p.error, p.done = exc, True
        else:
            for p, result in zip(batch, results, strict=True):
                p.result, p.done = result, True
        with self._lock:
            self.batches += 1
            self.items += len(batch)
            if self._queue:
                self._queue[0].ready.set()  # the first waiting call leads the next batch
            else:
                self._writing = False
        for p in batch:
            p.ready.set()
