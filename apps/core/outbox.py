"""The transactional outbox: work handed on is a row in the caller's transaction, sent after commit.

``publish`` writes one ``OutboxEvent`` inside the open transaction; nothing is sent on rollback.
After commit the dispatcher sends one Celery message per event whose task id is the event id
(with eager tasks, as in unit tests, it runs in-process). A topic's handlers run in
``outbox_deliver_task``, each in its own transaction together with a receipt row (event id,
handler name, unique), so a redelivered event skips the handlers that already committed.
``enqueue_on_commit`` (core.tasks) publishes a ``core.task`` event that names a Celery task:
the dispatcher sends that task itself, and the task's success acknowledges the event.

Events not done ``OUTBOX_REDELIVER_AFTER_SECONDS`` after they were last sent (the broker lost
the message, the worker was killed, the process died between commit and send) are sent again
by ``outbox_sweep_task`` (beat). Runs are counted before they start (core.taskruns), so an
event whose handler keeps failing, or keeps killing its worker, becomes a dead letter.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core import locks
from apps.core.models import OutboxEvent
from apps.core.transactions import insert_unless_conflict

logger = logging.getLogger(__name__)

TASK_TOPIC = "core.task"
DELIVER_TASK = "apps.core.tasks.outbox_deliver_task"


class OutboxError(RuntimeError):
    """A programming error: publishing outside a transaction, or to the reserved topic."""


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    key: str | None


Handler = Callable[[Event], None]
_HANDLERS: dict[str, dict[str, Handler]] = {}


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` for ``topic`` under its dotted name (at import time of a handlers module).

    The handler runs in its own transaction with the event's receipt; it must make no network
    call there: it records intent and hands further work on through ``publish``.
    """

    def register(fn: Handler) -> Handler:
        if topic == TASK_TOPIC:
            raise OutboxError(f"{TASK_TOPIC} is reserved for tasks")
        _HANDLERS.setdefault(topic, {})[f"{fn.__module__}.{fn.__qualname__}"] = fn
        return fn

    return register


def handlers_for(topic: str) -> dict[str, Handler]:
    """The handlers registered for ``topic``, by dotted name."""
    return dict(_HANDLERS.get(topic, {}))


def publish(topic: str, payload: dict[str, Any], *, key: str | None = None) -> uuid.UUID:
    """Write one event in the caller's transaction; it is sent after commit.

    Raises ``OutboxError`` when no atomic block is open. With ``key``, publishing the same key
    again returns the first event's id and writes nothing (a concurrent publisher of the same
    key waits for the first transaction, then gets its id).
    """
    if topic == TASK_TOPIC:
        raise OutboxError(f"{TASK_TOPIC} is published by core.tasks.enqueue_on_commit")
    return _publish(topic, payload, key=key)


def publish_many(topic: str, payloads: list[dict[str, Any]]) -> list[uuid.UUID]:
    """``publish`` (without keys) for many events of one topic: one multi-row INSERT in the
    caller's transaction, each event sent after commit as ``publish`` sends it. For a service
    that moves many rows in one transaction (fulfilment's chunked deliveries)."""
    if topic == TASK_TOPIC:
        raise OutboxError(f"{TASK_TOPIC} is published by core.tasks.enqueue_on_commit")
    if not transaction.get_connection().in_atomic_block:
        raise OutboxError("outbox.publish needs the caller's transaction (transaction.atomic)")
    now = timezone.now()
    events = [
        OutboxEvent(id=uuid.uuid4(), topic=topic, key=None, payload=payload, sent_at=now)
        for payload in payloads
    ]
    OutboxEvent.objects.bulk_create(events)
    for event in events:
        transaction.on_commit(functools.partial(_send, event.id, topic, event.payload))
    return [event.id for event in events]


def publish_task(task_name: str, args: list[Any], kwargs: dict[str, Any]) -> uuid.UUID:
    """A ``core.task`` event: the dispatcher sends ``task_name`` with these arguments."""
    return _publish(TASK_TOPIC, {"task": task_name, "args": args, "kwargs": kwargs}, key=None)


def _publish(topic: str, payload: dict[str, Any], *, key: str | None) -> uuid.UUID:
    if not transaction.get_connection().in_atomic_block:
        raise OutboxError("outbox.publish needs the caller's transaction (transaction.atomic)")
    event = OutboxEvent(id=uuid.uuid4(), topic=topic, key=key, payload=payload)
    event.sent_at = timezone.now()
    if key is None:
        event.save(force_insert=True)
    else:
        # One statement when the key is new: the insert says whether it claimed the key.
        if insert_unless_conflict(event) is None:
            return OutboxEvent.objects.filter(key=key).values_list("pk", flat=True).get()
    transaction.on_commit(functools.partial(_send, event.id, topic, payload))
    return event.id


def _send(event_id: uuid.UUID, topic: str, payload: dict[str, Any]) -> None:
    """Hand one committed event to the broker (or run it in-process when tasks are eager).

    A broker that is down loses nothing: the event stays pending and the sweeper sends it.
    """
    try:
        if topic == TASK_TOPIC:
            task = current_app.tasks[payload["task"]]
            task.apply_async(args=payload["args"], kwargs=payload["kwargs"], task_id=str(event_id))
        else:
            current_app.tasks[DELIVER_TASK].apply_async(args=[str(event_id)], task_id=str(event_id))
    except Exception:
        if current_app.conf.task_always_eager and current_app.conf.task_eager_propagates:
            raise
        logger.exception("outbox event %s not sent; the sweeper sends it again", event_id)


def event_deliver(*, event_id: uuid.UUID) -> list[tuple[str, BaseException]]:
    """Run the topic's handlers that have no receipt yet; return the ones that failed.

    Each handler runs in its own transaction with its receipt (idempotent by event id and
    handler name: a repeat, even a concurrent one, skips it). The event is done once every
    handler committed.
    """
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None or event.status != OutboxEvent.Status.PENDING:
        return []
    data = Event(id=event.id, topic=event.topic, payload=event.payload, key=event.key)
    failures: list[tuple[str, BaseException]] = []
    for name, fn in handlers_for(event.topic).items():
        try:
            with transaction.atomic():
                if _receipt_write(event.id, name):
                    fn(data)
        except Exception as exc:
            logger.warning("outbox handler %s failed on event %s: %r", name, event.id, exc)
            failures.append((name, exc))
    if failures:
        errors = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in failures)
        OutboxEvent.objects.filter(pk=event.id).update(last_error=errors[:4000])
    else:
        event_mark_done(event_id=event.id)
    return failures


def _receipt_write(event_id: uuid.UUID, handler_name: str) -> bool:
    """Insert the receipt; False when the handler already committed for this event."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_outboxreceipt (event_id, handler, created_at) VALUES (%s, %s, now())"
            " ON CONFLICT (event_id, handler) DO NOTHING RETURNING id",
            [event_id, handler_name],
        )
        return cursor.fetchone() is not None


def event_mark_done(*, event_id: uuid.UUID | str) -> None:
    """Acknowledge a pending event (a no-op for any other id)."""
    OutboxEvent.objects.filter(pk=event_id, status=OutboxEvent.Status.PENDING).update(
        status=OutboxEvent.Status.DONE, done_at=timezone.now()
    )


def event_mark_dead(*, event_id: uuid.UUID | str, error: str) -> None:
    """A pending event whose failures are exhausted (its dead letter is written by the caller)."""
    OutboxEvent.objects.filter(pk=event_id, status=OutboxEvent.Status.PENDING).update(
        status=OutboxEvent.Status.DEAD, last_error=error[:4000]
    )


def event_requeue(*, event_id: uuid.UUID | str) -> bool:
    """Make a dead event pending again and send it after commit (a dead letter's re-enqueue).

    Locks the event row. Returns False when ``event_id`` is not an outbox event.
    """
    event = locks.outbox_event_lock(event_id)
    if event is None:
        return False
    event.status, event.last_error, event.sent_at = OutboxEvent.Status.PENDING, "", timezone.now()
    event.save(update_fields=["status", "last_error", "sent_at"])
    transaction.on_commit(functools.partial(_send, event.id, event.topic, event.payload))
    return True


def events_sweep(*, older_than_seconds: float | None = None, limit: int = 500) -> int:
    """Send again the pending events last sent more than ``older_than_seconds`` ago.

    Rows are claimed with ``SKIP LOCKED`` (two sweepers never send the same event) and their
    ``sent_at`` moved to now; the messages go out after commit. Returns how many were sent.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.OUTBOX_REDELIVER_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    with transaction.atomic():
        due = list(
            locks.outbox_events_claim()
            .filter(status=OutboxEvent.Status.PENDING, sent_at__lte=cutoff)
            .values_list("id", "topic", "payload")[:limit]
        )
        OutboxEvent.objects.filter(pk__in=[row[0] for row in due]).update(sent_at=timezone.now())
    for event_id, topic, payload in due:
        _send(event_id, topic, payload)
    return len(due)


def events_prune(*, older_than_days: int) -> int:
    """Delete ``done`` events (and their receipts) finished more than ``older_than_days`` ago,
    and run counts untouched for as long (their message is gone); return how many events."""
    from apps.core.models import OutboxReceipt, TaskRun

    cutoff = timezone.now() - timedelta(days=older_than_days)
    with transaction.atomic():
        done = OutboxEvent.objects.filter(status=OutboxEvent.Status.DONE, done_at__lt=cutoff)
        OutboxReceipt.objects.filter(event_id__in=done.values("id")).delete()
        deleted, _ = done.delete()
        TaskRun.objects.filter(updated_at__lt=cutoff).delete()
    return deleted
