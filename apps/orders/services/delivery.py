"""What orders hands fulfilment (the ``orders.order_paid`` fact) and what it gets back (each
line's delivery summary, and the order's settlement once every line has ended).

Orders knows nothing of fulfilment: it publishes facts through ``core``'s outbox and exposes
two services that fulfilment calls downward. ``OrderLine.fulfilment`` is orders' *summary* of
the line's delivery as fulfilment reported it (fulfilment's ``Delivery`` is the one state
machine); orders reads it to decide what may be refunded.

Topics published here (fulfilment and marketing subscribe):
- ``orders.order_paid``: once per order, in the paying transaction, key ``order_paid:<number>``.
- ``orders.lines_refunded``: lines whose money went back (order refunded, return received),
  key ``lines_refunded:<number>:<refund id or return>``.
- ``orders.order_completed``: once per order when it completes, key
  ``order_completed:<number>`` (marketing accrues the channel's commission).
- ``orders.refund_requested``: undelivered lines a buyer asked money back for (fulfilment
  holds them), key ``refund_requested:<number>:<request key>``.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.catalog.selectors import DeliverySpec
from apps.core import outbox
from apps.core.audit import audit_record, audited_transition
from apps.orders.locks import order_line_lock, order_lock
from apps.orders.models import Order, OrderLine

Fulfilment = OrderLine.Fulfilment
# Fulfilment's delivery states as orders records them (``pending`` is orders' ``ready``).
_SUMMARY = {
    "pending": Fulfilment.READY,
    "delivering": Fulfilment.DELIVERING,
    # Given up while the carrier could not answer; still delivering as far as the buyer and a
    # refund are concerned (a refund waits) until the carrier says what it applied.
    "unconfirmed": Fulfilment.DELIVERING,
    "delivered": Fulfilment.DELIVERED,
    "failed": Fulfilment.FAILED,
    "refunded": Fulfilment.REFUNDED,
}
ENDED = frozenset({Fulfilment.DELIVERED, Fulfilment.REFUNDED})


def order_paid_publish(
    order: Order, *, lines: list[OrderLine], specs: dict[int, DeliverySpec]
) -> None:
    """Publish the complete ``orders.order_paid`` fact: everything fulfilment needs to deliver
    every line (``lines``, their products' ``specs``) without reading orders' tables. In the
    paying transaction (order row locked); the outbox key makes a second publish of the same
    order a no-op."""
    payload: dict[str, Any] = {
        "number": order.number,
        "user_id": order.user_id,
        "paid_at": (order.paid_at or timezone.now()).isoformat(),
        "shipping": order.shipping,
        "lines": [
            {
                "line_id": line.pk,
                "sku_id": line.sku_id,
                "product_id": line.product_id,
                "name": line.product_name,
                "kind": line.kind,
                "type_code": specs[line.product_id].type_code if line.product_id in specs else "",
                "quantity": line.quantity,
                "recipient": line.recipient_msisdn,
                "attributes": specs[line.product_id].attributes if line.product_id in specs else {},
                "paid_fen": line.paid_fen,
            }
            for line in lines
        ],
    }
    outbox.publish("orders.order_paid", payload, key=f"order_paid:{order.number}")


def order_completed_publish(order: Order) -> None:
    """Publish ``orders.order_completed`` (marketing accrues a channel's commission on it): the
    lines with what each was paid. In the completing transaction; once per order (key)."""
    lines = [
        {"line_id": line.pk, "product_id": line.product_id, "kind": line.kind, "paid_fen": line.paid_fen}
        for line in order.lines.exclude(fulfilment=Fulfilment.REFUNDED).order_by("pk")
    ]  # fmt: skip
    outbox.publish(
        "orders.order_completed", {"number": order.number, "user_id": order.user_id, "lines": lines},
        key=f"order_completed:{order.number}",
    )  # fmt: skip


def lines_refunded_publish(*, number: str, line_ids: list[int], key: str, reason: str) -> None:
    """Tell fulfilment that the money of ``line_ids`` went back (in the caller's transaction)."""
    if line_ids:
        outbox.publish(
            "orders.lines_refunded",
            {"number": number, "line_ids": sorted(line_ids), "reason": reason},
            key=f"lines_refunded:{number}:{key}",
        )


def order_line_delivery_record(*, line_id: int, state: str, note: str = "") -> bool:
    """Record fulfilment's report of a line's delivery state (``pending``, ``delivering``,
    ``delivered``, ``failed``, ``refunded``) as the line's summary; fulfilment calls this in
    the transaction that moved its ``Delivery``. Locks the line. Idempotent: the same state
    again writes nothing (returns False). The summary follows the owner's state machine, so
    no move is refused here; each change is audited (``order_line.<state>``)."""
    to = _SUMMARY[state]
    with transaction.atomic(savepoint=False):
        line = order_line_lock(line_id=line_id)
        if line.fulfilment == to:
            return False
        audited_transition(
            line, to, object_type="order_line", object_id=line.pk, field="fulfilment",
            refused=lambda details: ValueError(details),
            transitions={line.fulfilment: frozenset({to})},
            after={"order": line.order.number, "source": "fulfilment", **({"note": note} if note else {})},
        )  # fmt: skip
        line.save(update_fields=["fulfilment"])
    return True


def order_lines_delivery_record(*, line_ids: list[int], state: str) -> list[int]:
    """``order_line_delivery_record`` for many lines moving to the same ``state`` (fulfilment's
    chunked delivery): one UPDATE for all of them (the lines locked in primary-key order, as one
    by one) and their audit events in the transaction's one multi-row INSERT. Lines already in
    that state are left alone, as there. Returns the ids of the lines it moved."""
    if not line_ids:
        return []
    to = _SUMMARY[state]
    table, orders_table = OrderLine._meta.db_table, Order._meta.db_table
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS l SET fulfilment = %s FROM ("  # noqa: S608 (table names only)
            f" SELECT s.id, s.fulfilment, o.number FROM {table} s JOIN {orders_table} o ON o.id = s.order_id"
            "  WHERE s.id = ANY(%s) AND s.fulfilment <> %s ORDER BY s.id FOR UPDATE OF s"
            ") AS old WHERE l.id = old.id RETURNING l.id, old.fulfilment, old.number",
            [to, sorted(line_ids), to],
        )
        moved = cursor.fetchall()
    for line_id, before, number in moved:
        audit_record(
            action=f"order_line.{to}", object_type="order_line", object_id=line_id,
            before={"fulfilment": before},
            after={"fulfilment": to, "order": number, "source": "fulfilment"},
        )  # fmt: skip
    return [row[0] for row in moved]


def order_delivery_settled(*, number: str, lines: dict[int, str]) -> bool:
    """Fulfilment says every line of the order has ended (``lines``: line id -> ``delivered``
    or ``refunded``). Told once: the first call records ``delivery_settled_at`` and completes
    a paid order when at least one line was delivered and none is still open; a repeat (the
    event redelivered) returns False and changes nothing. Locks the order."""
    from apps.orders.services.orders import Status, _move

    with transaction.atomic():
        order = order_lock(number=number)
        if order is None or order.delivery_settled_at is not None:
            return False
        order.delivery_settled_at = timezone.now()
        fields = ["delivery_settled_at", "updated_at"]
        delivered = sorted(line for line, state in lines.items() if state == "delivered")
        audit_record(
            action="order.delivery_settled", object_type="order", object_id=number,
            after={"delivered": delivered, "refunded": sorted(set(lines) - set(delivered))},
        )  # fmt: skip
        if order.status == Status.PAID and delivered:
            _move(order, Status.COMPLETED, reason="delivered")
            fields.append("status")
            order_completed_publish(order)
        order.save(update_fields=fields)
    return True


def order_delivery_ended(order: Order) -> bool:
    """Whether every line of the order has ended its delivery (the order row is locked)."""
    return set(order.lines.values_list("fulfilment", flat=True)) <= ENDED
