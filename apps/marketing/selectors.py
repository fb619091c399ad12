"""Marketing reads: which campaigns a buyer gets, the price of a cart under them and one of the
buyer's own coupons, the buyer's coupons, what an order was given, the campaign pages."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext

from apps.accounts.selectors import UserBrief, user_brief
from apps.carrier.selectors import home_province
from apps.marketing.errors import CouponNotFound
from apps.marketing.models import (
    BuyerFacts,
    Campaign,
    Channel,
    ChannelCode,
    ChannelOrder,
    ChannelProduct,
    Coupon,
    CouponBatch,
    FlashClaim,
    Redemption,
)
from apps.marketing.pricing import Applied, Offer, PriceLine, Pricing, price

Status = Campaign.Status


def code_normalise(code: str) -> str:
    """A typed code as stored: letters and digits, upper case (dashes and spaces dropped)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())[:40]


# --- Who a campaign is for --------------------------------------------------------------------


@dataclass
class _Buyer:
    """What the targets need to know of one buyer, each read at most once per pricing."""

    user_id: int
    _facts: BuyerFacts | None = None
    _facts_read: bool = False
    _brief: UserBrief | None = None

    @property
    def facts(self) -> BuyerFacts | None:
        if not self._facts_read:
            self._facts, self._facts_read = (
                BuyerFacts.objects.filter(user_id=self.user_id).first(),
                True,
            )
        return self._facts

    @property
    def brief(self) -> UserBrief:
        if self._brief is None:
            self._brief = user_brief(user_id=self.user_id)
        return self._brief


def targets(
    campaign: Campaign, *, user_id: int | None, now: datetime, buyer: _Buyer | None = None
) -> bool:
    if user_id is None:
        return campaign.target == Campaign.Target.ALL and not campaign.first_order_only
    buyer = buyer or _Buyer(user_id)
    if campaign.first_order_only and buyer.facts is not None and buyer.facts.paid_orders:
        return False
    target = campaign.target
    if target == Campaign.Target.ALL:
        return True
    if target == Campaign.Target.SEGMENT:
        facts = buyer.facts
        if facts is None or facts.spent_fen < campaign.segment_min_spend_fen:
            return False
        wanted = set(campaign.segment_product_ids)
        return not wanted or bool(wanted & set(facts.product_ids))
    user = buyer.brief
    if target == Campaign.Target.NEW:
        return user.date_joined >= now - timedelta(days=campaign.new_within_days)
    if target == Campaign.Target.NUMBERS:
        return user.phone in campaign.target_numbers
    return home_province(msisdn=user.phone) == campaign.target_province


def live(campaign: Campaign, now: datetime) -> bool:
    units_left = not campaign.budget_units or campaign.spent_units < campaign.budget_units
    money_left = not campaign.budget_fen or campaign.spent_fen < campaign.budget_fen
    return (
        campaign.status == Status.ACTIVE
        and campaign.starts_at <= now < campaign.ends_at
        and units_left
        and money_left
    )


def offer_of(campaign: Campaign) -> Offer:
    return Offer(
        campaign_id=campaign.pk, name=campaign.name, rule=campaign.rule,
        product_ids=tuple(campaign.product_ids), category_paths=tuple(campaign.category_paths),
        amount_fen=campaign.amount_fen, percent_off=campaign.percent_off, cap_fen=campaign.cap_fen,
        threshold_fen=campaign.threshold_fen, gift_points=campaign.gift_points,
        gift_sku_id=campaign.gift_sku_id, exclusive=campaign.exclusive,
        budget_left_fen=campaign.budget_fen - campaign.spent_fen if campaign.budget_fen else None,
    )  # fmt: skip


# The automatic campaigns running, remembered per process for MARKETING_CAMPAIGNS_CACHE_SECONDS
# (issue #18: one SELECT less for the cart's quote and for the checkout). Safe for money: the
# checkout locks the campaigns it applies and prices again with the locked rows (``live``:
# status, dates and budget as committed). A campaign created or changed in another process is
# seen by quotes within the bound; one changed in this process at once (``post_save``).
_running: tuple[float, list[Campaign]] | None = None


def campaigns_forget(**_signal: Any) -> None:
    """This process forgets the campaigns it remembered (``post_save`` of a campaign)."""
    global _running
    _running = None


def _running_campaigns(now: datetime) -> list[Campaign]:
    global _running
    ttl = settings.MARKETING_CAMPAIGNS_CACHE_SECONDS
    cached = _running
    if ttl > 0 and cached is not None and time.monotonic() - cached[0] < ttl:
        rows = cached[1]
    else:
        rows = list(
            Campaign.objects.filter(
                status=Status.ACTIVE, coupon_only=False, ends_at__gt=now,
                starts_at__lte=now + timedelta(seconds=max(ttl, 0)),
            )
        )  # fmt: skip
        if ttl > 0:
            _running = (time.monotonic(), rows)
    return [c for c in rows if c.starts_at <= now < c.ends_at]


def flash_reserved_column(*, user_id: int, sku_field: str) -> Exists:
    """Whether the buyer holds a reserved flash claim for the SKU in the outer field
    ``sku_field`` (a column of the checkout's cart-line read, issue #18): a checkout whose
    lines have none needs no claim lock (``checkout_price(flash_possible=False)``)."""
    return Exists(
        FlashClaim.objects.filter(
            user_id=user_id, status=FlashClaim.Status.RESERVED, sale__sku_id=OuterRef(sku_field)
        )
    )


def automatic_campaigns(*, user_id: int | None, now: datetime) -> list[Campaign]:
    rows = _running_campaigns(now)
    buyer = _Buyer(user_id) if user_id is not None else None
    return [c for c in rows if live(c, now) and targets(c, user_id=user_id, now=now, buyer=buyer)]


def price_quote(
    *, user_id: int | None, lines: list[PriceLine], coupon_code: str = "", channel_code: str = "",
    now: datetime | None = None,
) -> Pricing:  # fmt: skip
    """What ``lines`` would cost now under the buyer's campaigns and, if given, one coupon the
    buyer holds (a code they do not hold is ``CouponNotFound``: quotes never look codes up;
    typed codes go through ``services.coupon_redeem``, which is rate-limited), for an order the
    channel of ``channel_code`` brings (its price list and campaigns; an unknown or inactive
    code is ignored, as the checkout page ignores it). Priced by ``order_price``, as the
    checkout is."""
    now = now or timezone.now()
    running = automatic_campaigns(user_id=user_id, now=now)
    coupon = None
    if coupon_code and user_id is not None:
        coupon = (
            Coupon.objects.select_related("batch__campaign")
            .filter(code=code_normalise(coupon_code), user_id=user_id, status=Coupon.Status.CLAIMED)
            .first()
        )
        if coupon is None:
            raise CouponNotFound()

    def campaigns(rest: list[PriceLine], only: set[int]) -> Pricing:
        offers = [offer_of(c) for c in running if not only or c.pk in only]
        if coupon is None:
            return price(rest, offers)
        offers = [o for o in offers if o.campaign_id != coupon.batch.campaign_id]
        return price(rest, offers, offer_of(coupon.batch.campaign), coupon.code)

    channel_id = channel_code_resolve(code=channel_code) if channel_code else None
    return order_price(lines=lines, channel_id=channel_id, campaigns=campaigns)


def channel_code_resolve(*, code: str) -> int | None:
    """The active channel of a code, or None (a visitor's unknown code is ignored)."""
    row = ChannelCode.objects.filter(
        code=code.strip()[:32], channel__status=Channel.Status.ACTIVE
    ).first()
    return row.channel_id if row else None


def order_channel_name(*, order_number: str) -> str | None:
    """The name of the channel that brought the order, or None."""
    row = ChannelOrder.objects.filter(order_number=order_number).values_list(
        "channel__name", flat=True
    )
    return row.first()


def channel_prices(*, channel_id: int, lines: list[PriceLine]) -> dict[int, int]:
    """The discount of each line the channel's price list sells below the shop's price
    (line key → fen): (shop price − channel price) × quantity. A channel price is at least
    1 fen; one at or above the shop's price is ignored (channels sell at most at the shop's
    price)."""
    listed: dict[int, int] = {
        product_id: price_fen
        for product_id, price_fen in ChannelProduct.objects.filter(
            channel_id=channel_id,
            product_id__in={ln.product_id for ln in lines},
            price_fen__isnull=False,
        ).values_list("product_id", "price_fen")
        if price_fen is not None
    }
    out: dict[int, int] = {}
    for ln in lines:
        if ln.product_id in listed:
            unit = max(1, listed[ln.product_id])
            if unit < ln.unit_price_fen:
                out[ln.key] = (ln.unit_price_fen - unit) * ln.quantity
    return out


def order_price(
    *, lines: list[PriceLine], channel_id: int | None,
    campaigns: Callable[[list[PriceLine], set[int]], Pricing],
    fixed: dict[int, int] | None = None, fixed_applied: list[Applied] | None = None,
) -> Pricing:  # fmt: skip
    """The one pricing of a cart's quote and of a checkout, in the stacking order.

    ``fixed``: lines already priced (the checkout's flash-sale lines: line key → discount, shown
    as ``fixed_applied``); they take nothing else. Then the channel's price list: its lines sell
    at the channel's price (rule ``channel_price``), nothing else off. The rest goes to
    ``campaigns(rest, only)``, ``only`` being the campaigns the channel chose (empty: all): the
    quote prices them, the checkout prices and holds them.
    """
    fixed = dict(fixed or {})
    rest = [ln for ln in lines if ln.key not in fixed]
    channel_lines = channel_prices(channel_id=channel_id, lines=rest) if channel_id else {}
    rest = [ln for ln in rest if ln.key not in channel_lines]
    only = (
        set(Channel.objects.get(pk=channel_id).campaigns.values_list("pk", flat=True))
        if channel_id
        else set()
    )
    pricing = campaigns(rest, only)
    if not fixed and not channel_lines:
        return pricing
    extra = list(fixed_applied or [])
    if channel_lines and channel_id:
        extra.append(Applied(0, channel_price_label(channel_id), "channel_price",
                             sum(channel_lines.values()), line_discounts=dict(channel_lines)))  # fmt: skip
    priced = {k: v for k, v in (fixed | channel_lines).items() if v}
    discount = pricing.discount_fen + sum(priced.values())
    goods = sum(ln.total_fen for ln in lines)
    return replace(
        pricing, goods_fen=goods, discount_fen=discount, total_fen=goods - discount,
        line_discounts=pricing.line_discounts | priced, applied=extra + pricing.applied,
    )  # fmt: skip


@dataclass(frozen=True)
class CouponView:
    code: str
    campaign_id: int
    campaign_name: str
    rule: str
    status: str
    valid_until: datetime
    status_label: str = ""  # the status in words, for the buyer's pages


def coupons_for(
    *, user_id: int, usable_only: bool = True, now: datetime | None = None
) -> list[CouponView]:
    """The buyer's coupons (claimed and still valid, unless ``usable_only`` is False)."""
    now = now or timezone.now()
    rows = (
        Coupon.objects.filter(user_id=user_id)
        .select_related("batch__campaign")
        .order_by("batch__valid_until")
    )
    if usable_only:
        rows = rows.filter(
            status=Coupon.Status.CLAIMED, batch__valid_until__gt=now, batch__valid_from__lte=now
        )
    return [
        CouponView(code=c.code, campaign_id=c.batch.campaign_id, campaign_name=c.batch.campaign.name,
                   rule=c.batch.campaign.rule, status=c.status, valid_until=c.batch.valid_until,
                   status_label=str(Coupon.Status(c.status).label))
        for c in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class OrderDiscount:
    campaign_id: int
    campaign_name: str
    rule: str
    discount_fen: int
    gift_points: int
    coupon_code: str
    status: str


def channel_price_label(channel_id: int) -> str:
    """How a channel's price list shows in an order's breakdown."""
    name = Channel.objects.filter(pk=channel_id).values_list("name", flat=True).first() or ""
    return gettext("Channel price (%(channel)s)") % {"channel": name}


def order_discounts(*, order_number: str) -> list[OrderDiscount]:
    """What each campaign gave an order (its page, the API), in the order they applied."""
    rows = Redemption.objects.filter(order_number=order_number).select_related(
        "campaign", "coupon", "flash_sale"
    )
    out = []
    for r in rows.order_by("pk"):
        if r.campaign:
            name, rule = r.campaign.name, r.campaign.rule
        elif r.channel_id:
            name, rule = channel_price_label(r.channel_id), "channel_price"
        else:
            name, rule = (r.flash_sale.name if r.flash_sale else "", "flash")
        out.append(OrderDiscount(campaign_id=r.campaign_id or 0, campaign_name=name, rule=rule,
                                 discount_fen=r.discount_fen, gift_points=r.gift_points,
                                 coupon_code=r.coupon.code if r.coupon else "", status=r.status))  # fmt: skip
    return out


@dataclass(frozen=True)
class CampaignPage:
    id: int
    name: str
    rule: str
    rule_label: str
    starts_at: datetime
    ends_at: datetime
    amount_fen: int
    percent_off: int
    cap_fen: int
    threshold_fen: int
    gift_points: int
    batches: list[tuple[int, str, int]]  # (batch id, name, codes left to claim)
    is_live: bool


def campaign_page(*, campaign_id: int, now: datetime | None = None) -> CampaignPage | None:
    """A campaign's public page with its claimable coupon batches; None for a draft."""
    now = now or timezone.now()
    if not 0 < campaign_id < 2**63:
        return None
    c = Campaign.objects.exclude(status=Status.DRAFT).filter(pk=campaign_id).first()
    if c is None:
        return None
    batches = [
        (b.pk, b.name, b.coupons.filter(status=Coupon.Status.AVAILABLE).count())
        for b in CouponBatch.objects.filter(
            campaign=c, claimable=True, valid_until__gt=now
        ).order_by("pk")
    ]
    return CampaignPage(
        id=c.pk, name=c.name, rule=c.rule, rule_label=str(Campaign.Rule(c.rule).label), starts_at=c.starts_at,
        ends_at=c.ends_at, amount_fen=c.amount_fen, percent_off=c.percent_off, cap_fen=c.cap_fen,
        threshold_fen=c.threshold_fen, gift_points=c.gift_points, batches=batches, is_live=live(c, now),
    )  # fmt: skip
