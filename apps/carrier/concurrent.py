"""Many carrier calls in flight from one process: a shared pool of threads that only wait on
the network.

The carrier answers in tens of milliseconds and the adapter (``httpx.Client``, thread-safe) does
little work per call, so a chunk of deliveries or SMS is sent concurrently through this pool
instead of one call at a time per worker thread. What runs here must not touch the database:
Django's connections are per thread, and a pool thread's connection would sit outside the
caller's transaction (and outside a test's). The caller reads before and writes after.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings

T = TypeVar("T")
R = TypeVar("R")


@functools.cache
def _pool(size: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="carrier-call")


def carrier_map(call: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[call(item) for item in items]``, up to ``CARRIER_CALLS_IN_FLIGHT`` at a time, in the
    items' order. ``call`` should catch what it expects (an exception re-raises here, after the
    other calls ran)."""
    work = list(items)
    if len(work) <= 1:
        return [call(item) for item in work]
    size = int(getattr(settings, "CARRIER_CALLS_IN_FLIGHT", 32))
    return list(_pool(max(1, size)).map(call, work))
