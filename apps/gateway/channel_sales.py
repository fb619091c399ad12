"""A channel sells through the gateway: an order for a customer's number, paid by the customer.

A developer-portal company that is an active channel (``apps.marketing``, ``Channel.partner_id``)
places an order with a credential whose app subscribes to ``channel-sales`` (scope
``channel:orders:create``): one SKU for the customer's number, a recharge or a data pack. The
order is the customer's (the number's user, registered on first use as carrier billing does)
and goes through the mall's own buy-now path, so everything the mall does holds: frozen
prices, stock, risk control, the channel's price list and campaigns, and the channel's
attribution (its code on the order, the commission accrued when the order completes and
reversed on a refund). A product the channel's price list does not allow is the API
checkout's 409 ``CHANNEL_PRODUCT_NOT_ALLOWED``.

Who pays: the customer, on the returned ``paymentUrl`` (the order's page; the customer signs in
with the number's texted code and pays with any of the mall's methods). The channel never
handles the money, which is why the commission is a payable the carrier settles later; a
charge to a channel's prepaid account would need a new payment method, a prepaid account per
channel and a reconciliation the settlement app does not have.

Exactly once per ``requestId``: the pipeline answers a repeat from its idempotency record, and
the order's checkout key is ``channel:<channel id>:<requestId>`` (unique), so even a repeat
racing the first call gets the same order; the same ``requestId`` for another customer or SKU
is 409 ``CONFLICT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from apps.accounts.services import user_ensure_for_phone
from apps.core.errors import Conflict
from apps.gateway.capability_errors import CapabilityNotFound
from apps.gateway.context import GatewayApp
from apps.gateway.errors import permission_denied
from apps.marketing.channels import ApiChannel, channel_for_partner, channel_order_of
from apps.orders.models import Order
from apps.orders.selectors import order_get
from apps.orders.services.direct import DirectItem, order_buy_now
from apps.orders.services.orders import order_payment_url


class RequestIdReused(Conflict):
    default_message = _("This requestId was already used for another order.")


@dataclass(frozen=True)
class ChannelSale:
    order_id: str
    status: str
    phone_number: str
    sku_id: int
    quantity: int
    goods_fen: int
    discount_fen: int
    payable_fen: int
    payment_url: str
    expires_at: datetime
    paid_at: datetime | None


def _channel(gateway_app: GatewayApp) -> ApiChannel:
    channel = channel_for_partner(partner_id=gateway_app.partner_id)
    if channel is None:
        raise permission_denied(_("The app's company is not an active sales channel."))
    return channel


def _sale(number: str, phone_number: str) -> ChannelSale:
    view = order_get(number=number)
    assert view is not None
    line = view.lines[0]
    return ChannelSale(
        order_id=view.number, status=view.status, phone_number=phone_number,
        sku_id=line.sku_id, quantity=line.quantity, goods_fen=view.goods_fen,
        discount_fen=view.discount_fen, payable_fen=view.payable_fen,
        payment_url=order_payment_url(view.number),
        expires_at=view.expires_at, paid_at=view.paid_at,
    )  # fmt: skip


def channel_order_place(
    *, gateway_app: GatewayApp, request_id: str, msisdn: str, sku_id: int, quantity: int
) -> ChannelSale:
    """Place (or find again, per ``request_id``) the channel's order for ``msisdn``'s user.
    The carrier checks the number first (no transaction open)."""
    channel = _channel(gateway_app)
    checkout_key = f"channel:{channel.id}:{request_id}"
    user_id = user_ensure_for_phone(phone=msisdn)
    existing = Order.objects.filter(checkout_key=checkout_key).first()
    if existing is not None:
        line = existing.lines.order_by("pk").first()
        if (
            existing.user_id != user_id
            or line is None
            or (line.sku_id, line.quantity) != (sku_id, quantity)
        ):
            raise RequestIdReused(details={"requestId": request_id})
        return _sale(existing.number, msisdn)
    order = order_buy_now(
        user_id=user_id,
        item=DirectItem(sku_id=sku_id, quantity=quantity, recipient=msisdn),
        checkout_key=checkout_key,
        channel_code=channel.code,
        channel_strict=True,
    )
    return _sale(order.number, msisdn)


def channel_order_read(*, gateway_app: GatewayApp, order_id: str) -> ChannelSale:
    """One of the channel's own orders (another's, or none: 404)."""
    channel = _channel(gateway_app)
    if not channel_order_of(channel_id=channel.id, order_number=order_id):
        raise CapabilityNotFound()
    order = Order.objects.select_related("user").get(number=order_id)
    return _sale(order.number, order.user.phone)
