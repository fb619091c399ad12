"""What the order services share: the purpose name, the errors, the order's read-only views
and the state machine's moves (each with its audit event), and the order row lock.

Locks, always in the global order (orders/locks.py): see ``orders.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy

from apps.core.audit import audited_transition
from apps.core.errors import Conflict, InvalidArgument, NotFound
from apps.orders.locks import order_lock
from apps.orders.models import Order, OrderLine
from apps.simcards.selectors import NumberState

PURPOSE = "order"
Status = Order.Status
Fulfilment = OrderLine.Fulfilment


class CartEmpty(InvalidArgument):
    code = "CART_EMPTY"
    default_message = gettext_lazy("Your cart is empty.")


class CartChanged(Conflict):
    code = "CART_CHANGED"
    default_message = gettext_lazy(
        "Something in your cart is no longer on sale. Check your cart and try again."
    )


class ShippingRequired(InvalidArgument):
    code = "SHIPPING_REQUIRED"
    default_message = gettext_lazy("Enter a delivery address for the physical goods.")


class OrderNotFound(NotFound):
    code = "ORDER_NOT_FOUND"
    default_message = gettext_lazy("This order does not exist.")


class OrderStateConflict(Conflict):
    code = "ORDER_STATE_CONFLICT"
    default_message = gettext_lazy("The order cannot do that in its current state.")


@dataclass(frozen=True)
class ShippingAddress:
    name: str
    phone: str
    province: str
    city: str
    address: str


@dataclass(frozen=True)
class OrderLineView:
    id: int
    product_id: int
    product_name: str
    sku_name: str
    kind: str
    unit_price_fen: int
    quantity: int
    total_fen: int
    discount_fen: int
    recipient: str
    fulfilment: str
    fulfilment_label: str
    sku_id: int = 0
    # For a SIM card: the number on it, its hold, sale and activation (``order_get`` fills it).
    sim: NumberState | None = None


@dataclass(frozen=True)
class OrderView:
    id: int
    number: str
    user_id: int
    status: str
    status_label: str
    goods_fen: int
    discount_fen: int
    points_fen: int
    payable_fen: int
    refunded_fen: int
    shipping: dict[str, Any]
    expires_at: datetime
    paid_at: datetime | None
    created_at: datetime
    lines: list[OrderLineView] = field(default_factory=list)
    # What each campaign and the coupon gave (order_get only; marketing's OrderDiscount).
    discounts: list[Any] = field(default_factory=list)


def order_view(order: Order, *, lines: list[OrderLine] | None = None) -> OrderView:
    """The order as services return it; ``lines`` when the caller holds them (else read)."""
    return OrderView(
        id=order.pk, number=order.number, user_id=order.user_id, status=order.status,
        status_label=str(Order.Status(order.status).label),
        goods_fen=order.goods_fen, discount_fen=order.discount_fen, points_fen=order.points_fen, payable_fen=order.payable_fen,
        refunded_fen=order.refunded_fen, shipping=order.shipping, expires_at=order.expires_at,
        paid_at=order.paid_at, created_at=order.created_at,
        lines=[
            OrderLineView(
                id=line.pk, product_id=line.product_id, product_name=line.product_name, sku_name=line.sku_name,
                kind=line.kind, unit_price_fen=line.unit_price_fen, quantity=line.quantity, total_fen=line.total_fen, discount_fen=line.discount_fen,
                recipient=line.recipient_msisdn, fulfilment=line.fulfilment,
                fulfilment_label=str(Fulfilment(line.fulfilment).label), sku_id=line.sku_id,
            )
            for line in (order.lines.all() if lines is None else lines)
        ],
    )  # fmt: skip


def _move(order: Order, status: str, *, actor_id: int | None = None, **after: Any) -> None:
    """One transition of the order's state machine, with its audit event (row locked)."""
    audited_transition(
        order, status, object_type="order", object_id=order.number, actor_id=actor_id,
        refused=lambda details: OrderStateConflict(details=details), after=after,
    )  # fmt: skip


def _line_move(line: OrderLine, status: str, *, order_number: str, note: str = "") -> None:
    """One transition of a line's fulfilment, with its audit event (row locked by the caller)."""
    audited_transition(
        line, status, object_type="order_line", object_id=line.pk, field="fulfilment",
        refused=lambda details: OrderStateConflict(details=details),
        after={"order": order_number, **({"note": note} if note else {})},
    )  # fmt: skip
    line.save(update_fields=["fulfilment"])


def _lines_move(order: Order, status: str) -> None:
    """Move every line that its table allows (the order row is locked)."""
    for line in order.lines.all():
        if line.can_move_to(status):
            _line_move(line, status, order_number=order.number)


def _locked_order(number: str, *, user_id: int | None = None) -> Order:
    order = order_lock(number=number, user_id=user_id)
    if order is None:
        raise OrderNotFound()
    return order
