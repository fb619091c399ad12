"""Percentiles and medians for small samples (linear interpolation between ranks)."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0-100), interpolated like numpy's default; NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    items = [v for v in values if not math.isnan(v)]
    return statistics.median(items) if items else math.nan


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    """Seconds per call of ``fn``, ``n`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times
