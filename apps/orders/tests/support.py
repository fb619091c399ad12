"""Test helpers: a buyer's paid order (paid with points, so no provider is involved)."""

from __future__ import annotations

from apps.accounts.models import User
from apps.core.tests.outbox_support import outbox_handled
from apps.orders import services
from apps.orders.models import Order
from apps.orders.services import CartOwner, ShippingAddress
from apps.payments import services as payments

ADDRESS = ShippingAddress(
    name="张三", phone="13800138000", province="广东", city="广州", address="天河路1号"
)


def paid_order(buyer: User, products: list, *, key: str = "paid") -> Order:
    """An order of one unit of each product, paid in full with points."""
    for product in products:
        services.cart_add(
            owner=CartOwner(user_id=buyer.pk), sku_id=product.skus.get().pk, quantity=1
        )
    total = sum(product.skus.get().price_fen for product in products)
    payments.points_grant(user_id=buyer.pk, points=total, key=f"grant-{key}", reason="test")
    with outbox_handled():  # the order_paid fact is handled (lines' deliveries created)
        view = services.checkout_submit(
            user_id=buyer.pk, checkout_key=key, shipping=ADDRESS, points=total
        )
    order = Order.objects.get(number=view.number)
    # A digital line is delivered by its hand-off, so an order of only those completes at once.
    assert order.status in {"paid", "completed"}
    return order
