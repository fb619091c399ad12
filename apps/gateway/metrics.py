"""Prometheus metrics of the gateway: per-capability calls and latency, never per app.

With several gunicorn workers each process counts for itself; set PROMETHEUS_MULTIPROC_DIR
(an empty directory, wiped at deploy) in the web processes' environment and ``/metrics`` sums
every worker's files (prometheus_client's multiprocess mode). Without it a process reports
only its own counts, which is right for a single process.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

CALLS = Counter(
    "gateway_calls_total",
    "Capability calls answered, by capability and status class (2xx, 4xx, 5xx).",
    ["capability", "status_class"],
)
LATENCY = Histogram(
    "gateway_call_duration_seconds",
    "Time from receiving a capability call to answering it.",
    ["capability"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REDIS_FAILURES = Counter(
    "gateway_redis_failures_total",
    "Calls that found Redis unreachable (limits, quota and replay checks skipped or refused).",
)
METER_DROPPED = Counter(
    "gateway_meter_records_dropped_total",
    "Call records dropped because the metering buffer was full while Redis was unreachable.",
)


def observe(capability: str, status: int, seconds: float) -> None:
    CALLS.labels(capability, f"{status // 100}xx").inc()
    LATENCY.labels(capability).observe(seconds)


def redis_failure() -> None:
    REDIS_FAILURES.inc()


def exposition() -> tuple[bytes, str]:
    """The text format for a scrape: every worker's counts in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
