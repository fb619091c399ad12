"""Delivering paid electronic goods (airtime, data packs, plan changes, add-ons, points) exactly
once, and refunding what cannot be.

Every unit of a line is applied under its own idempotency key (``fulfilment:<job>:<unit>``).
On a timeout or a lost answer the carrier is first asked whether the key was applied
(``carrier.services.provision_once``); a job whose carrier stays unavailable is retried with
backoff and, after ``MAX_ATTEMPTS``, failed and refunded automatically for what was not
delivered. No transaction is open during a carrier call.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.selectors import user_profile
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import sms_queue
from apps.catalog.selectors import delivery_specs
from apps.core.audit import audited_transition
from apps.core.errors import DomainError
from apps.core.tasks import enqueue_on_commit
from apps.fulfilment.delivery import LineUndeliverable, delivered_text, unit_deliver
from apps.fulfilment.models import FulfilmentJob
from apps.orders import selectors as order_selectors
from apps.orders.models import OrderLine
from apps.orders.services import order_line_fulfilment_set
from apps.payments.services import refund_automatic

logger = logging.getLogger(__name__)
Status = FulfilmentJob.Status
MAX_ATTEMPTS = 5
Kind = FulfilmentJob.Kind
# Catalog product type code -> job kind.
TYPE_KINDS = {
    "airtime": Kind.AIRTIME, "data_pack": Kind.DATA_PACK, "plan": Kind.PLAN_CHANGE,
    "addon": Kind.ADDON, "points": Kind.POINTS,
}  # fmt: skip


def _volume_mb(volume: object) -> int:
    text = str(volume).upper().strip()
    if text.endswith("GB"):
        return int(float(text[:-2]) * 1024)
    if text.endswith("MB"):
        return int(float(text[:-2]))
    return int(text or 0)


def _int(value: object) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0


def jobs_create_for_order(order_number: str) -> None:
    """Create a job per electronic line of a just-paid order; deliver them after commit.

    Runs inside the transaction that marks the order paid (registered with orders). Idempotent:
    a line has at most one job.
    """
    order = order_selectors.order_get(number=order_number)
    if order is None:
        return
    specs = delivery_specs(product_ids=[line.product_id for line in order.lines])
    for line in order.lines:
        spec = specs.get(line.product_id)
        kind = TYPE_KINDS.get(spec.type_code) if spec else None
        if spec is None or kind is None or (not line.recipient and kind != Kind.POINTS):
            continue
        attributes = spec.attributes
        # Points go to the buyer's account; the SMS to the number given, else the buyer's.
        msisdn = line.recipient or (
            user_profile(user_id=order.user_id).phone if kind == Kind.POINTS else ""
        )
        job, created = FulfilmentJob.objects.get_or_create(
            order_line_id=line.id,
            defaults={
                "order_number": order_number, "kind": kind, "msisdn": msisdn, "units": line.quantity,
                "label": line.product_name[:128], "offer_code": str(attributes.get("offer_code") or "")[:32],
                "points": _int(attributes.get("points")) if kind == Kind.POINTS else 0,
                "user_id": order.user_id,
                "amount_fen": int(attributes.get("face_value", 0)) * 100 if kind == FulfilmentJob.Kind.AIRTIME else 0,  # type: ignore[call-overload]
                "volume_mb": _volume_mb(attributes.get("volume", 0)) if kind == FulfilmentJob.Kind.DATA_PACK else 0,
                "validity_days": int(attributes.get("validity_days", 0)) if kind == FulfilmentJob.Kind.DATA_PACK else 0,  # type: ignore[call-overload]
                "refund_fen": line.total_fen,
            },
        )  # fmt: skip
        if created:
            from apps.fulfilment.tasks import job_deliver_task  # the task module imports this one

            enqueue_on_commit(job_deliver_task, job.pk)


def _move(job: FulfilmentJob, status: str, **after: object) -> None:
    audited_transition(
        job, status, object_type="fulfilment_job", object_id=job.pk, action_prefix="fulfilment",
        refused=lambda details: ValueError(f"fulfilment job {job.pk}: {details}"), after=after,
    )  # fmt: skip


def job_deliver(*, job_id: int) -> str:
    """Apply the job's remaining units at the carrier; safe to run any number of times.

    Raises ``CarrierUnavailable`` when the outcome is unknown (the caller retries later); a
    refusal by the carrier fails the job and refunds it at once.
    """
    with transaction.atomic():
        job = FulfilmentJob.objects.select_for_update().get(pk=job_id)
        if job.status in (Status.DELIVERED, Status.REFUNDED):
            return job.status
        line_state = (
            OrderLine.objects.filter(pk=job.order_line_id)
            .values_list("fulfilment", flat=True)
            .first()
        )
        if line_state in (OrderLine.Fulfilment.REFUNDED, OrderLine.Fulfilment.CANCELLED):
            # The whole order was refunded first: deliver nothing, and refund nothing twice.
            if job.status != Status.FAILED:
                _move(job, Status.FAILED, reason="ORDER_REFUNDED")
            _move(job, Status.REFUNDED, amount_fen=0)
            job.last_error = "ORDER_REFUNDED"
            job.save(update_fields=["status", "last_error", "updated_at"])
            return Status.REFUNDED
        _move(job, Status.DELIVERING, attempt=job.attempts + 1)
        job.attempts += 1
        job.save(update_fields=["status", "attempts", "updated_at"])
    order_line_fulfilment_set(line_id=job.order_line_id, status=OrderLine.Fulfilment.DELIVERING)
    for unit in range(job.delivered_units, job.units):
        try:
            request_id, effective_from = unit_deliver(job, unit)
        except CarrierUnavailable as exc:
            FulfilmentJob.objects.filter(pk=job.pk).update(
                last_error=exc.code, updated_at=timezone.now()
            )
            raise
        except LineUndeliverable as exc:
            return job_fail(job_id=job.pk, reason=exc.reason)
        except (CarrierRejected, SubscriberNotFound) as exc:
            return job_fail(job_id=job.pk, reason=getattr(exc, "carrier_code", "") or exc.code)
        FulfilmentJob.objects.filter(pk=job.pk).update(
            delivered_units=unit + 1, updated_at=timezone.now(),
            **({"carrier_request_id": request_id, "effective_from": effective_from} if request_id else {}),
        )  # fmt: skip
    with transaction.atomic():
        job = FulfilmentJob.objects.select_for_update().get(pk=job_id)
        if job.status != Status.DELIVERING:
            return job.status
        _move(job, Status.DELIVERED)
        job.last_error = ""
        job.save(update_fields=["status", "last_error", "updated_at"])
        sms_queue(msisdn=job.msisdn, purpose="notice", text=delivered_text(job))
    order_line_fulfilment_set(line_id=job.order_line_id, status=OrderLine.Fulfilment.DELIVERED)
    return Status.DELIVERED


def job_fail(*, job_id: int, reason: str) -> str:
    """Give up on a job: refund the buyer for the units not delivered, automatically."""
    with transaction.atomic():
        job = FulfilmentJob.objects.select_for_update().get(pk=job_id)
        if job.status in (Status.DELIVERED, Status.REFUNDED):
            return job.status
        if job.status != Status.FAILED:
            _move(job, Status.FAILED, reason=reason)
            job.last_error = reason[:200]
            job.save(update_fields=["status", "last_error", "updated_at"])
        order_line_fulfilment_set(
            line_id=job.order_line_id, status=OrderLine.Fulfilment.FAILED, note=reason
        )
        undelivered = job.units - job.delivered_units
        amount = job.refund_fen * undelivered // job.units
        if amount > 0:
            refund_automatic(purpose="order", reference=job.order_number, amount_fen=amount,
                             reason=f"自动退款：交付失败（{reason}）", key=f"fulfilment:{job.pk}")  # fmt: skip
        _move(job, Status.REFUNDED, amount_fen=amount)
        job.save(update_fields=["status", "updated_at"])
        order_line_fulfilment_set(
            line_id=job.order_line_id, status=OrderLine.Fulfilment.REFUNDED, note=reason
        )
    return Status.REFUNDED


def jobs_retry_stuck(*, older_than_seconds: int = 60, limit: int = 200) -> int:
    """Beat: run again jobs left delivering (a worker died, the carrier was down), failing and
    refunding those past ``MAX_ATTEMPTS``."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    rows = list(
        FulfilmentJob.objects.filter(status__in=[Status.PENDING, Status.DELIVERING], updated_at__lt=cutoff)
        .order_by("updated_at").values_list("pk", "attempts")[:limit]
    )  # fmt: skip
    for job_id, attempts in rows:
        try:
            if attempts >= MAX_ATTEMPTS:
                job_fail(job_id=job_id, reason="CARRIER_UNAVAILABLE")
            else:
                job_deliver(job_id=job_id)
        except CarrierUnavailable:
            continue
        except DomainError:
            # One job in a state nobody expected must not stop the others being retried.
            logger.exception("fulfilment job %s could not be retried", job_id)
    return len(rows)
