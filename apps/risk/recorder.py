"""Recording decisions cheaply: no round trip of their own, one bulk INSERT per batch.

``decide`` leaves an allowed decision's row in this process's buffer; the next decision's
counter script appends the buffered rows to a Redis list in the same round trip (``take``),
and the process's writer thread pushes what is left within ``PUSH_AFTER_SECONDS``. A
decision that stopped something (block, review, challenge) is pushed before ``decide``
returns. ``decisions_flush`` (beat, every few seconds) writes the list with one statement per
batch and trims it. Rows carry their own id and time, so a batch written twice lands once.

When Redis is down rows go to the table at once, and never inside the caller's transaction:
the caller of a fail-closed decision raises, and its rollback must not take the record
along, so they are written on a connection of their own then. A process killed outright
loses at most its last ``PUSH_AFTER_SECONDS`` of allowed decisions (never a refusal).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import uuid
from collections import deque
from datetime import datetime
from typing import Any

import redis
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils.dateparse import parse_datetime

from apps.core.redis import get_redis

logger = logging.getLogger(__name__)

QUEUE_KEY = "risk:decisions"
FLUSH_LOCK_KEY = "risk:decisions:flush"


PUSH_AFTER_SECONDS = 1.0
_pending: deque[str] = deque()
_writer_lock = threading.Lock()
_writer: threading.Thread | None = None


def record(row: dict[str, Any], *, degraded: bool = False, durable: bool = False) -> None:
    """Buffer one decision row (``created_at`` ISO text, ``id`` a UUID string). ``durable``:
    stored (Redis list, or the table) before this returns; a decision made without Redis is
    written to the table at once."""
    if degraded:
        _store([row])
        return
    _pending.append(json.dumps(row, default=str))
    if durable:
        push_pending()
    else:
        _writer_ensure()


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
        _store([json.loads(r) for r in rows])


def push_pending() -> int:
    """Push every buffered row to the Redis list now (the writer, durable rows, exit)."""
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


def _writer_ensure() -> None:
    """Start this process's writer thread once (again in a forked child): one comparison
    on the caller's path, where a timer per quiet second cost a thread start each."""
    global _writer
    if _writer is not None:
        return
    with _writer_lock:
        if _writer is None:
            writer = threading.Thread(target=_write_forever, name="risk-recorder", daemon=True)
            writer.start()
            _writer = writer


def _writer_forget() -> None:
    """In a forked child: the parent's thread did not come along (nor did its buffer)."""
    global _writer
    _writer = None
    _pending.clear()


def _write_forever() -> None:
    while True:
        time.sleep(PUSH_AFTER_SECONDS)
        if not _pending:
            continue
        try:
            push_pending()
        except Exception:
            logger.exception("risk: pushing buffered decisions failed")


atexit.register(push_pending)
os.register_at_fork(after_in_child=_writer_forget)


def _store(rows: list[dict[str, Any]]) -> None:
    """Write rows to the table now, outside any transaction a caller has open."""
    if _callers_transaction_open() or threading.current_thread() is _writer:
        _insert_apart(rows)
    else:
        _insert(rows)


def _callers_transaction_open() -> bool:
    # The test suite's own per-test transaction (marked by Django, as ``atomic(durable=True)``
    # reads it) is not a caller's: rows written in it are the test's to see and roll back.
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _insert_apart(rows: list[dict[str, Any]]) -> None:
    """The same INSERT on a connection of its own, committed at once and closed."""
    from apps.risk.models import DecisionRecord

    apart = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        fields = [f for f in DecisionRecord._meta.concrete_fields if f.column]
        columns = ", ".join(apart.ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        table = apart.ops.quote_name(DecisionRecord._meta.db_table)
        values = [
            [f.get_db_prep_save(getattr(model_row, f.attname), apart) for f in fields]
            for model_row in map(_model_row, rows)
        ]
        with apart.cursor() as cursor:
            cursor.executemany(
                # The names are the model's, quoted; the values are parameters.
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING",  # noqa: S608
                values,
            )
    finally:
        apart.close()


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


# The flusher trims what it wrote only while it still holds the lock: one that outlived its
# lock (a slow insert) leaves the rows to the next flusher, which writes them again (landing
# once) instead of trimming rows nobody wrote.
_TRIM_IF_HELD = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
return 1
"""
_RELEASE_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
FLUSH_LOCK_SECONDS = 60


def decisions_flush(*, batch: int = 2000) -> list[str]:
    """Write the queued decisions to the table; returns their ids. One flusher at a time."""
    push_pending()
    client = get_redis()
    token = uuid.uuid4().hex
    if not client.set(FLUSH_LOCK_KEY, token, nx=True, ex=FLUSH_LOCK_SECONDS):
        return []
    written: list[str] = []
    try:
        while True:
            raw = client.lrange(QUEUE_KEY, 0, batch - 1)
            if not raw:
                break
            written += _insert([json.loads(item) for item in raw])
            held = client.register_script(_TRIM_IF_HELD)(
                keys=[QUEUE_KEY, FLUSH_LOCK_KEY], args=[token, len(raw)]
            )
            if not held or len(raw) < batch:
                break
    finally:
        client.register_script(_RELEASE_IF_HELD)(keys=[FLUSH_LOCK_KEY], args=[token])
    return written
