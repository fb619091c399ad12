"""Celery tasks for partner callbacks; they take ids and are safe to run twice."""

from __future__ import annotations

import uuid

from celery import Task, shared_task

from apps.gateway import callbacks


@shared_task(bind=True, acks_late=True)
def callback_deliver_task(self: Task, delivery_id: str) -> None:
    """One attempt; on a worker, the next one is scheduled after its backoff. In-process (no
    broker) the retry is left to the beat job, so that a dead partner never blocks a request."""
    state = callbacks.callback_deliver(delivery_id=uuid.UUID(delivery_id))
    if state != "pending" or self.request.is_eager:
        return
    wait = callbacks.callback_retry_wait(delivery_id=uuid.UUID(delivery_id))
    if wait is not None:
        callback_deliver_task.apply_async(args=[delivery_id], countdown=wait)


@shared_task
def callbacks_retry_due_task() -> int:
    return callbacks.callbacks_retry_due()
