"""Cart and order reads for pages and the API."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.catalog.selectors import FOR_SALE_RELATED, SkuForSale, skus_for_sale, skus_for_sale_of
from apps.core.audit import audit_trail
from apps.marketing import selectors as marketing
from apps.marketing.pricing import PriceLine, Pricing
from apps.marketing.selectors import OrderDiscount
from apps.orders.forms import JSAPI_CHOICE, PAY_CHOICES
from apps.orders.models import CartLine, Order, OrderLine
from apps.orders.services import CartOwner, OrderView
from apps.orders.services.orders import order_view
from apps.payments.services import RefundView
from apps.simcards.selectors import SIM_TYPE_CODE, numbers_for_lines, numbers_state


def cart_owner(request: HttpRequest, *, create: bool = False) -> CartOwner | None:
    """The cart owner of a request: the user, or a guest key kept in the session."""
    if request.user.is_authenticated:
        return CartOwner(user_id=request.user.pk)
    key = request.session.get("guest_cart_key")
    if not key and create:
        key = secrets.token_urlsafe(24)
        request.session["guest_cart_key"] = key
    return CartOwner(session_key=key) if key else None


@dataclass(frozen=True)
class CartLineView:
    id: int
    sku_id: int
    product_id: int
    product_name: str
    sku_name: str
    thumbnail_url: str
    recipient: str
    quantity: int
    price_fen: int
    subtotal_fen: int
    on_sale: bool
    # A SIM card's chosen number (``recipient``) is held for the buyer until this time; None
    # when the hold lapsed and the number may have gone to someone else.
    is_sim: bool = False
    held_until: datetime | None = None
    # English mode's names; empty: the Chinese ones.
    product_name_en: str = ""
    sku_name_en: str = ""


@dataclass(frozen=True)
class CartView:
    lines: list[CartLineView]
    total_fen: int
    count: int
    # Marketing's breakdown at today's campaigns (and the coupon chosen at checkout).
    discount_fen: int = 0
    discounts: list[OrderDiscount] = field(default_factory=list)

    @property
    def payable_fen(self) -> int:
        return self.total_fen - self.discount_fen


def cart_view(
    *,
    owner: CartOwner | None,
    coupon_code: str = "",
    channel_code: str = "",
    only: tuple[CartLine, SkuForSale] | None = None,
) -> CartView:
    """The cart at today's prices and campaigns (and ``coupon_code``, one of the buyer's own
    coupons: ``CouponNotFound`` otherwise), priced for the channel of ``channel_code`` (the
    ``ch`` cookie: its price list and campaigns, as the checkout prices them); lines no longer
    on sale are flagged. ``only``: the cart's one line and its SKU, when the caller holds
    them (an add that left one line), so nothing is read for the lines."""
    if owner is None:
        return CartView(lines=[], total_fen=0, count=0)
    lookup = (
        {"cart__user_id": owner.user_id}
        if owner.user_id
        else {"cart__session_key": owner.session_key}
    )
    rows: list[CartLine]
    if only is not None:  # the cart's one line, as an add just wrote it (``CartAdded.only``)
        rows, skus = [only[0]], {only[1].sku_id: only[1]}
    else:
        # The lines with their SKUs for sale in one statement.
        rows = list(
            CartLine.objects.filter(**lookup).select_related(
                *(f"sku__{field}" for field in FOR_SALE_RELATED)
            )
        )
        skus = skus_for_sale_of(row.sku for row in rows)
    sims = {
        row.pk for row in rows if row.sku_id in skus and skus[row.sku_id].type_code == SIM_TYPE_CODE
    }
    numbers = numbers_state(msisdns=[row.recipient_msisdn for row in rows if row.pk in sims])
    lines = []
    for row in rows:
        sku = skus.get(row.sku_id)
        number = numbers.get(row.recipient_msisdn) if row.pk in sims else None
        held = (
            number is not None
            and number.status == "held"
            and number.holder_user_id == owner.user_id
            and number.held_until is not None
            and number.held_until > timezone.now()
        )
        price = (sku.price_fen if sku else 0) + (number.premium_fen if number else 0)
        lines.append(
            CartLineView(
                id=row.pk,
                sku_id=row.sku_id,
                product_id=sku.product_id if sku else 0,
                product_name=sku.product_name if sku else "",
                sku_name=sku.sku_name if sku else "",
                product_name_en=sku.product_name_en if sku else "",
                sku_name_en=sku.sku_name_en if sku else "",
                thumbnail_url=sku.thumbnail_url if sku else "",
                recipient=row.recipient_msisdn,
                quantity=row.quantity,
                price_fen=price,
                subtotal_fen=price * row.quantity,
                on_sale=sku is not None,
                is_sim=row.pk in sims,
                held_until=number.held_until if (number and held) else None,
            )
        )
    on_sale = [line for line in lines if line.on_sale]
    if not on_sale:
        return CartView(lines=lines, total_fen=0, count=sum(line.quantity for line in lines))
    pricing = marketing.price_quote(
        user_id=owner.user_id, coupon_code=coupon_code, channel_code=channel_code,
        lines=[PriceLine(key=line.id, product_id=line.product_id, category_path=skus[line.sku_id].category_path,
                         unit_price_fen=line.price_fen, quantity=line.quantity) for line in on_sale],
    )  # fmt: skip
    return CartView(
        lines=lines,
        total_fen=pricing.goods_fen,
        count=sum(line.quantity for line in lines),
        discount_fen=pricing.discount_fen,
        discounts=discounts_of(pricing),
    )


def discounts_of(pricing: Pricing) -> list[OrderDiscount]:
    """A quote's campaigns as the order page shows them."""
    return [
        OrderDiscount(campaign_id=a.campaign_id, campaign_name=a.name, rule=a.rule, discount_fen=a.discount_fen,
                      gift_points=a.gift_points, coupon_code=a.coupon_code, status="quote")
        for a in pricing.applied
    ]  # fmt: skip


def cart_needs_shipping(*, cart: CartView) -> bool:
    from apps.catalog.selectors import skus_for_sale

    skus = skus_for_sale(sku_ids=[line.sku_id for line in cart.lines])
    return any(sku.kind == "physical" for sku in skus.values())


def order_get(*, number: str, user_id: int | None = None) -> OrderView | None:
    """One order with its lines; a SIM card's line carries its number's state."""
    qs = Order.objects.prefetch_related("lines").filter(number=number)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    order = qs.first()
    if order is None:
        return None
    view = replace(order_view(order), discounts=marketing.order_discounts(order_number=number))
    sims = numbers_for_lines(line_ids=[line.id for line in view.lines if line.kind == "physical"])
    if not sims:
        return view
    return replace(view, lines=[replace(line, sim=sims.get(line.id)) for line in view.lines])


def orders_for_user(*, user_id: int, limit: int = 50) -> list[OrderView]:
    rows = Order.objects.prefetch_related("lines").filter(user_id=user_id).order_by("-id")[:limit]
    return [order_view(o) for o in rows]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str  # the audit code, e.g. "payment.succeeded"
    label: str  # the same in the reader's language, e.g. "支付 · 已支付"


_TIMELINE_SUBJECTS = {"order": _("Order"), "payment": _("Payment"), "refund": _("Refund")}
_TIMELINE_EXTRA = {"order.created": _("Placed"), "order.completed": _("Completed")}


def _timeline_label(action: str) -> str:
    from apps.payments.selectors import state_label

    subject, _dot, state = action.partition(".")
    if action in _TIMELINE_EXTRA:
        state_text = str(_TIMELINE_EXTRA[action])
    elif subject == "order" and state in Order.Status.values:
        state_text = str(Order.Status(state).label)
    elif subject in ("payment", "refund"):
        state_text = state_label(subject=subject, status=state)
    else:
        return action
    return f"{_TIMELINE_SUBJECTS[subject]} · {state_text}"


def order_timeline(*, number: str) -> list[TimelineEntry]:
    """The order's and its payments' and refunds' state changes, oldest first, each with its
    label in the active language."""
    from apps.payments.selectors import intents_for, refunds_for

    intents = [i.public_id for i in intents_for(purpose="order", reference=number)]
    refunds = [r.public_id for r in refunds_for(purpose="order", reference=number)]
    # Nothing about the order is older than the order: the audit read prunes to its days.
    since = Order.objects.filter(number=number).values_list("created_at", flat=True).first()
    entries = (
        audit_trail(object_type="order", object_ids=[number], since=since)
        + audit_trail(object_type="payment", object_ids=intents, since=since)
        + audit_trail(object_type="refund", object_ids=refunds, since=since)
    )
    return [
        TimelineEntry(at=e.at, action=e.action, label=_timeline_label(e.action))
        for e in sorted(entries, key=lambda e: e.at)
    ]


def order_refunds(*, number: str) -> list[RefundView]:
    from apps.payments.selectors import refunds_for

    return refunds_for(purpose="order", reference=number)


def recent_recipients(*, user_id: int, limit: int = 5) -> list[str]:
    """Numbers the user recharged before, newest first (one query): the recharge box offers them."""
    rows = (
        OrderLine.objects.filter(order__user_id=user_id)
        .exclude(recipient_msisdn="")
        .exclude(kind="physical")
        .values_list("recipient_msisdn", flat=True)
        .order_by("-order_id")[: limit * 4]
    )
    return list(dict.fromkeys(rows))[:limit]


def direct_item_view(*, sku_id: int, quantity: int, recipient: str) -> CartView:
    """A one-line cart view of an item bought directly (buy now), for the checkout page."""
    sku = skus_for_sale(sku_ids=[sku_id]).get(sku_id)
    if sku is None or quantity < 1:
        return CartView(lines=[], total_fen=0, count=0)
    line = CartLineView(
        id=0, sku_id=sku.sku_id, product_id=sku.product_id, product_name=sku.product_name,
        sku_name=sku.sku_name, thumbnail_url=sku.thumbnail_url, recipient=recipient,
        quantity=quantity, price_fen=sku.price_fen, subtotal_fen=sku.price_fen * quantity,
        on_sale=True, product_name_en=sku.product_name_en, sku_name_en=sku.sku_name_en,
    )  # fmt: skip
    return CartView(lines=[line], total_fen=line.subtotal_fen, count=quantity)


# --- The order list's tabs --------------------------------------------------------------------

ORDER_TABS: list[tuple[str, str | Promise]] = [
    ("all", _("All")),
    ("to_pay", pgettext_lazy("order tab", "To pay")),
    ("to_deliver", _("To ship or deliver")),
    ("to_receive", _("To receive")),
    ("completed", _("Completed")),
    ("after_sales", _("Refunds & after-sales")),
]
_WAITING = (OrderLine.Fulfilment.READY, OrderLine.Fulfilment.FAILED)


def _tab_filters() -> dict[str, Q]:
    """Each tab as a condition on orders annotated by ``_with_flags``. 待发货/待交付: paid and
    some line still to be sent; 待收货: paid, everything sent, something on its way."""
    paid = Q(status=Order.Status.PAID)
    return {
        "all": Q(),
        "to_pay": Q(status=Order.Status.PENDING_PAYMENT),
        "to_deliver": paid & Q(has_waiting=True),
        "to_receive": paid & Q(has_waiting=False, has_delivering=True),
        "completed": Q(status=Order.Status.COMPLETED),
        "after_sales": Q(status=Order.Status.REFUNDED)
        | Q(refunded_fen__gt=0)
        | Q(has_refunded_line=True)
        | Q(has_refund_request=True),
    }


def _with_flags(qs: QuerySet[Order]) -> QuerySet[Order]:
    lines = OrderLine.objects.filter(order=OuterRef("pk"))
    return qs.annotate(
        has_waiting=Exists(lines.filter(fulfilment__in=_WAITING)),
        has_delivering=Exists(lines.filter(fulfilment=OrderLine.Fulfilment.DELIVERING)),
        has_refunded_line=Exists(lines.filter(fulfilment=OrderLine.Fulfilment.REFUNDED)),
        # A return is fulfilment's; orders sees it as a line whose refund was asked for.
        has_refund_request=Exists(lines.filter(refund_requested_at__isnull=False)),
    )


@dataclass(frozen=True)
class OrderTab:
    code: str
    label: str
    count: int


def order_tabs(*, user_id: int) -> list[OrderTab]:
    """The order list's tabs with how many of the user's orders each holds (one query)."""
    filters = _tab_filters()
    counts = _with_flags(Order.objects.filter(user_id=user_id)).aggregate(
        **{code: Count("pk", filter=filters[code]) for code, _label in ORDER_TABS}
    )
    return [OrderTab(code, str(label), counts[code]) for code, label in ORDER_TABS]


def orders_in_tab(*, user_id: int, tab: str, limit: int = 50) -> list[OrderView]:
    """The user's orders in one tab, newest first (an unknown tab reads as "all")."""
    condition = _tab_filters().get(tab, Q())
    rows = (
        _with_flags(Order.objects.filter(user_id=user_id))
        .filter(condition)
        .prefetch_related("lines")
        .order_by("-id")[:limit]
    )
    return [order_view(o) for o in rows]


def order_payment_methods(*, number: str) -> list[str]:
    """How an order was paid, in the reader's words ("微信支付（扫码）", "积分"), in order."""
    from apps.payments.selectors import intents_for

    names = {key: str(label) for key, label in [*PAY_CHOICES, JSAPI_CHOICE]} | {
        "points:": str(_("Points"))
    }
    paid = ("succeeded", "partially_refunded", "refunded")
    return list(
        dict.fromkeys(
            names.get(f"{i.method}:{i.channel}", i.method)
            for i in intents_for(purpose="order", reference=number)
            if i.status in paid
        )
    )


def shipping_lines(*, shipping: dict[str, str]) -> list[str]:
    """A delivery address as the reader writes it: name and phone, then the address."""
    if not shipping:
        return []
    who = " ".join(filter(None, [shipping.get("name", ""), shipping.get("phone", "")]))
    where = "".join(
        filter(None, [shipping.get(k, "") for k in ("province", "city", "district", "address")])
    )
    return [line for line in (who, where) if line]


@dataclass(frozen=True)
class RevenueLine:
    """An order line as finance's revenue report splits the order's money: its product kind,
    what it was paid (``total − discount``), its discount, and whether its refund was asked."""

    line_id: int
    kind: str
    paid_fen: int
    discount_fen: int
    refund_requested: bool


def revenue_lines(*, numbers: list[str]) -> dict[str, list[RevenueLine]]:
    """The lines of the orders ``numbers`` (unknown numbers are left out), by order number."""
    out: dict[str, list[RevenueLine]] = {}
    rows = (
        OrderLine.objects.filter(order__number__in=numbers)
        .order_by("order_id", "id")
        .values_list(
            "order__number", "id", "kind", "total_fen", "discount_fen", "refund_requested_at"
        )
    )
    for number, line_id, kind, total, discount, asked in rows:
        out.setdefault(number, []).append(
            RevenueLine(line_id, kind, total - discount, discount, asked is not None)
        )
    return out
