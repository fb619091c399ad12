"""Celery tasks that talk to the carrier; they take ids and are safe to run twice."""

from __future__ import annotations

import uuid

from celery import Task, shared_task

from apps.carrier import services
from apps.carrier.errors import CarrierUnavailable


@shared_task(bind=True, max_retries=5, acks_late=True)
def sms_submit_task(self: Task, message_id: str, text: str) -> None:
    """Send one SMS; retry with backoff while the carrier is unavailable, then mark it failed."""
    try:
        services.sms_submit(message_id=uuid.UUID(message_id), text=text)
    except CarrierUnavailable as exc:
        # In-process (eager) runs would block the caller's request, so they give up at once.
        if self.request.is_eager or self.request.retries >= (self.max_retries or 0):
            services.sms_mark_failed(message_id=uuid.UUID(message_id), error_code=exc.code)
            return
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@shared_task(acks_late=True)
def sms_submit_many_task(items: list[list[str]]) -> int:
    """Send a batch of queued SMS concurrently (``sms_queue_many``); those the carrier cannot
    answer for now go on one by one through ``sms_submit_task`` and its backoff. Safe to run
    twice: only a queued message is sent, under its own id as the idempotency key."""
    texts = dict(items)
    later = services.sms_submit_many(items=[(uuid.UUID(m), t) for m, t in texts.items()])
    for message_id in later:
        sms_submit_task.apply_async(args=[str(message_id), texts[str(message_id)]], countdown=5)
    return len(items) - len(later)
