"""Fulfilment workers: deliver a job, retry with backoff, then give up and refund."""

from __future__ import annotations

from celery import Task, shared_task

from apps.carrier.errors import CarrierUnavailable
from apps.fulfilment import services, sim


@shared_task(bind=True, acks_late=True, max_retries=services.MAX_ATTEMPTS - 1)
def job_deliver_task(self: Task, job_id: int, chunk: bool = True) -> str:
    """Idempotent: each unit carries its own idempotency key at the carrier.

    A first run takes the chunk path (``services.job_deliver_chunked``: the job and up to
    ``FULFILMENT_DRAIN_CHUNK`` - 1 other ready top-ups and data packs, sent concurrently); a
    retry, or ``chunk=False``, delivers the one job (``job_deliver``)."""
    try:
        if chunk and not self.request.retries:
            status = services.job_deliver_chunked(job_id=job_id)
            if status != services.IN_ANOTHER_CHUNK or not _ran_before(self.request.id):
                return status
            # This message ran before and its worker died (it was that drain): resume the job.
        return services.job_deliver(job_id=job_id)
    except CarrierUnavailable as exc:
        if self.request.is_eager:
            return "retry_later"  # the beat's jobs_retry_stuck picks it up
        if self.request.retries >= (self.max_retries or 0):
            # Refunded now only if nothing can have reached the carrier; else asked first.
            return services.job_give_up(job_id=job_id)
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


def _ran_before(task_id: str | None) -> bool:
    """Whether an earlier run of this message started (and was lost with its worker)."""
    from apps.core.models import TaskRun

    return bool(task_id) and TaskRun.objects.filter(pk=task_id, started__gt=1).exists()


@shared_task(acks_late=True)
def jobs_retry_stuck_task() -> int:
    """Beat, every minute."""
    return services.jobs_retry_stuck()


@shared_task(acks_late=True)
def cards_housekeeping_task() -> dict[str, int]:
    """Beat, every minute: finish interrupted card redemptions, recount cards sold online."""
    from apps.fulfilment.cards.batches import cards_stock_sync_all
    from apps.fulfilment.cards.redeem import cards_finish_interrupted

    return {"finished": cards_finish_interrupted(), "skus": cards_stock_sync_all()}


@shared_task(bind=True, acks_late=True, max_retries=8)
def sim_activate_task(self: Task, line_id: int) -> str:
    """Idempotent: the activation carries one idempotency key per line at the carrier."""
    try:
        return sim.sim_activate(line_id=line_id)
    except CarrierUnavailable as exc:
        if self.request.is_eager:
            return "retry_later"  # the beat's sim_activations_retry picks it up
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@shared_task(acks_late=True)
def sim_activations_retry_task() -> int:
    """Beat, every minute."""
    return sim.sim_activations_retry()


@shared_task(acks_late=True)
def shipment_register_task(shipment_id: int) -> str:
    """Register a new parcel with its courier; idempotent (a registered parcel is skipped)."""
    from apps.fulfilment.shipping.shipments import shipment_register

    return shipment_register(shipment_id=shipment_id)


@shared_task(acks_late=True)
def shipments_register_task() -> int:
    """Beat, every minute: register again the parcels the courier did not take yet."""
    from apps.fulfilment.shipping.shipments import shipments_register_pending

    return shipments_register_pending()


# The names these tasks had in ``orders`` (shipping moved to fulfilment): messages already
# queued under them, or a beat not yet restarted, still reach the tasks above.
@shared_task(name="apps.orders.tasks.shipment_register_task", acks_late=True)
def shipment_register_forward(shipment_id: int) -> str:
    return shipment_register_task(shipment_id)


@shared_task(name="apps.orders.tasks.shipments_register_task", acks_late=True)
def shipments_register_forward() -> int:
    return shipments_register_task()
