"""Mobile business workers: apply a subscriber's plan change or add-on, retry what is stuck."""

from __future__ import annotations

from celery import Task, shared_task

from apps.carrier.errors import CarrierUnavailable
from apps.mobile import services as line_services


@shared_task(bind=True, acks_late=True, max_retries=line_services.MAX_ATTEMPTS - 1)
def line_request_apply_task(self: Task, request_id: int) -> str:
    """A subscriber's plan change or add-on; idempotent under the request's carrier key."""
    try:
        return line_services.line_request_apply(request_id=request_id)
    except CarrierUnavailable as exc:
        if self.request.is_eager:
            return "retry_later"  # the beat's line_requests_retry_stuck picks it up
        if self.request.retries >= (self.max_retries or 0):
            return line_services.line_request_give_up(request_id=request_id)
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@shared_task(acks_late=True)
def line_requests_retry_stuck_task() -> int:
    """Beat, every minute."""
    return line_services.line_requests_retry_stuck()


# The line pages moved here from ``apps.mobile``; messages queued before the move
# (a request waiting out a retry countdown, a beat tick) carry the old names. These forward
# them to the tasks above. Drop them one release after the move.
LEGACY_PREFIX = "apps.fulfilment.tasks."


@shared_task(name=LEGACY_PREFIX + "line_request_apply_task", acks_late=True)
def legacy_line_request_apply_task(request_id: int) -> None:
    line_request_apply_task.delay(request_id)


@shared_task(name=LEGACY_PREFIX + "line_requests_retry_stuck_task", acks_late=True)
def legacy_line_requests_retry_stuck_task() -> None:
    line_requests_retry_stuck_task.delay()
