"""Delivering paid order lines exactly once, whatever their kind, and refunding what cannot be.

Electronic goods (airtime, data packs, plan changes, add-ons, points): every unit of a line
is applied under its own idempotency key (``fulfilment:<delivery>:<unit>``). On a timeout or a
lost answer the carrier is first asked whether the key was applied
(``carrier.services.provision_once``); a delivery whose carrier stays unavailable is retried
with backoff and, after ``MAX_ATTEMPTS``, failed and refunded automatically for what was not
delivered — unless a request may have reached the carrier with its answer lost: then it waits
``unconfirmed`` until the carrier says by key whether it applied it (delivered) or not
(refunded), never refunded blind. No transaction is open during a carrier call. Cards, SIM cards, physical and digital
goods start through their kind's handler (``kinds.py``).

Every move of a ``Delivery`` goes through ``delivery_move``: the audit event, the line's
summary in orders (``order_line_delivery_record``) and, when the line has ended, the
``fulfilment.delivery_ended`` event that settles the order once every line has ended.
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
from apps.catalog.selectors import sku_delivery_spec
from apps.core import outbox
from apps.core.audit import audit_batch, audited_transition
from apps.core.money import MoneyError, to_fen
from apps.fulfilment.cards.batches import CARD_PRODUCT_TYPE
from apps.fulfilment.cards.sales import cards_allocate
from apps.fulfilment.delivery import (
    LineUndeliverable,
    delivered_text,
    unit_applied,
    unit_deliver,
)
from apps.fulfilment.locks import delivery_lock
from apps.fulfilment.models import Delivery
from apps.orders.services import order_line_delivery_record
from apps.payments.services import refund_automatic
from apps.simcards.selectors import SIM_TYPE_CODE

logger = logging.getLogger(__name__)
Status = Delivery.Status
MAX_ATTEMPTS = 5
# A delivery left pending or delivering this long is run again by the sweep.
STUCK_AFTER_SECONDS = 60
# What ``job_deliver_chunked`` says of a job another drain has under way.
IN_ANOTHER_CHUNK = "in_another_chunk"
Kind = Delivery.Kind
# Catalog product type code -> delivery kind (electronic goods the carrier or ledger applies).
TYPE_KINDS = {
    "airtime": Kind.AIRTIME, "data_pack": Kind.DATA_PACK, "plan": Kind.PLAN_CHANGE,
    "addon": Kind.ADDON, "points": Kind.POINTS,
}  # fmt: skip
# Catalog kinds whose lines no type above claims.
CATALOG_KINDS = {"physical": Kind.PHYSICAL, "digital": Kind.DIGITAL}


def _volume_mb(volume: object) -> int:
    text = str(volume).upper().strip()
    if text.endswith("GB"):
        return int(float(text[:-2]) * 1024)
    if text.endswith("MB"):
        return int(float(text[:-2]))
    return int(text or 0)


def _face_fen(value: object) -> int:
    """An airtime product's face value (yuan) in fen; 0 (undeliverable) when unreadable."""
    try:
        return max(0, to_fen(str(value or 0)))
    except MoneyError:
        return 0


def _int(value: object) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0


def delivery_kind(line: dict[str, object]) -> str:
    """The delivery kind of an ``orders.order_paid`` line: by its product type first (cards,
    SIM cards, the electronic types), else by its catalog kind. An electronic line of no known
    type is delivered as ``airtime`` without a face value and so fails and is refunded."""
    type_code = str(line.get("type_code") or "")
    if type_code == CARD_PRODUCT_TYPE:
        return Kind.CARD
    if type_code == SIM_TYPE_CODE:
        return Kind.SIM
    if type_code in TYPE_KINDS:
        return TYPE_KINDS[type_code]
    return CATALOG_KINDS.get(str(line.get("kind") or ""), Kind.AIRTIME)


def deliveries_create(
    *,
    number: str,
    user_id: int,
    lines: list[dict[str, object]],
    shipping: dict[str, object] | None = None,
) -> list[int]:
    """One ``Delivery`` per line of a paid order, each started by its kind's handler.

    Runs in the ``orders.order_paid`` handler's transaction. Idempotent: a line has at most one
    delivery (``line_id`` is unique), and only a delivery created now is started.
    """
    from apps.fulfilment.kinds import delivery_start

    created_ids = []
    for line in lines:
        kind = delivery_kind(line)
        attributes = dict(line.get("attributes") or {})  # type: ignore[call-overload]
        recipient = str(line.get("recipient") or "")
        # Points go to the buyer's account; the SMS to the number given, else the buyer's.
        msisdn = recipient or (user_profile(user_id=user_id).phone if kind == Kind.POINTS else "")
        delivery, created = Delivery.objects.get_or_create(
            line_id=int(line["line_id"]),  # type: ignore[call-overload]
            defaults={
                "order_number": number, "kind": kind, "msisdn": msisdn, "user_id": user_id,
                "sku_id": line.get("sku_id"), "units": int(line["quantity"]),  # type: ignore[call-overload]
                "label": str(line.get("name") or "")[:128], "attributes": attributes,
                "shipping": dict(shipping or {}) if kind in (Kind.PHYSICAL, Kind.SIM) else {},
                "offer_code": str(attributes.get("offer_code") or "")[:32],
                "points": _int(attributes.get("points")) if kind == Kind.POINTS else 0,
                "amount_fen": _face_fen(attributes.get("face_value")) if kind == Kind.AIRTIME else 0,
                "volume_mb": _volume_mb(attributes.get("volume", 0)) if kind == Kind.DATA_PACK else 0,
                "validity_days": _int(attributes.get("validity_days")) if kind == Kind.DATA_PACK else 0,
                "refund_fen": int(line["paid_fen"]),  # type: ignore[call-overload]
            },
        )  # fmt: skip
        if created:
            delivery_start(delivery)
            created_ids.append(delivery.pk)
    return created_ids


def gift_delivery_create(
    *, number: str, user_id: int, redemption_id: int, sku_id: int, label: str
) -> int | None:
    """A campaign's data-pack gift for a paid order (``marketing.gift_granted``): one delivery
    of the pack to the buyer's own number, line id ``-<redemption id>`` (once, however often
    the fact comes), delivered by the carrier as a bought pack is. Nothing is refunded if it
    fails (it cost the buyer nothing). None when the SKU is unknown or not a data pack."""
    spec = sku_delivery_spec(sku_id=sku_id)
    if spec is None or spec.type_code != "data_pack":
        logger.warning("gift of order %s: SKU %s is not a data pack", number, sku_id)
        return None
    line = {
        "line_id": -redemption_id, "sku_id": sku_id, "product_id": spec.product_id,
        "name": label, "kind": "electronic", "type_code": spec.type_code, "quantity": 1,
        "recipient": user_profile(user_id=user_id).phone, "attributes": spec.attributes,
        "paid_fen": 0,
    }  # fmt: skip
    created = deliveries_create(number=number, user_id=user_id, lines=[line])
    return created[0] if created else None


def card_delivery_start(delivery: Delivery) -> None:
    """Cards are taken now, in the transaction that follows the payment, so stock and sellable
    cards stay equal; the delivery finishes after commit (``job_deliver``)."""
    delivery.delivered_units = cards_allocate(
        line_id=delivery.line_id, sku_id=delivery.sku_id or 0, units=delivery.units,
        user_id=delivery.user_id or 0, order_number=delivery.order_number,
    )  # fmt: skip
    delivery.save(update_fields=["delivered_units", "updated_at"])
    delivery_enqueue(delivery)


def delivery_enqueue(delivery: Delivery) -> None:
    """Run ``job_deliver`` for it after the current transaction commits: by the chunk for a
    top-up or data pack (``job_deliver_chunked``), alone for every other kind (a card's or a
    plan's task has no reason to claim and send other jobs first)."""
    from apps.core.tasks import enqueue_on_commit
    from apps.fulfilment.drain import DRAIN_KINDS
    from apps.fulfilment.tasks import job_deliver_task  # the task module imports this one

    if delivery.kind in DRAIN_KINDS:
        enqueue_on_commit(job_deliver_task, delivery.pk)
    else:
        enqueue_on_commit(job_deliver_task, delivery.pk, chunk=False)


def _card_job_deliver(job: Delivery) -> bool:
    """Finish a card delivery (row locked): take any cards still missing; True when the line has
    all its cards (delivered), False when it must fail for want of cards."""
    job.delivered_units = cards_allocate(line_id=job.line_id, sku_id=job.sku_id or 0, units=job.units,
                                         user_id=job.user_id or 0, order_number=job.order_number)  # fmt: skip
    if job.status == Status.PENDING:
        delivery_move(job, Status.DELIVERING, attempt=job.attempts + 1)
        job.attempts += 1
    if job.delivered_units < job.units:
        job.save(update_fields=["status", "attempts", "delivered_units", "updated_at"])
        return False
    delivery_move(job, Status.DELIVERED, cards=job.delivered_units)
    job.last_error = ""
    job.save(
        update_fields=[
            "status",
            "attempts",
            "delivered_units",
            "last_error",
            "delivered_at",
            "updated_at",
        ]
    )
    # The buyer is told where to read the cards; a PIN never travels by SMS.
    sms_queue(msisdn=user_profile(user_id=job.user_id or 0).phone, purpose="notice",
              text=_("[CarrierHub] The cards of order %(order)s are ready: open the order to see their numbers and PINs.")
              % {"order": job.order_number})  # fmt: skip
    return True


def delivery_move(
    delivery: Delivery, status: str, *, note: str = "", actor_id: int | None = None, **after: object
) -> None:
    """The one transition of a delivery (row locked by the caller, who saves it): the audit
    event ``delivery.<status>``, the line's summary in orders, and, when the line has ended,
    ``fulfilment.delivery_ended`` (which settles the order once all its lines have ended)."""
    audited_transition(
        delivery, status, object_type="delivery", object_id=delivery.pk, actor_id=actor_id,
        refused=lambda details: ValueError(f"delivery {delivery.pk}: {details}"),
        after={"order": delivery.order_number, "line": delivery.line_id, **after, **({"note": note} if note else {})},
    )  # fmt: skip
    if status == Status.DELIVERED:
        delivery.delivered_at = timezone.now()
    if delivery.line_id < 0:
        return  # a campaign's gift (``-<redemption id>``): no order line, the order not held
    order_line_delivery_record(line_id=delivery.line_id, state=status, note=note)
    if status in Delivery.ENDED:
        # No key: a line ends once (the table has no way back), and settling is idempotent.
        outbox.publish(
            "fulfilment.delivery_ended",
            {"number": delivery.order_number, "line_id": delivery.line_id},
        )


# The kinds ``job_deliver`` runs (the others advance on a parcel's or a handler's fact).
JOB_KINDS = frozenset(
    {Kind.AIRTIME, Kind.DATA_PACK, Kind.PLAN_CHANGE, Kind.ADDON, Kind.POINTS, Kind.CARD}
)


def job_deliver(*, job_id: int, again: bool = False) -> str:
    """Apply the delivery's remaining units at the carrier; safe to run any number of times.

    Two transactions around the carrier calls, each locking the delivery (then, through
    ``delivery_move``, the line's summary in orders): the first moves it to delivering, the
    second records the last unit's result, moves it to delivered and queues the SMS. Units
    before the last are recorded one by one as they are applied, so a retry resumes after
    them (and their keys make a repeat harmless anyway). Raises ``CarrierUnavailable`` when the
    outcome is unknown (the caller retries later); a refusal by the carrier fails the delivery
    and refunds it at once. A delivery refunded or held (``failed``) before it ran is left
    alone (an operator's ``again`` sends a failed one once more).
    """
    with transaction.atomic():
        job = delivery_lock(delivery_id=job_id)
        if job.status in (Status.DELIVERED, Status.REFUNDED) or job.kind not in JOB_KINDS:
            return job.status
        if job.status == Status.FAILED and not again:
            return job.status
        if job.kind == Kind.CARD:
            # No carrier call: the cards are taken, or the line fails, in this transaction.
            if _card_job_deliver(job):
                return Status.DELIVERED
            return job_fail(job_id=job.pk, reason="CARDS_SOLD_OUT")
        with audit_batch():
            delivery_move(job, Status.DELIVERING, attempt=job.attempts + 1)
            job.attempts += 1
            job.save(update_fields=["status", "attempts", "updated_at"])
    last: dict[str, object] = {}
    for unit in range(job.delivered_units, job.units):
        try:
            request_id, effective_from = unit_deliver(job, unit)
        except CarrierUnavailable as exc:
            # Once a request may have reached the carrier, it stays so until a later run
            # learns the unit's outcome (asked by key, or applied).
            Delivery.objects.filter(pk=job.pk).update(
                last_error=exc.code,
                updated_at=timezone.now(),
                **({"maybe_applied": True} if exc.maybe_applied else {}),
            )
            raise
        except LineUndeliverable as exc:
            return job_fail(job_id=job.pk, reason=exc.reason)
        except (CarrierRejected, SubscriberNotFound) as exc:
            return job_fail(job_id=job.pk, reason=getattr(exc, "carrier_code", "") or exc.code)
        last = {"delivered_units": unit + 1, "maybe_applied": False,
                **({"carrier_request_id": request_id, "effective_from": effective_from} if request_id else {})}  # fmt: skip
        if unit + 1 < job.units:
            Delivery.objects.filter(pk=job.pk).update(updated_at=timezone.now(), **last)
    return _job_finish(job_id=job_id, last=last)


def job_deliver_chunked(*, job_id: int) -> str:
    """``job_deliver`` by the chunk: when the job is a ready top-up or data pack, deliver it
    with up to ``FULFILMENT_DRAIN_CHUNK`` - 1 other ready ones (``drain.jobs_drain``: one claim,
    concurrent carrier calls, one statement per state change). A job another drain has under
    way (``delivering``, touched within ``older_than_seconds`` of the sweep) or that has ended
    is left alone (``IN_ANOTHER_CHUNK``); any other goes through ``job_deliver`` as before.
    Returns the job's status."""
    from apps.fulfilment.drain import DRAIN_KINDS, jobs_drain

    done = jobs_drain(first=job_id)
    if job_id in done:
        return done[job_id]
    # Locked (and let go at once) so that a claim another drain has not committed yet is
    # waited for, not mistaken for a pending job and sent a second time from here.
    with transaction.atomic():
        row = (
            Delivery.objects.select_for_update()
            .filter(pk=job_id)
            .values_list("status", "kind", "updated_at")
            .first()
        )
    if row is not None:
        status, kind, updated_at = row
        if status in (Status.DELIVERED, Status.REFUNDED, Status.FAILED):
            return status
        recent = updated_at > timezone.now() - timedelta(seconds=STUCK_AFTER_SECONDS)
        if kind in DRAIN_KINDS and status == Status.DELIVERING and recent:
            return IN_ANOTHER_CHUNK  # the sweep takes it if that drain died
    return job_deliver(job_id=job_id)


def _job_finish(*, job_id: int, last: dict[str, object]) -> str:
    """Record the last unit's result (``last``: the fields it sets) and, if the delivery is
    still delivering, move it to delivered and queue the recipient's SMS, in one transaction."""
    with transaction.atomic():
        job = delivery_lock(delivery_id=job_id)
        for field, value in last.items():
            setattr(job, field, value)
        if job.status != Status.DELIVERING:
            if last:
                job.save(update_fields=[*last, "updated_at"])
            return job.status
        with audit_batch():
            delivery_move(job, Status.DELIVERED)
            job.last_error = ""
            job.save(update_fields=["status", "last_error", "delivered_at", *last, "updated_at"])
            sms_queue(msisdn=job.msisdn, purpose="notice", text=delivered_text(job))
    return Status.DELIVERED


def job_fail(*, job_id: int, reason: str) -> str:
    """Give up on a delivery: refund the buyer for the units not delivered, automatically
    (idempotent per delivery: the refund is keyed ``fulfilment:<id>``). Locks the delivery."""
    with transaction.atomic():
        job = delivery_lock(delivery_id=job_id)
        if job.status in (Status.DELIVERED, Status.REFUNDED):
            return job.status
        if job.status != Status.FAILED:
            delivery_move(job, Status.FAILED, note=reason, reason=reason)
            job.last_error = reason[:200]
            job.save(update_fields=["status", "last_error", "updated_at"])
        undelivered = job.units - job.delivered_units
        amount = job.refund_fen * undelivered // job.units
        if amount > 0:
            refund_automatic(purpose="order", reference=job.order_number, amount_fen=amount,
                             reason=f"自动退款：交付失败（{reason}）", key=f"fulfilment:{job.pk}")  # fmt: skip
        delivery_move(job, Status.REFUNDED, note=reason, amount_fen=amount)
        job.save(update_fields=["status", "updated_at"])
    return Status.REFUNDED


def job_give_up(*, job_id: int) -> str:
    """Stop sending a delivery the carrier could not answer for ``MAX_ATTEMPTS`` runs. Refunded
    at once (``job_fail``) only when no request of its next unit can have reached the carrier
    (refused before sending); otherwise the carrier may have applied one with its answer lost,
    so it goes to ``unconfirmed`` and waits for the carrier to say (``job_confirm``). Locks
    the delivery."""
    with transaction.atomic():
        job = delivery_lock(delivery_id=job_id)
        if job.status != Status.DELIVERING:
            return job.status
        if not job.maybe_applied:
            return job_fail(job_id=job_id, reason="CARRIER_UNAVAILABLE")
        delivery_move(job, Status.UNCONFIRMED, note="CARRIER_UNAVAILABLE")
        job.save(update_fields=["status", "updated_at"])
    logger.warning("delivery %s: outcome unknown at the carrier; asking before any refund", job_id)
    return Status.UNCONFIRMED


def job_confirm(*, job_id: int) -> str:
    """Settle an ``unconfirmed`` delivery by asking the carrier, by key, what it applied (no
    request is sent again): the units it applied are recorded; every unit applied, the
    delivery is delivered (and the SMS queued); else it fails and is refunded for the units
    the carrier says it did not apply (``CARRIER_NOT_APPLIED``), once. While the carrier
    cannot say it stays ``unconfirmed`` (an operator's to-do) and the sweep asks again.

    Units go one after the other (a unit is sent only once the one before was applied), so
    the first unit the carrier does not know ends the asking: none after it was sent."""
    job = Delivery.objects.get(pk=job_id)
    if job.status != Status.UNCONFIRMED:
        return job.status
    last: dict[str, object] = {}
    for unit in range(job.delivered_units, job.units):
        try:
            applied = unit_applied(job, unit)
        except CarrierUnavailable as exc:
            Delivery.objects.filter(pk=job.pk, status=Status.UNCONFIRMED).update(
                last_error=exc.code, updated_at=timezone.now(), **last
            )
            return Status.UNCONFIRMED
        if applied is None:
            break
        request_id, effective_from = applied
        last = {"delivered_units": unit + 1,
                **({"carrier_request_id": request_id, "effective_from": effective_from} if request_id else {})}  # fmt: skip
    with transaction.atomic():
        job = delivery_lock(delivery_id=job_id)
        if job.status != Status.UNCONFIRMED:
            return job.status
        for field, value in last.items():
            setattr(job, field, value)
        job.maybe_applied = False
        if job.delivered_units < job.units:
            job.save(update_fields=[*last, "maybe_applied", "updated_at"])
            return job_fail(job_id=job_id, reason="CARRIER_NOT_APPLIED")
        with audit_batch():
            delivery_move(job, Status.DELIVERED, confirmed_by_carrier=True)
            job.last_error = ""
            job.save(update_fields=["status", "last_error", "delivered_at", "maybe_applied",
                                    *last, "updated_at"])  # fmt: skip
            sms_queue(msisdn=job.msisdn, purpose="notice", text=delivered_text(job))
    return Status.DELIVERED


def jobs_retry_stuck(*, older_than_seconds: int = STUCK_AFTER_SECONDS, limit: int = 200) -> int:
    """Beat: run again deliveries left pending or delivering (a worker died, the carrier was
    down), giving up on those past ``MAX_ATTEMPTS`` whose run again still finds the carrier
    unable to answer (``job_give_up``: refunded, or asked about first when a request may have
    reached the carrier), and ask the carrier about the ``unconfirmed`` ones (``job_confirm``).
    One delivery that cannot be retried is logged and skipped: it never stops the others."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    rows = list(
        Delivery.objects.filter(status__in=[Status.PENDING, Status.DELIVERING, Status.UNCONFIRMED],
                                updated_at__lt=cutoff, kind__in=JOB_KINDS)
        .order_by("updated_at").values_list("pk", "attempts", "status")[:limit]
    )  # fmt: skip
    for job_id, attempts, status in rows:
        try:
            if status == Status.UNCONFIRMED:
                job_confirm(job_id=job_id)
                continue
            job_deliver(job_id=job_id)
        except CarrierUnavailable:
            if attempts >= MAX_ATTEMPTS:
                # Given up only after one more run found the carrier still unable to say: a
                # run asks the carrier by key before sending, so a unit applied with its answer
                # lost (the carrier answered after we gave up waiting) ends delivered, not
                # refunded as well.
                job_give_up(job_id=job_id)
            continue
        except Exception:
            logger.exception("delivery %s could not be retried", job_id)
    return len(rows)
