"""Recording decisions cheaply: no round trip of their own, one bulk INSERT per batch.

``decide`` leaves its row in this process's buffer; the next decision's counter script
appends the buffered rows to a Redis list in the same round trip (``take``), and a timer
thread pushes what is left after a quiet second. ``decisions_flush`` (beat, every few
seconds) writes the list with one statement per batch and trims it. Rows carry their own id
and time, so a batch written twice (a flusher that died between the insert and the trim)
lands once. When Redis is down rows are written to the table at once instead: slower, never
lost. A process killed outright loses at most its last second of records.
"""

from __future__ import annotations

import atexit
import json
import threading
import uuid
from collections import deque
from datetime import datetime
from typing import Any

import redis
from django.utils.dateparse import parse_datetime

from apps.core.redis import get_redis

QUEUE_KEY = "risk:decisions"
FLUSH_LOCK_KEY = "risk:decisions:flush"


PUSH_AFTER_SECONDS = 1.0
_pending: deque[str] = deque()
_timer_lock = threading.Lock()
_timer: threading.Timer | None = None


def record(row: dict[str, Any], *, degraded: bool = False) -> None:
    """Buffer one decision row (``created_at`` ISO text, ``id`` a UUID string); a decision
    made without Redis is written at once."""
    if degraded:
        _insert([row])
        return
    _pending.append(json.dumps(row, default=str))
    _arm()


def take(limit: int = 200) -> list[str]:
    """The buffered rows for the next script call to push (give them back with ``give_back``)."""
    rows: list[str] = []
    while _pending and len(rows) < limit:
        try:
            rows.append(_pending.popleft())
        except IndexError:
            break
    return rows


def give_back(rows: list[str]) -> None:
    """Rows a script call could not push: to the table now (Redis is failing)."""
    if rows:
        _insert([json.loads(r) for r in rows])


def push_pending() -> int:
    """Push every buffered row to the Redis list now (the timer, the flush, exit)."""
    pushed = 0
    while rows := take(1000):
        try:
            get_redis().rpush(QUEUE_KEY, *rows)
        except redis.RedisError:
            give_back(rows)
        pushed += len(rows)
    return pushed


def pending_discard() -> None:
    """Forget the buffer (the test suite, between tests: each test's decisions are its own)."""
    _pending.clear()


def _fire() -> None:
    global _timer
    with _timer_lock:
        _timer = None
    try:
        push_pending()
    except Exception:
        import logging

        logging.getLogger(__name__).exception("risk: pushing buffered decisions failed")


def _arm() -> None:
    global _timer
    if _timer is not None:
        return
    with _timer_lock:
        if _timer is None:
            _timer = threading.Timer(PUSH_AFTER_SECONDS, _fire)
            _timer.daemon = True
            _timer.start()


atexit.register(push_pending)


def _model_row(row: dict[str, Any]) -> Any:
    from apps.risk.models import DecisionRecord

    values = dict(row)
    created = values["created_at"]
    values["created_at"] = created if isinstance(created, datetime) else parse_datetime(created)
    values["id"] = uuid.UUID(str(values["id"]))
    return DecisionRecord(**values)


def _insert(rows: list[dict[str, Any]]) -> list[str]:
    from apps.risk.models import DecisionRecord

    DecisionRecord.objects.bulk_create([_model_row(r) for r in rows], ignore_conflicts=True)
    return [str(r["id"]) for r in rows]


def decisions_flush(*, batch: int = 2000) -> list[str]:
    """Write the queued decisions to the table; returns their ids. One flusher at a time."""
    push_pending()
    client = get_redis()
    if not client.set(FLUSH_LOCK_KEY, "1", nx=True, ex=60):
        return []
    written: list[str] = []
    try:
        while True:
            raw = client.lrange(QUEUE_KEY, 0, batch - 1)
            if not raw:
                break
            written += _insert([json.loads(item) for item in raw])
            client.ltrim(QUEUE_KEY, len(raw), -1)
            if len(raw) < batch:
                break
    finally:
        client.delete(FLUSH_LOCK_KEY)
    return written
