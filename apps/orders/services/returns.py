"""Returns of unopened physical goods: asked by the buyer, decided and received by an operator.

Locks in the global order: the order row, then the return, then stock (catalog), then the
payments. Receiving is the step that moves stock and money, once: a repeat finds the return
already received and does nothing, and the refund requests carry keys made from the return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.catalog.services import stock_restock
from apps.core.audit import audit_record, audited_transition
from apps.orders.errors import (
    ReturnMustBeUnopened,
    ReturnNotAllowed,
    ReturnNotFound,
    ReturnStateConflict,
)
from apps.orders.models import Order, OrderLine, ReturnRequest
from apps.orders.services.orders import OrderNotFound
from apps.orders.services.refunds import refunds_request_for
from apps.orders.services.shipments import courier_check, tracking_number_clean

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


def return_view(item: ReturnRequest) -> ReturnView:
    line = item.order_line
    return ReturnView(
        id=item.pk, order_number=line.order.number, line_id=line.pk, product_name=line.product_name,
        quantity=line.quantity, status=item.status, status_label=str(RStatus(item.status).label),
        reason=item.reason, amount_fen=item.amount_fen, courier=item.courier,
        tracking_number=item.tracking_number, decision_note=item.decision_note,
        refund_ids=list(item.refund_ids), created_at=item.created_at,
    )  # fmt: skip


def _move(item: ReturnRequest, to: str, *, actor_id: int | None, **after: object) -> None:
    audited_transition(
        item, to, object_type="return", object_id=item.pk, actor_id=actor_id,
        refused=lambda details: ReturnStateConflict(details=details), after=after,
    )  # fmt: skip


def _locked(return_id: int, *, user_id: int | None = None) -> tuple[Order, ReturnRequest]:
    """Lock the return's order, then the return (the global order)."""
    found = ReturnRequest.objects.filter(pk=return_id)
    if user_id is not None:
        found = found.filter(user_id=user_id)
    order_id = found.values_list("order_line__order_id", flat=True).first()
    if order_id is None:
        raise ReturnNotFound()
    order = Order.objects.select_for_update().get(pk=order_id)
    item = (
        ReturnRequest.objects.select_for_update()
        .select_related("order_line__order")
        .get(pk=return_id)
    )
    return order, item


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
        order = Order.objects.select_for_update().filter(number=number, user_id=user_id).first()
        if order is None:
            raise OrderNotFound()
        line = (
            OrderLine.objects.select_related("shipment_line__shipment", "order")
            .filter(pk=line_id, order=order).first()
        )  # fmt: skip
        if line is None:
            raise ReturnNotAllowed(details={"line": line_id})
        existing = (
            ReturnRequest.objects.filter(order_line=line).exclude(status=RStatus.REJECTED).first()
        )
        if existing is not None:
            if existing.status == RStatus.REQUESTED:
                return return_view(existing)
            raise ReturnStateConflict(details={"status": existing.status})
        shipment = getattr(getattr(line, "shipment_line", None), "shipment", None)
        delivered_at = shipment.delivered_at if shipment is not None else None
        window = timedelta(days=settings.RETURN_WINDOW_DAYS)
        if (
            line.kind != "physical"
            or line.fulfilment != OrderLine.Fulfilment.DELIVERED
            or order.status not in (Order.Status.PAID, Order.Status.COMPLETED)
            or delivered_at is None
            or timezone.now() > delivered_at + window
        ):
            raise ReturnNotAllowed(details={"line": line_id, "fulfilment": line.fulfilment})
        item = ReturnRequest.objects.create(
            order_line=line, user_id=user_id, reason=reason or "unopened", amount_fen=line.total_fen
        )
        audit_record(action="return.requested", object_type="return", object_id=item.pk, actor_id=user_id,
                     after={"order": order.number, "line": line.pk, "amount_fen": line.total_fen})  # fmt: skip
    return return_view(item)


def return_decide(*, return_id: int, approve: bool, actor_id: int, note: str = "") -> ReturnView:
    """An operator approves or rejects a requested return; deciding the same way again is a
    no-op, the other way a ``ReturnStateConflict``. Locks the order, then the return."""
    to = RStatus.APPROVED if approve else RStatus.REJECTED
    with transaction.atomic():
        _, item = _locked(return_id)
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
        _, item = _locked(return_id, user_id=user_id)
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
    is keyed ``return:<id>`` and each refund request ``return:<id>:<n>``. Locks the order, the
    return, the SKU, then the payments.
    """
    with transaction.atomic():
        order, item = _locked(return_id)
        if item.status == RStatus.RECEIVED:
            return return_view(item)
        _move(item, RStatus.RECEIVED, actor_id=actor_id)
        line = item.order_line
        stock_restock(lines=[(line.sku_id, line.quantity)], reference=f"return:{item.pk}")
        refund_ids = refunds_request_for(
            number=order.number, amount_fen=item.amount_fen, reason=f"return {item.pk}: {item.reason}",
            key=f"return:{item.pk}", requested_by=actor_id,
        )  # fmt: skip
        # The line's money comes back with these refunds (payment_refunded marks it refunded).
        OrderLine.objects.filter(pk=line.pk).update(refund_requested_at=timezone.now())
        item.refund_ids = refund_ids
        item.save(update_fields=["status", "refund_ids", "updated_at"])
    return return_view(item)
