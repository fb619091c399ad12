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


@shared_task(bind=True, acks_late=True)
def sms_submit_batch_task(self: Task, items: list[list[str]]) -> None:
    """Send a batch of SMS ``[[message_id, text], ...]`` queued by ``sms_queue_many`` (one
    broker message for the batch). Safe to run twice: a message no longer queued is skipped.
    A message whose carrier is unavailable gets its own retrying ``sms_submit_task``."""
    for message_id, text in items:
        try:
            services.sms_submit(message_id=uuid.UUID(message_id), text=text)
        except CarrierUnavailable as exc:
            if self.request.is_eager:
                services.sms_mark_failed(message_id=uuid.UUID(message_id), error_code=exc.code)
                continue
            sms_submit_task.apply_async((message_id, text), countdown=5)
