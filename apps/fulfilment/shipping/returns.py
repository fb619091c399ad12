"""Returns of unopened physical goods: asked by the buyer, decided and received by an operator.

A return is of a line fulfilment delivered (its ``Delivery``, with the parcel's delivery time);
the money goes back through orders' refund services (``order_return_refund``, downward).
Locks: the line's delivery, then the return; receiving then locks the order, the SKU and the
payments (inside orders). Receiving is the step that moves stock and money, once: a repeat
finds the return already received and does nothing, and the stock movement and refund
requests carry keys made from the return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record, audited_transition
from apps.fulfilment.locks import delivery_lock_line, return_lock
from apps.fulfilment.models import Delivery, ReturnRequest, Shipment
from apps.fulfilment.shipping.errors import (
    ReturnMustBeUnopened,
    ReturnNotAllowed,
    ReturnNotFound,
    ReturnStateConflict,
)
from apps.fulfilment.shipping.shipments import SHIPPABLE, courier_check, tracking_number_clean
from apps.orders.services import order_return_refund
from apps.orders.services.orders import OrderNotFound

RStatus = ReturnRequest.Status


@dataclass(frozen=True)
class ReturnView:
    id: int
    order_number: str
    line_id: int
    product_name: str
    quantity: int
    status: str
    status_label: str
    reason: str
    amount_fen: int
    courier: str
    tracking_number: str
    decision_note: str
    refund_ids: list[int]
    created_at: datetime


def return_view(item: ReturnRequest, delivery: Delivery | None = None) -> ReturnView:
    line = delivery or Delivery.objects.get(line_id=item.line_id)
    return ReturnView(
        id=item.pk, order_number=item.order_number, line_id=item.line_id, product_name=line.label,
        quantity=line.units, status=item.status, status_label=str(RStatus(item.status).label),
        reason=item.reason, amount_fen=item.amount_fen, courier=item.courier,
        tracking_number=item.tracking_number, decision_note=item.decision_note,
        refund_ids=list(item.refund_ids), created_at=item.created_at,
    )  # fmt: skip


def _move(item: ReturnRequest, to: str, *, actor_id: int | None, **after: object) -> None:
    audited_transition(
        item, to, object_type="return", object_id=item.pk, actor_id=actor_id,
        refused=lambda details: ReturnStateConflict(details=details), after=after,
    )  # fmt: skip


def _locked(return_id: int, *, user_id: int | None = None) -> ReturnRequest:
    """Lock the return's delivery, then the return."""
    found = ReturnRequest.objects.filter(pk=return_id)
    if user_id is not None:
        found = found.filter(user_id=user_id)
    line_id = found.values_list("line_id", flat=True).first()
    if line_id is None:
        raise ReturnNotFound()
    delivery_lock_line(line_id=line_id)
    return return_lock(return_id=return_id)


def return_request(
    *, number: str, user_id: int, line_id: int, reason: str, unopened: bool
) -> ReturnView:
    """The buyer asks to send a delivered physical line back, unopened, within the window
    (``RETURN_WINDOW_DAYS`` after its parcel was delivered). Locks the order. Asking again
    while a return of the line is open returns that one; after a rejection a new one may be
    asked."""
    if not unopened:
        raise ReturnMustBeUnopened()
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        line = delivery_lock_line(order_number=number, line_id=line_id, user_id=user_id)
        if line is None:
            if not Delivery.objects.filter(order_number=number, user_id=user_id).exists():
                raise OrderNotFound()
            raise ReturnNotAllowed(details={"line": line_id})
        existing = (
            ReturnRequest.objects.filter(line_id=line_id).exclude(status=RStatus.REJECTED).first()
        )
        if existing is not None:
            if existing.status == RStatus.REQUESTED:
                return return_view(existing, line)
            raise ReturnStateConflict(details={"status": existing.status})
        delivered_at = (
            Shipment.objects.filter(lines__line_id=line_id)
            .values_list("delivered_at", flat=True)
            .first()
        )
        window = timedelta(days=settings.RETURN_WINDOW_DAYS)
        if (
            line.kind not in SHIPPABLE
            or line.status != Delivery.Status.DELIVERED
            or delivered_at is None
            or timezone.now() > delivered_at + window
        ):
            raise ReturnNotAllowed(details={"line": line_id, "fulfilment": line.status})
        item = ReturnRequest.objects.create(
            line_id=line_id, order_number=number, user_id=user_id, reason=reason or "unopened",
            amount_fen=line.refund_fen,
        )  # fmt: skip
        audit_record(action="return.requested", object_type="return", object_id=item.pk, actor_id=user_id,
                     after={"order": number, "line": line_id, "amount_fen": line.refund_fen})  # fmt: skip
    return return_view(item, line)


def return_decide(*, return_id: int, approve: bool, actor_id: int, note: str = "") -> ReturnView:
    """An operator approves or rejects a requested return; deciding the same way again is a
    no-op, the other way a ``ReturnStateConflict``. Locks the line's delivery, then the return."""
    to = RStatus.APPROVED if approve else RStatus.REJECTED
    with transaction.atomic():
        item = _locked(return_id)
        if item.status == to or (approve and item.status in (RStatus.SENT_BACK, RStatus.RECEIVED)):
            return return_view(item)
        _move(item, to, actor_id=actor_id, note=note)
        item.decision_note = note[:200]
        item.save(update_fields=["status", "decision_note", "updated_at"])
    return return_view(item)


def return_send_back(
    *, return_id: int, user_id: int, courier: str, tracking_number: str
) -> ReturnView:
    """The buyer says which parcel carries the goods back (after approval). Locks the return."""
    courier = courier_check(courier)
    tracking_number = tracking_number_clean(tracking_number)
    with transaction.atomic():
        item = _locked(return_id, user_id=user_id)
        if item.status == RStatus.SENT_BACK and (item.courier, item.tracking_number) == (
            courier,
            tracking_number,
        ):
            return return_view(item)
        _move(
            item,
            RStatus.SENT_BACK,
            actor_id=user_id,
            courier=courier,
            tracking_number=tracking_number,
        )
        item.courier, item.tracking_number = courier, tracking_number
        item.save(update_fields=["status", "courier", "tracking_number", "updated_at"])
    return return_view(item)


def return_receive(*, return_id: int, actor_id: int) -> ReturnView:
    """The goods came back unopened: stock goes back on hand and refunds of the line's price are
    requested for finance to approve (from the money payment first, then points).

    Exactly once: the return row is locked and a received return is returned as it is; stock
    is keyed ``return:<id>`` and each refund request ``return:<id>:<n>``. Locks the line's
    delivery, the return, then (in orders) the order, the SKU and the payments.
    """
    with transaction.atomic():
        item = _locked(return_id)
        if item.status == RStatus.RECEIVED:
            return return_view(item)
        _move(item, RStatus.RECEIVED, actor_id=actor_id)
        item.refund_ids = order_return_refund(
            number=item.order_number, line_id=item.line_id, amount_fen=item.amount_fen,
            reason=f"return {item.pk}: {item.reason}", key=f"return:{item.pk}", requested_by=actor_id,
        )  # fmt: skip
        item.save(update_fields=["status", "refund_ids", "updated_at"])
    return return_view(item)
