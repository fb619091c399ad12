"""Bulk distribution workers: fan a batch out in chunks, deliver each chunk, retry the unknown."""

from __future__ import annotations

from celery import Task, shared_task

from apps.carrier.errors import CarrierUnavailable
from apps.enterprise import services, sponsored


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def bulk_batch_dispatch_task(batch_id: int) -> int:
    """Idempotent: enqueues only rows still waiting; their tasks skip rows already done."""
    return services.bulk_batch_dispatch(batch_id=batch_id)


# A chunk makes at most CHUNK_SIZE x 3 carrier calls of CARRIER_TIMEOUT_SECONDS each in the
# worst case (timeout, by-key check, resend); the limits leave room for that at 5 s.
@shared_task(bind=True, acks_late=True, max_retries=services.MAX_ATTEMPTS - 1,
             soft_time_limit=420, time_limit=450)  # fmt: skip
def bulk_rows_deliver_task(self: Task, batch_id: int, row_ids: list[int]) -> int:
    """Idempotent: each row carries its own idempotency key at the carrier. Rows whose
    outcome stays unknown are retried with backoff, then failed (their price released)."""
    unknown = services.bulk_rows_deliver(batch_id=batch_id, row_ids=row_ids)
    if not unknown:
        return len(row_ids)
    if self.request.is_eager:
        return len(row_ids) - len(unknown)  # the beat's bulk_rows_retry_stuck picks them up
    if self.request.retries >= (self.max_retries or 0):
        for row_id in unknown:
            services.bulk_row_fail(row_id=row_id, reason=CarrierUnavailable.code)
        services.bulk_batch_finish_if_done(batch_id=batch_id)
        return len(row_ids) - len(unknown)
    raise self.retry(args=(batch_id, unknown), countdown=min(300, 10 * 2**self.request.retries))


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def bulk_rows_retry_stuck_task() -> int:
    """Beat, every minute."""
    return services.bulk_rows_retry_stuck()


@shared_task(bind=True, acks_late=True, max_retries=sponsored.MAX_ATTEMPTS - 1,
             soft_time_limit=60, time_limit=90)  # fmt: skip
def sponsored_deliver_task(self: Task, grant_id: int) -> str:
    """Idempotent: the grant carries its own key at the carrier. An unknown outcome is retried
    with backoff, then given up: released if nothing can have reached the carrier, else asked
    about first (``unconfirmed``). Eager runs leave it to the beat."""
    try:
        return sponsored.sponsored_deliver(grant_id=grant_id)
    except CarrierUnavailable:
        if self.request.is_eager:
            return "delivering"  # the beat's sponsored_retry_stuck picks it up
        if self.request.retries >= (self.max_retries or 0):
            return sponsored.sponsored_give_up(grant_id=grant_id)
        raise self.retry(countdown=min(300, 10 * 2**self.request.retries)) from None


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def sponsored_retry_stuck_task() -> int:
    """Beat, every minute: also asks the carrier about unconfirmed grants."""
    return sponsored.sponsored_retry_stuck()


# Bulk distribution moved here from ``apps.fulfilment.bulk``. Messages queued before the move
# (chunks waiting out a retry countdown, a beat tick) still carry the old task names; these
# forward them, under the new names, to the tasks above. Drop them one release after the move.
LEGACY_PREFIX = "apps.fulfilment.bulk.tasks."


@shared_task(name=LEGACY_PREFIX + "bulk_batch_dispatch_task", acks_late=True)
def legacy_bulk_batch_dispatch_task(batch_id: int) -> None:
    bulk_batch_dispatch_task.delay(batch_id)


@shared_task(name=LEGACY_PREFIX + "bulk_rows_deliver_task", acks_late=True)
def legacy_bulk_rows_deliver_task(batch_id: int, row_ids: list[int]) -> None:
    bulk_rows_deliver_task.delay(batch_id, row_ids)


@shared_task(name=LEGACY_PREFIX + "bulk_rows_retry_stuck_task", acks_late=True)
def legacy_bulk_rows_retry_stuck_task() -> None:
    bulk_rows_retry_stuck_task.delay()
