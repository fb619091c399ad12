"""A small timer queue on a few daemon threads: delivery reports and payment notifications."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from django.db import connection

logger = logging.getLogger(__name__)


class _Scheduler:
    """Run jobs at their due time on a few daemon threads.

    A thread per message would let a burst of messages, or a dead callback that keeps reports
    retrying, grow the process without bound; a heap and a fixed set of threads do not.
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._ready = threading.Condition()
        self._started = False

    def call_later(self, delay_s: float, job: Callable[[], None]) -> None:
        with self._ready:
            if not self._started:
                # Started on first use, so that threads exist only in the serving process.
                for number in range(self._workers):
                    name = f"sandbox-timer-{number}"
                    threading.Thread(target=self._run, name=name, daemon=True).start()
                self._started = True
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._sequence), job))
            self._ready.notify()

    def _next_job(self) -> Callable[[], None]:
        with self._ready:
            while True:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    return heapq.heappop(self._heap)[2]
                self._ready.wait(self._heap[0][0] - now if self._heap else None)

    def _run(self) -> None:
        while True:
            job = self._next_job()
            try:
                job()
            except Exception:
                logger.exception("scheduled job failed")
            finally:
                # Each job may have opened this thread's own connection; do not leave it idle.
                connection.close()


_scheduler = _Scheduler(workers=8)


def call_later(delay_s: float, job: Callable[[], None]) -> None:
    """Run ``job`` on a timer thread after ``delay_s`` seconds (its DB connection is closed after)."""
    _scheduler.call_later(delay_s, job)
