"""Metering every call without slowing it: a per-process buffer, a Redis list, batched writes.

``meter_record`` appends to a list in memory; the request that fills it to ``FLUSH_RECORDS``
(or finds it older than ``FLUSH_SECONDS``), and a background thread once a second, push it to
the Redis list ``gw:meter`` in one RPUSH. ``meter_drain`` (beat, every minute) moves the list
into ``gateway_callrecord`` and adds the same rows to ``gateway_usagehourly`` in one SQL
statement: only rows that were actually inserted are counted, so draining a batch twice (a
crash before LTRIM) counts it once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime

import redis
from django.db import connection, transaction

from apps.core.redis import get_redis
from apps.gateway.context import GatewayApp
from apps.gateway.metrics import METER_DROPPED
from apps.gateway.models import LATENCY_BUCKETS_MS

logger = logging.getLogger(__name__)

METER_KEY = "gw:meter"
DRAIN_LOCK_KEY = "gw:meter:drain"
FLUSH_RECORDS = 200
FLUSH_SECONDS = 1.0
# While Redis is away a process keeps this many records, then drops the oldest (and counts).
MAX_BUFFERED = 100_000

_lock = threading.Lock()
_buffer: list[str] = []
_oldest: float = 0.0
_flusher_pid: int | None = None


def meter_record(
    *,
    call_id: uuid.UUID,
    gateway_app: GatewayApp,
    capability: str,
    operation: str,
    subscription_id: int | None,
    status_code: int,
    error_code: str,
    latency_us: int,
    correlator: str,
) -> None:
    """Buffer one call's record (microseconds of work; Redis is touched once per batch)."""
    global _oldest
    record = json.dumps(
        [
            datetime.now(UTC).isoformat(),
            str(call_id),
            gateway_app.app_id,
            gateway_app.partner_id,
            gateway_app.environment,
            capability,
            operation[:64],
            subscription_id,
            status_code,
            error_code[:64],
            latency_us,
            correlator[:256],
            gateway_app.client_id,
        ],
        separators=(",", ":"),
    )
    _ensure_flusher()
    with _lock:
        if not _buffer:
            _oldest = time.monotonic()
        _buffer.append(record)
        due = len(_buffer) >= FLUSH_RECORDS or time.monotonic() - _oldest >= FLUSH_SECONDS
    if due:
        meter_flush()


def meter_flush() -> int:
    """Push this process's buffered records to Redis; return how many were pushed."""
    global _buffer
    with _lock:
        batch, _buffer = _buffer, []
    if not batch:
        return 0
    try:
        get_redis().rpush(METER_KEY, *batch)
    except redis.RedisError as exc:
        logger.error("gateway: metering buffer not flushed (%s records kept): %s", len(batch), exc)
        with _lock:
            _buffer = batch + _buffer
            overflow = len(_buffer) - MAX_BUFFERED
            if overflow > 0:
                del _buffer[:overflow]
                METER_DROPPED.inc(overflow)
        return 0
    return len(batch)


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            meter_flush()
        except Exception:  # the thread must outlive any one failure
            logger.exception("gateway: metering flush failed")


def _ensure_flusher() -> None:
    """One flusher thread per process, started after a fork (gunicorn workers)."""
    global _flusher_pid
    if _flusher_pid == os.getpid():
        return
    with _lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
    threading.Thread(target=_flush_forever, daemon=True, name="gateway-meter").start()


def _bucket_sql() -> str:
    """ARRAY[count per latency bucket] over the inserted rows."""
    parts = []
    lower = None
    for bound in LATENCY_BUCKETS_MS:
        upper_us = bound * 1000
        cond = (
            f"latency_us <= {upper_us}"
            if lower is None
            else f"latency_us > {lower} AND latency_us <= {upper_us}"
        )
        parts.append(f"count(*) FILTER (WHERE {cond})")
        lower = upper_us
    parts.append(f"count(*) FILTER (WHERE latency_us > {lower})")
    return "ARRAY[" + ", ".join(parts) + "]::bigint[]"


_DRAIN_TEMPLATE = """
WITH batch AS (
    SELECT * FROM jsonb_to_recordset(%s::jsonb) AS x(
        created_at timestamptz, id uuid, app_id bigint, partner_id bigint, environment text,
        capability text, operation text, subscription_id bigint, status_code smallint,
        error_code text, latency_us integer, correlator text, client_id text)
), inserted AS (
    INSERT INTO gateway_callrecord (created_at, id, app_id, partner_id, environment, capability,
        operation, subscription_id, status_code, error_code, latency_us, correlator, client_id)
    SELECT created_at, id, app_id, partner_id, environment, capability, operation,
        subscription_id, status_code, error_code, latency_us, correlator, client_id FROM batch
    ON CONFLICT DO NOTHING
    RETURNING app_id, partner_id, environment, capability, created_at, status_code, latency_us
)
INSERT INTO gateway_usagehourly (app_id, partner_id, environment, capability, hour, calls,
    errors, throttled, latency_sum_us, latency_buckets, updated_at)
SELECT app_id, partner_id, environment, capability,
    date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
    count(*), count(*) FILTER (WHERE status_code >= 400),
    count(*) FILTER (WHERE status_code = 429), sum(latency_us), BUCKETS, now()
FROM inserted GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (app_id, environment, capability, hour) DO UPDATE SET
    calls = gateway_usagehourly.calls + EXCLUDED.calls,
    errors = gateway_usagehourly.errors + EXCLUDED.errors,
    throttled = gateway_usagehourly.throttled + EXCLUDED.throttled,
    latency_sum_us = gateway_usagehourly.latency_sum_us + EXCLUDED.latency_sum_us,
    latency_buckets = ARRAY(
        SELECT coalesce(t.a, 0) + coalesce(t.b, 0)
        FROM unnest(gateway_usagehourly.latency_buckets, EXCLUDED.latency_buckets)
            WITH ORDINALITY AS t(a, b, n)
        ORDER BY t.n),
    updated_at = now()
"""
_DRAIN_SQL = _DRAIN_TEMPLATE.replace("BUCKETS", _bucket_sql())

_FIELDS = (
    "created_at",
    "id",
    "app_id",
    "partner_id",
    "environment",
    "capability",
    "operation",
    "subscription_id",
    "status_code",
    "error_code",
    "latency_us",
    "correlator",
    "client_id",
)


def meter_drain(*, batch_size: int = 5000, max_batches: int = 200) -> int:
    """Write the Redis list into the raw table and the hourly rollup; return rows inserted.

    Takes ``gw:meter:drain`` (a Redis lock) so that one drainer runs at a time; each batch is
    written in one transaction and trimmed from the list only after it commits. Safe to run
    again at any point: a record already written is skipped and not counted again.
    """
    client = get_redis()
    token = uuid.uuid4().hex
    if not client.set(DRAIN_LOCK_KEY, token, nx=True, ex=300):
        return 0
    written = 0
    try:
        for _ in range(max_batches):
            raw = client.lrange(METER_KEY, 0, batch_size - 1)
            if not raw:
                break
            rows = [dict(zip(_FIELDS, json.loads(item), strict=True)) for item in raw]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_DRAIN_SQL, [json.dumps(rows)])
                written += len(rows)
            client.ltrim(METER_KEY, len(raw), -1)
            if len(raw) < batch_size:
                break
    finally:
        if client.get(DRAIN_LOCK_KEY) == token.encode():
            client.delete(DRAIN_LOCK_KEY)
    return written


def meter_discard() -> None:
    """Drop this process's buffered records without writing them (tests)."""
    with _lock:
        _buffer.clear()
