"""Handing a Celery task on through the outbox, and the outbox's own tasks."""

from __future__ import annotations

import uuid
from typing import Any

from celery import Task, shared_task
from django.conf import settings


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> uuid.UUID:
    """Send ``task`` (with ids, not objects) once the caller's transaction commits.

    Writes a ``core.task`` outbox event in that transaction: nothing is sent on rollback, and
    a message lost after commit (the process died, the broker was down, the worker was killed)
    is sent again by the outbox sweeper until the task has returned once. Outside a
    transaction the event commits at once. Returns the event id, which is the task's id.
    """
    from django.db import transaction

    from apps.core import outbox

    with transaction.atomic(savepoint=False):
        return outbox.publish_task(task.name, list(args), dict(kwargs))


@shared_task(bind=True, acks_late=True, max_retries=getattr(settings, "OUTBOX_MAX_ATTEMPTS", 5) - 1)
def outbox_deliver_task(self: Task, event_id: str) -> int:
    """Run an event's handlers not yet applied; retry the failed ones with backoff.

    Idempotent by event id (receipts). A handler that keeps failing makes the event a dead
    letter after ``OUTBOX_MAX_ATTEMPTS`` runs.
    """
    from apps.core import outbox

    failures = outbox.event_deliver(event_id=uuid.UUID(event_id))
    if not failures:
        return 0
    error = failures[0][1]
    if self.request.is_eager or self.request.retries >= (self.max_retries or 0):
        raise error
    raise self.retry(exc=error, countdown=min(300, 5 * 2**self.request.retries))


@shared_task(acks_late=True)
def outbox_sweep_task() -> int:
    """Beat, every minute: send again the events no worker has finished."""
    from apps.core import outbox

    return outbox.events_sweep()


@shared_task(acks_late=True)
def outbox_prune_task() -> int:
    """Beat, daily: forget the events done more than ``OUTBOX_KEEP_DAYS`` ago."""
    from apps.core import outbox

    return outbox.events_prune(older_than_days=settings.OUTBOX_KEEP_DAYS)


@shared_task(acks_late=True)
def partitions_task() -> dict[str, dict[str, list[str]]]:
    """Beat, every six hours: partitions of the registered event tables (audit events, ledger
    lines) made ahead, and those past their retention detached (``apps.core.partitions``)."""
    from apps.core import partitions

    return partitions.partitions_maintain()
