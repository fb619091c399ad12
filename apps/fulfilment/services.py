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
from django.utils.translation import gettext as _

from apps.accounts.selectors import user_profile
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import sms_queue
from apps.catalog.selectors import delivery_specs
from apps.core.audit import audit_batch, audited_transition
from apps.core.errors import DomainError
from apps.core.money import to_fen
from apps.core.tasks import enqueue_on_commit
from apps.fulfilment.cards.batches import CARD_PRODUCT_TYPE
from apps.fulfilment.cards.sales import cards_allocate
from apps.fulfilment.delivery import LineUndeliverable, delivered_text, unit_deliver
from apps.fulfilment.models import FulfilmentJob
from apps.orders import selectors as order_selectors
from apps.orders.models import OrderLine
from apps.orders.services import order_line_fulfilment_set
from apps.orders.services.orders import OrderLineView
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
        if spec is not None and spec.type_code == CARD_PRODUCT_TYPE:
            _card_job_create(order_number=order_number, user_id=order.user_id, line=line)
            continue
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
                "amount_fen": to_fen(str(attributes.get("face_value", 0))) if kind == FulfilmentJob.Kind.AIRTIME else 0,
                "volume_mb": _volume_mb(attributes.get("volume", 0)) if kind == FulfilmentJob.Kind.DATA_PACK else 0,
                "validity_days": int(attributes.get("validity_days", 0)) if kind == FulfilmentJob.Kind.DATA_PACK else 0,  # type: ignore[call-overload]
                "refund_fen": line.total_fen,
            },
        )  # fmt: skip
        if created:
            from apps.fulfilment.tasks import job_deliver_task  # the task module imports this one

            enqueue_on_commit(job_deliver_task, job.pk)


def _card_job_create(*, order_number: str, user_id: int, line: OrderLineView) -> None:
    """A job for a line of cards; the cards are taken now, in the transaction that commits the
    SKU's stock, so stock and sellable cards stay equal. The job finishes after commit."""
    job, created = FulfilmentJob.objects.get_or_create(
        order_line_id=line.id,
        defaults={"order_number": order_number, "kind": FulfilmentJob.Kind.CARD, "msisdn": "",
                  "units": line.quantity, "refund_fen": line.total_fen},
    )  # fmt: skip
    if not created:
        return
    job.delivered_units = cards_allocate(line_id=line.id, sku_id=line.sku_id, units=line.quantity,
                                         user_id=user_id, order_number=order_number)  # fmt: skip
    job.save(update_fields=["delivered_units", "updated_at"])
    from apps.fulfilment.tasks import job_deliver_task  # the task module imports this one

    enqueue_on_commit(job_deliver_task, job.pk)


def _card_job_deliver(job: FulfilmentJob) -> bool:
    """Finish a card job (job row locked): take any cards still missing; True when the line has
    all its cards (job and line delivered), False when it must fail for want of cards."""
    line = OrderLine.objects.select_related("order").get(pk=job.order_line_id)
    job.delivered_units = cards_allocate(line_id=line.pk, sku_id=line.sku_id, units=job.units,
                                         user_id=line.order.user_id, order_number=job.order_number)  # fmt: skip
    if job.status == Status.PENDING:
        _move(job, Status.DELIVERING, attempt=job.attempts + 1)
        job.attempts += 1
    if job.delivered_units < job.units:
        job.save(update_fields=["status", "attempts", "delivered_units", "updated_at"])
        return False
    _move(job, Status.DELIVERED, cards=job.delivered_units)
    job.last_error = ""
    job.save(update_fields=["status", "attempts", "delivered_units", "last_error", "updated_at"])
    order_line_fulfilment_set(line_id=job.order_line_id, status=OrderLine.Fulfilment.DELIVERED)
    # The buyer is told where to read the cards; a PIN never travels by SMS.
    sms_queue(msisdn=user_profile(user_id=line.order.user_id).phone, purpose="notice",
              text=_("[CarrierHub] The cards of order %(order)s are ready: open the order to see their numbers and PINs.")
              % {"order": job.order_number})  # fmt: skip
    return True


def _move(job: FulfilmentJob, status: str, **after: object) -> None:
    audited_transition(
        job, status, object_type="fulfilment_job", object_id=job.pk, action_prefix="fulfilment",
        refused=lambda details: ValueError(f"fulfilment job {job.pk}: {details}"), after=after,
    )  # fmt: skip


def job_deliver(*, job_id: int) -> str:
    """Apply the job's remaining units at the carrier; safe to run any number of times.

    Two transactions around the carrier calls, each locking the job, then its order line (the
    order of ``job_fail`` too): the first moves both to delivering, the second records the last
    unit's result, moves both to delivered and queues the SMS; each writes its two audit events
    with one statement. Units before the last are
    recorded one by one as they are applied, so a retry resumes after them (and their keys make
    a repeat harmless anyway). Raises ``CarrierUnavailable`` when the outcome is unknown (the
    caller retries later); a refusal by the carrier fails the job and refunds it at once.
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
        if job.kind == FulfilmentJob.Kind.CARD:
            # No carrier call: the cards are taken, or the line fails, in this transaction.
            if _card_job_deliver(job):
                return Status.DELIVERED
            order_line_fulfilment_set(
                line_id=job.order_line_id, status=OrderLine.Fulfilment.DELIVERING
            )
            return job_fail(job_id=job.pk, reason="CARDS_SOLD_OUT")
        with audit_batch():
            _move(job, Status.DELIVERING, attempt=job.attempts + 1)
            job.attempts += 1
            job.save(update_fields=["status", "attempts", "updated_at"])
            if line_state != OrderLine.Fulfilment.DELIVERING:
                order_line_fulfilment_set(
                    line_id=job.order_line_id, status=OrderLine.Fulfilment.DELIVERING
                )
    last: dict[str, object] = {}
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
        last = {"delivered_units": unit + 1,
                **({"carrier_request_id": request_id, "effective_from": effective_from} if request_id else {})}  # fmt: skip
        if unit + 1 < job.units:
            FulfilmentJob.objects.filter(pk=job.pk).update(updated_at=timezone.now(), **last)
    return _job_finish(job_id=job_id, last=last)


def _job_finish(*, job_id: int, last: dict[str, object]) -> str:
    """Record the last unit's result (``last``: the job's fields it sets) and, if the job is
    still delivering, move the job and its line to delivered and queue the recipient's SMS,
    all in one transaction (locks: the job, then its line)."""
    with transaction.atomic():
        job = FulfilmentJob.objects.select_for_update().get(pk=job_id)
        for field, value in last.items():
            setattr(job, field, value)
        if job.status != Status.DELIVERING:
            if last:
                job.save(update_fields=[*last, "updated_at"])
            return job.status
        with audit_batch():
            _move(job, Status.DELIVERED)
            job.last_error = ""
            job.save(update_fields=["status", "last_error", *last, "updated_at"])
            sms_queue(msisdn=job.msisdn, purpose="notice", text=delivered_text(job))
            order_line_fulfilment_set(
                line_id=job.order_line_id, status=OrderLine.Fulfilment.DELIVERED
            )
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
