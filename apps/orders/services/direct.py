"""Buying one item straight away (buy now, the recharge box): an order without the cart.

``checkout_submit`` owns every rule of turning goods into an order (frozen prices, stock
holds, points, audit); a direct purchase hands it the one item (``items``), and the buyer's
cart is neither read nor changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from apps.catalog.errors import PurchaseLimitExceeded
from apps.catalog.selectors import SkuForSale, sku_for_sale
from apps.core.errors import InvalidArgument
from apps.orders.errors import InvalidQuantity, RecipientRequired
from apps.orders.models import Order
from apps.orders.services.cart import MAX_QUANTITY, recipient_check
from apps.orders.services.orders import (
    DirectLine,
    OrderView,
    ShippingAddress,
    checkout_submit,
    order_view,
)
from apps.simcards.selectors import SIM_TYPE_CODE


class BuyNowNotForSim(InvalidArgument):
    code = "BUY_NOW_NOT_FOR_SIM"
    default_message = gettext_lazy(
        "A SIM card is bought through the cart: choose its number first."
    )


@dataclass(frozen=True)
class DirectItem:
    """One SKU bought directly; ``recipient`` is the number for electronic goods (raw input)."""

    sku_id: int
    quantity: int = 1
    recipient: str = ""


def direct_item_check(*, item: DirectItem) -> tuple[SkuForSale, str]:
    """The SKU on sale and the recipient in E.164 ("" when none is needed).

    Network call (the carrier checks the number), so the caller has no transaction open.
    """
    sku = sku_for_sale(sku_id=item.sku_id)
    if sku.type_code == SIM_TYPE_CODE:
        raise BuyNowNotForSim()
    if not 1 <= item.quantity <= MAX_QUANTITY:
        raise InvalidQuantity()
    if sku.per_user_limit is not None and item.quantity > sku.per_user_limit:
        raise PurchaseLimitExceeded(details={"limit": sku.per_user_limit})
    msisdn = ""
    if sku.needs_recipient_number:
        if not item.recipient.strip():
            raise RecipientRequired()
        msisdn = recipient_check(raw=item.recipient)
    return sku, msisdn


def order_buy_now(
    *,
    user_id: int,
    item: DirectItem,
    checkout_key: str,
    shipping: ShippingAddress | None = None,
    points: int = 0,
    channel_code: str = "",
    channel_strict: bool = False,
    flash_claim_id: int | None = None,
) -> OrderView:
    """Place an order for one item without touching the buyer's cart.

    Idempotent per ``checkout_key`` like ``checkout_submit``. The recipient is checked with
    the carrier before the transaction; ``checkout_submit`` locks the user row. A channel
    selling through the gateway passes its code (``channel_strict``: a product its price list
    does not allow is refused, as on the API's checkout). A flash-sale claim's worker passes
    the claim (``checkout_submit``'s ``flash_claim_id``).
    """
    existing = Order.objects.filter(checkout_key=checkout_key, user_id=user_id).first()
    if existing is not None:
        return order_view(existing)
    _, msisdn = direct_item_check(item=item)
    return checkout_submit(
        user_id=user_id, checkout_key=checkout_key, shipping=shipping, points=points,
        items=[DirectLine(sku_id=item.sku_id, quantity=item.quantity, recipient_msisdn=msisdn)],
        channel_code=channel_code, channel_strict=channel_strict, flash_claim_id=flash_claim_id,
    )  # fmt: skip


def recharge_place(*, user_id: int, sku_id: int, recipient: str, checkout_key: str) -> OrderView:
    """The recharge box's 立即充值: one airtime or data SKU for one number, straight to payment."""
    return order_buy_now(
        user_id=user_id,
        item=DirectItem(sku_id=sku_id, quantity=1, recipient=recipient),
        checkout_key=checkout_key,
    )
