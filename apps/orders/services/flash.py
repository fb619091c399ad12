"""Buying in a flash sale (秒杀): marketing hands out the units, the ordinary checkout places the
order at the flash price (marketing's pricing hook binds the buyer's claim to it)."""

from __future__ import annotations

from apps.marketing import services as marketing
from apps.marketing.errors import FlashLimit
from apps.orders.models import Order
from apps.orders.services.direct import DirectItem, order_buy_now
from apps.orders.services.orders import OrderView, ShippingAddress, order_view


def flash_buy(
    *, user_id: int, sale_id: int, checkout_key: str, quantity: int = 1, recipient: str = "",
    shipping: ShippingAddress | None = None, points: int = 0,
) -> OrderView:  # fmt: skip
    """Take units of the sale and place their order.

    Losers are refused by Redis alone (``FlashSoldOut``, ``FlashLimit``, ``FlashNotOpen``),
    before any database work. A winner's claim is recorded, then ``order_buy_now`` places the
    order (recipient checked with the carrier before its transaction); if the order cannot be
    placed the claim is released and its units go back. Idempotent per ``checkout_key`` (a
    repeat is refused by Redis as over the limit, then answered with the order it placed).
    """
    sale = marketing.flash_sale_info(sale_id=sale_id)
    try:
        claim_id = marketing.flash_take(sale_id=sale_id, user_id=user_id, quantity=quantity)
    except FlashLimit:
        # A repeat of a request that won: its order (losers never reach the database).
        existing = Order.objects.filter(checkout_key=checkout_key, user_id=user_id).first()
        if existing is not None:
            return order_view(existing)
        raise
    try:
        return order_buy_now(
            user_id=user_id, checkout_key=checkout_key, shipping=shipping, points=points,
            item=DirectItem(sku_id=sale.sku_id, quantity=quantity, recipient=recipient),
        )  # fmt: skip
    except BaseException:
        marketing.flash_release(claim_id=claim_id)
        raise
