"""Recording decisions cheaply: one RPUSH per decision, one bulk INSERT per batch.

``decide`` appends the row to a Redis list; ``decisions_flush`` (beat, every few seconds)
writes what is there with one statement and trims it. Rows carry their own id and time, so a
batch written twice (a flusher that died between the insert and the trim) lands once. When
Redis is down the row is written at once instead: slower, never lost.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import redis
from django.utils.dateparse import parse_datetime

from apps.core.redis import get_redis

QUEUE_KEY = "risk:decisions"
FLUSH_LOCK_KEY = "risk:decisions:flush"


def record(row: dict[str, Any]) -> None:
    """Queue one decision row (``created_at`` a datetime, ``id`` a UUID string)."""
    try:
        get_redis().rpush(QUEUE_KEY, json.dumps(row, default=str))
    except redis.RedisError:
        _insert([row])


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
