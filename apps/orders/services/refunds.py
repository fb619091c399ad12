"""Refunds of an order look at each line's delivery (issue #11).

The rule, per line, from the delivery summary fulfilment pushes down (``OrderLine.fulfilment``):
- not yet delivered (``ready``, ``failed``): refundable; fulfilment is told to hold the line
  (``orders.refund_requested``) so that it does not start while finance decides;
- ``delivering``: the refund waits for the outcome (``REFUND_WAITS_FOR_DELIVERY``);
- delivered physical goods: only through a return (fulfilment's ``shipping.returns``, which
  calls ``order_return_refund`` when the goods come back);
- delivered airtime, data packs, plans, add-ons, points, cards and digital goods: not refundable
  as money unless an operator overrides, giving the reason (audited ``order.refund_override``);
- refunded or cancelled: nothing left.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core import outbox
from apps.core.audit import audit_record
from apps.core.errors import Conflict
from apps.orders.locks import order_lines_lock, order_lock
from apps.orders.models import OrderLine
from apps.payments import selectors as payment_selectors
from apps.payments import services as payments
from apps.risk import services as risk

Fulfilment = OrderLine.Fulfilment
PURPOSE = "order"
OPEN_REFUND = ("requested", "approved", "processing", "failed")


class RefundWaitsForDelivery(Conflict):
    code = "REFUND_WAITS_FOR_DELIVERY"
    default_message = _(
        "Part of this order is being delivered right now. Ask again once it is delivered or failed."
    )


class NothingRefundable(Conflict):
    code = "NOTHING_REFUNDABLE"
    default_message = _(
        "Nothing in this order can be refunded as money: what was delivered stays delivered "
        "(physical goods go back through a return)."
    )


class RefundLineDelivered(Conflict):
    code = "REFUND_LINE_DELIVERED"
    default_message = _(
        "Part of this order was delivered after the refund was asked for, so it is not refunded "
        "as money: reject this refund (an operator may ask again with an override and a reason)."
    )


@dataclass(frozen=True)
class LineRefundability:
    line_id: int
    product_name: str
    kind: str
    delivery: str  # the line's delivery summary
    delivery_label: str
    total_fen: int  # what the line was paid (its price less its share of the discount)
    # undelivered | delivering | return | override_needed | override | done
    verdict: str
    refundable: bool
    requested: bool = False  # a refund of the line was asked for already


def line_refundability(line: OrderLine, *, override: bool) -> LineRefundability:
    """What a refund request may do with ``line`` (``override``: an operator gave a reason)."""
    state = line.fulfilment
    if state in (Fulfilment.REFUNDED, Fulfilment.CANCELLED, Fulfilment.PENDING):
        verdict = "done"
    elif state in (Fulfilment.READY, Fulfilment.FAILED):
        verdict = "undelivered"
    elif state == Fulfilment.DELIVERING:
        verdict = "delivering"
    elif line.kind == "physical":
        verdict = "return"
    else:
        verdict = "override" if override else "override_needed"
    return LineRefundability(
        line_id=line.pk, product_name=line.product_name, kind=line.kind, delivery=state,
        delivery_label=str(Fulfilment(state).label), total_fen=line.paid_fen, verdict=verdict,
        refundable=verdict in ("undelivered", "override"),
        requested=line.refund_requested_at is not None,
    )  # fmt: skip


def order_refund_lines(*, number: str, override: bool = False) -> list[LineRefundability]:
    """Each line of the order with its delivery state and what a refund may do with it (for
    the refund request, the finance list and the approval page)."""
    lines = OrderLine.objects.filter(order__number=number).order_by("pk")
    return [line_refundability(line, override=override) for line in lines]


def refunds_request_for(
    *, number: str, amount_fen: int, reason: str, key: str, requested_by: int | None
) -> list[int]:
    """Request refunds of ``amount_fen`` of what paid the order, from the money payment first,
    then points, net of refunds still open. Each request is keyed ``<key>:<n>``."""
    open_by_intent: dict[str, int] = {}
    for refund in payment_selectors.refunds_for(purpose=PURPOSE, reference=number):
        if refund.status in OPEN_REFUND:
            open_by_intent[refund.intent_public_id] = (
                open_by_intent.get(refund.intent_public_id, 0) + refund.amount_fen
            )
    intents = [i for i in payment_selectors.intents_for(purpose=PURPOSE, reference=number)
               if i.settles and i.status in ("succeeded", "partially_refunded")]  # fmt: skip
    intents.sort(key=lambda i: i.method == "points")  # money before points
    left, refund_ids = amount_fen, []
    for n, intent in enumerate(intents):
        take = min(
            left, intent.amount_fen - intent.refunded_fen - open_by_intent.get(intent.public_id, 0)
        )
        if take <= 0:
            continue
        refund = payments.refund_request(
            intent_id=intent.id, amount_fen=take, reason=reason[:200], request_key=f"{key}:{n}",
            requested_by=requested_by,
        )  # fmt: skip
        refund_ids.append(refund.id)
        left -= take
        if left == 0:
            break
    return refund_ids


@risk.holds_on_review
def order_refund_request(
    *,
    number: str,
    user_id: int,
    reason: str,
    requested_by: int | None = None,
    override_reason: str = "",
) -> list[int]:
    """Ask for the money of the order's refundable lines back; finance approves.

    Lines are judged by their delivery (module docstring). ``override_reason`` (an operator's,
    never the buyer's) also refunds delivered electronic lines and is audited with the lines it
    covered. Idempotent: lines already asked for are not asked for again, and a repeat returns
    the refunds still open. Raises ``RefundWaitsForDelivery`` while a line is being delivered
    and ``NothingRefundable`` when no line qualifies (nothing is written then). Risk control
    decides on a buyer's request: a review holds it until an operator answers (a release asks
    again for the buyer, ``orders.receivers``). Locks the order, then its lines, then the payments.
    """
    from apps.orders.services.orders import OrderNotFound, OrderStateConflict, Status

    override_reason = override_reason.strip()[:200]
    with transaction.atomic():
        order = order_lock(number=number, user_id=user_id)
        if order is None:
            raise OrderNotFound()
        if order.status not in (Status.PAID, Status.COMPLETED):
            raise OrderStateConflict()
        lines = order_lines_lock(OrderLine.objects.filter(order=order))
        verdicts = [line_refundability(line, override=bool(override_reason)) for line in lines]
        waiting = [v.line_id for v in verdicts if v.verdict == "delivering"]
        if waiting:
            raise RefundWaitsForDelivery(details={"lines": waiting})
        asked = [line for line, v in zip(lines, verdicts, strict=True)
                 if v.refundable and line.refund_requested_at is None]  # fmt: skip
        if not asked:
            if any(line.refund_requested_at is not None for line in lines):
                return [r.id for r in payment_selectors.refunds_for(purpose=PURPOSE, reference=number)
                        if r.status in OPEN_REFUND]  # fmt: skip
            raise NothingRefundable(details={"lines": {v.line_id: v.verdict for v in verdicts}})
        if not override_reason:  # an operator's override is a decision already
            risk.enforce(
                event=risk.Event(kind=risk.Kind.REFUND_REQUEST, user_id=user_id, reference=number,
                                 amount_fen=sum(line.total_fen for line in asked)),
                owner="orders.refund", reference=number,
            )  # fmt: skip
        now = timezone.now()
        for line in asked:
            line.refund_requested_at = now
            if line.fulfilment == Fulfilment.DELIVERED:
                line.refund_note = override_reason
            line.save(update_fields=["refund_requested_at", "refund_note"])
        overridden = [line.pk for line in asked if line.fulfilment == Fulfilment.DELIVERED]
        if overridden:
            audit_record(
                action="order.refund_override", object_type="order", object_id=number,
                actor_id=requested_by, after={"lines": overridden, "reason": override_reason},
            )  # fmt: skip
        held = [line.pk for line in asked if line.fulfilment != Fulfilment.DELIVERED]
        ids = "-".join(str(line.pk) for line in asked)
        if held:
            outbox.publish(
                "orders.refund_requested", {"number": number, "line_ids": held},
                key=f"refund_requested:{number}:{ids}",
            )  # fmt: skip
        return refunds_request_for(
            number=number, amount_fen=sum(line.paid_fen for line in asked),
            reason=override_reason or reason or "buyer asked", key=f"order:{number}:refund:{ids}",
            requested_by=requested_by or user_id,
        )  # fmt: skip


def order_refund_check(number: str) -> None:
    """Before finance approves a refund of the order (payments asks through the purpose
    handler): a line asked back while undelivered is held by fulfilment only once it handles
    ``orders.refund_requested``; a delivery its worker started in between goes on. Such a line,
    now ``delivering``, makes the approval wait (``RefundWaitsForDelivery``); now ``delivered``,
    it refuses the approval (``RefundLineDelivered``), so that no money goes back for what was
    delivered. Lines an operator overrode (a ``refund_note``) and goods coming back through a
    return (physical lines) are not concerned. Locks the order, then its lines."""
    order = order_lock(number=number)
    if order is None:
        return
    asked = order_lines_lock(
        OrderLine.objects.filter(
            order=order, refund_requested_at__isnull=False, refund_note=""
        ).exclude(kind="physical")
    )
    delivering = [line.pk for line in asked if line.fulfilment == Fulfilment.DELIVERING]
    if delivering:
        raise RefundWaitsForDelivery(details={"lines": delivering})
    delivered = [line.pk for line in asked if line.fulfilment == Fulfilment.DELIVERED]
    if delivered:
        raise RefundLineDelivered(details={"lines": delivered})


def order_return_refund(
    *, number: str, line_id: int, amount_fen: int, reason: str, key: str, requested_by: int | None
) -> list[int]:
    """A returned physical line came back unopened (fulfilment owns returns): its stock goes
    back on hand and refunds of ``amount_fen`` are requested for finance to approve (from the
    money payment first, then points); the line is marked as asked for.

    Locks the order, then the SKU (catalog), then the payments (the global order). Exactly once
    per ``key``: stock is restocked under reference ``key`` and each refund request is keyed
    ``<key>:<n>``; the caller (the received return, locked) calls it once.
    """
    from apps.catalog.services import stock_restock
    from apps.orders.services.orders import OrderNotFound

    with transaction.atomic():
        order = order_lock(number=number)
        if order is None:
            raise OrderNotFound(details={"order": number})
        line = OrderLine.objects.get(pk=line_id, order=order)
        stock_restock(lines=[(line.sku_id, line.quantity)], reference=key)
        refund_ids = refunds_request_for(
            number=number, amount_fen=amount_fen, reason=reason, key=key, requested_by=requested_by
        )
        # The line's money comes back with these refunds (payment_refunded marks it refunded).
        OrderLine.objects.filter(pk=line.pk).update(refund_requested_at=timezone.now())
    return refund_ids
