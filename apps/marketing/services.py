"""Marketing writes: pricing a checkout under campaigns and a coupon, what happens to those
discounts when the order is paid, closed unpaid or refunded, and coupon batches and claims.

Budgets: a campaign's ``spent_fen``/``spent_units`` count the orders that hold or used it (held
at checkout under the campaign's row lock, so two checkouts never spend the same fen); the
campaign moves itself to ``exhausted`` when either budget is spent and back to ``active`` when
a closed or refunded order gives its share back. The ledger books what paid orders cost:
``marketing:campaign:<id>`` (expense) is debited with the discount and ``platform:revenue``
credited, so revenue shows the full price and the expense the discount.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core import outbox
from apps.core.audit import audit_record
from apps.core.errors import InvalidArgument
from apps.core.ratelimit import rate_hit
from apps.ledger.selectors import account_balance
from apps.ledger.services import LineSpec, account_ensure, journal_post, journal_reverse
from apps.marketing.channels import channel_attribute
from apps.marketing.errors import (
    CampaignNotFound,
    CouponExpired,
    CouponGuessing,
    CouponLimitReached,
    CouponNotApplicable,
    CouponNotFound,
    CouponNotYours,
    CouponsGone,
    CouponUsed,
)
from apps.marketing.flash import (
    FlashBinding,
    flash_bind,
    flash_claims_paid,
    flash_claims_release,
)
from apps.marketing.flash import FlashClaimView as FlashClaimView
from apps.marketing.flash import flash_claim_get as flash_claim_get
from apps.marketing.flash import flash_claim_of as flash_claim_of
from apps.marketing.flash import flash_claims_expire as flash_claims_expire
from apps.marketing.flash import flash_prime as flash_prime
from apps.marketing.flash import flash_release as flash_release
from apps.marketing.flash import flash_sale_info as flash_sale_info
from apps.marketing.flash import flash_sale_page as flash_sale_page
from apps.marketing.flash import flash_take as flash_take
from apps.marketing.locks import campaigns_lock, coupon_lock, flash_claims_lock, redemptions_lock
from apps.marketing.models import (
    BuyerFacts,
    Campaign,
    Coupon,
    CouponBatch,
    FlashClaim,
    Redemption,
)
from apps.marketing.pricing import Applied, PriceLine, Pricing, price
from apps.marketing.selectors import (
    automatic_campaigns,
    code_normalise,
    live,
    offer_of,
    order_price,
)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 12  # 31**12 ≈ 7.9e17 codes: a batch of a million is one in 10**11
GUESSES_PER_HOUR = 10
Status = Campaign.Status


def campaign_account(campaign_id: int) -> str:
    code = f"marketing:campaign:{campaign_id}"
    account_ensure(code=code, name=f"营销活动{campaign_id}费用", kind="expense")
    return code


# --- Coupons ----------------------------------------------------------------------------------


def _guess_counted(*, user_id: int) -> None:
    """Count a look-up of a code the user does not hold; refuse past the hourly limit (every
    look-up counts, right or wrong, so the limit cannot be used to tell codes apart)."""
    decision = rate_hit(
        key=f"coupon_guess:user:{user_id}", limit=GUESSES_PER_HOUR, window_seconds=3600
    )
    if not decision.allowed:
        raise CouponGuessing(retry_after=decision.retry_after_seconds)


def _coupon_usable(coupon: Coupon, *, user_id: int, now: datetime) -> None:
    if coupon.user_id is not None and coupon.user_id != user_id:
        raise CouponNotYours()
    if coupon.status in (Coupon.Status.USED, Coupon.Status.HELD):
        raise CouponUsed()
    batch = coupon.batch
    if not (batch.valid_from <= now < batch.valid_until) or not live(batch.campaign, now):
        raise CouponExpired(details={"valid_until": batch.valid_until.isoformat()})


def _coupon_find(*, user_id: int, code: str, lock: bool) -> Coupon:
    code = code_normalise(code)
    if not code:
        raise CouponNotFound()
    coupon = (
        coupon_lock(code=code)
        if lock
        else Coupon.objects.select_related("batch__campaign").filter(code=code).first()
    )
    if coupon is None or coupon.user_id != user_id:
        _guess_counted(user_id=user_id)  # before the answer, so a refusal tells nothing
    if coupon is None:
        raise CouponNotFound()
    return coupon


def _claim_limit_check(*, user_id: int, batch: CouponBatch) -> None:
    held = Coupon.objects.filter(batch=batch, user_id=user_id).count()
    if held >= batch.per_user_limit:
        raise CouponLimitReached(details={"per_user": batch.per_user_limit})


def coupon_batch_create(
    *, campaign_id: int, name: str, count: int, per_user_limit: int = 1,
    valid_from: datetime, valid_until: datetime, claimable: bool = True,
    actor_id: int | None = None,
) -> int:  # fmt: skip
    """A batch of ``count`` unique random codes for a coupon campaign (``secrets``; a clash
    with an existing code is drawn again)."""
    if not 1 <= count <= 100_000 or valid_until <= valid_from or per_user_limit < 1:
        raise InvalidArgument(details={"count": count, "per_user_limit": per_user_limit})
    with transaction.atomic():
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise CampaignNotFound()
        batch = CouponBatch.objects.create(
            campaign=campaign, name=name, per_user_limit=per_user_limit, valid_from=valid_from,
            valid_until=valid_until, claimable=claimable,
        )  # fmt: skip
        made = 0
        while made < count:
            codes = {
                "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                for _ in range(count - made)
            }
            created = Coupon.objects.bulk_create(
                [Coupon(batch=batch, code=c) for c in codes], ignore_conflicts=True
            )
            made = Coupon.objects.filter(batch=batch).count()
            if not created:  # pragma: no cover - would need a saturated code space
                raise InvalidArgument()
        audit_record(action="marketing.coupon_batch_created", object_type="coupon_batch",
                     object_id=batch.pk, actor_id=actor_id, after={"count": count})  # fmt: skip
    return batch.pk


def coupon_claim(*, user_id: int, batch_id: int, now: datetime | None = None) -> str:
    """Give the user the next free code of a claimable batch (the campaign page), up to the
    batch's per-user limit. Locks the batch row (one claim per batch at a time, so the limit
    holds), then takes a free code with ``SKIP LOCKED``."""
    now = now or timezone.now()
    with transaction.atomic():
        batch = CouponBatch.objects.select_for_update().select_related("campaign").filter(
            pk=batch_id, claimable=True
        ).first()  # fmt: skip
        if batch is None:
            raise CouponNotFound()
        if not (batch.valid_from <= now < batch.valid_until) or not live(batch.campaign, now):
            raise CouponExpired()
        _claim_limit_check(user_id=user_id, batch=batch)
        coupon = (
            Coupon.objects.select_for_update(skip_locked=True)
            .filter(batch=batch, status=Coupon.Status.AVAILABLE).order_by("id").first()
        )  # fmt: skip
        if coupon is None:
            raise CouponsGone()
        coupon.status, coupon.user_id, coupon.claimed_at = Coupon.Status.CLAIMED, user_id, now
        coupon.save(update_fields=["status", "user_id", "claimed_at"])
    return coupon.code


def coupon_redeem(*, user_id: int, code: str, now: datetime | None = None) -> str:
    """Claim a code handed out elsewhere (typed in). Rate-limited per user (``CouponGuessing``);
    a code someone else holds is ``CouponNotYours``, an expired one ``CouponExpired``."""
    now = now or timezone.now()
    with transaction.atomic():
        coupon = _coupon_find(user_id=user_id, code=code, lock=True)
        if coupon.user_id == user_id:
            return coupon.code
        _coupon_usable(coupon, user_id=user_id, now=now)
        batch = CouponBatch.objects.select_for_update().get(pk=coupon.batch_id)
        _claim_limit_check(user_id=user_id, batch=batch)
        coupon.status, coupon.user_id, coupon.claimed_at = Coupon.Status.CLAIMED, user_id, now
        coupon.save(update_fields=["status", "user_id", "claimed_at"])
    return coupon.code


# --- Pricing ----------------------------------------------------------------------------------


def _quote_with_any_code(
    *, user_id: int, lines: list[PriceLine], coupon_code: str, now: datetime, only: set[int]
) -> Pricing:
    """The checkout's first, unlocked pricing: a code the buyer does not hold yet is looked up
    (counted against guessing) and, if usable, priced as theirs."""
    offers = [
        offer_of(c)
        for c in automatic_campaigns(user_id=user_id, now=now)
        if not only or c.pk in only
    ]
    if not coupon_code:
        return price(lines, offers)
    found = _coupon_find(user_id=user_id, code=coupon_code, lock=False)
    _coupon_usable(found, user_id=user_id, now=now)
    offers = [o for o in offers if o.campaign_id != found.batch.campaign_id]
    return price(lines, offers, offer_of(found.batch.campaign), found.code)


def checkout_price(
    *, user_id: int, order_number: str, lines: list[PriceLine], coupon_code: str = "",
    channel_code: str = "", channel_strict: bool = False, flash_claim_id: int | None = None,
    now: datetime | None = None, flash_possible: bool = True,
) -> Pricing:  # fmt: skip
    """Price a checkout and hold what it uses, in the checkout's transaction.

    ``flash_claim_id``: the order is that flash claim's (placed by the worker): the claim must
    still be reserved (``FlashClaimGone`` otherwise, nothing written).

    Prices once without locks to learn which campaigns apply, locks those (primary-key order)
    and the coupon, and prices again with the locked budgets and only those campaigns, so the
    discount never exceeds a budget. Holds one ``Redemption`` per campaign used, adds to the
    campaigns' spent budgets (a campaign whose budget is spent moves to ``exhausted``) and
    holds the coupon for the order. A coupon that does not apply is ``CouponNotApplicable``
    (nothing written). Locks: campaigns, then the coupon (after stock and SIM numbers).
    """
    now = now or timezone.now()
    # The channel that brought the order (``channel_code``; unknown: ignored, or with
    # ``channel_strict`` (the API) ``ChannelNotFound``), and the campaigns it may have.
    channel_id = channel_attribute(code=channel_code, order_number=order_number, user_id=user_id,
                                   product_ids=[ln.product_id for ln in lines], strict=channel_strict)  # fmt: skip
    # Flash-sale lines first (their claims, then the campaigns, in the lock order): they are
    # sold at the flash price and take no other discount; then ``order_price`` (the cart's
    # quote's pricing too) applies the channel's price list and the campaigns it allows.
    # ``flash_possible`` False: the caller read in this transaction that the buyer holds no
    # reserved claim for these SKUs (``selectors.flash_reserved_column``): no claim lock.
    if flash_possible or flash_claim_id is not None:
        flash = flash_bind(user_id=user_id, order_number=order_number, claim_id=flash_claim_id,
                           lines=[(ln.key, ln.sku_id, ln.unit_price_fen, ln.quantity) for ln in lines])  # fmt: skip
    else:
        flash = FlashBinding(line_discounts={}, by_sale={})

    def campaigns(rest: list[PriceLine], only: set[int]) -> Pricing:
        return _campaigns_hold(user_id=user_id, order_number=order_number, lines=rest,
                               coupon_code=coupon_code, now=now, only=only)  # fmt: skip

    pricing = order_price(
        lines=lines, channel_id=channel_id, campaigns=campaigns, fixed=flash.line_discounts,
        fixed_applied=[Applied(0, name, "flash", d) for name, d in flash.by_sale.values()],
    )  # fmt: skip
    for sale_id, (_name, discount) in flash.by_sale.items():
        Redemption.objects.create(order_number=order_number, user_id=user_id, flash_sale_id=sale_id,
                                  discount_fen=discount)  # fmt: skip
    channel_discount = sum(a.discount_fen for a in pricing.applied if a.rule == "channel_price")
    if channel_discount and channel_id:
        Redemption.objects.create(order_number=order_number, user_id=user_id,
                                  channel_id=channel_id, discount_fen=channel_discount)  # fmt: skip
    return pricing


def _campaigns_hold(
    *, user_id: int, order_number: str, lines: list[PriceLine], coupon_code: str, now: datetime,
    only: set[int],
) -> Pricing:  # fmt: skip
    """Price ``lines`` under the campaigns (``only`` those, when a channel chose some) and the
    coupon, and hold what they use."""
    first = _quote_with_any_code(
        user_id=user_id, lines=lines, coupon_code=coupon_code, now=now, only=only
    )
    if coupon_code and first.coupon_unused:
        raise CouponNotApplicable()
    used_ids = sorted({a.campaign_id for a in first.applied})
    if not used_ids:
        return first
    locked = campaigns_lock(ids=used_ids)
    coupon_row = None
    coupon_offer = None
    if coupon_code:
        coupon_row = coupon_lock(code=code_normalise(coupon_code))
        assert coupon_row is not None  # found by the quote; codes are never deleted
        _coupon_usable(coupon_row, user_id=user_id, now=now)
        coupon_offer = offer_of(locked[coupon_row.batch.campaign_id])
    auto = [offer_of(locked[i]) for i in used_ids if live(locked[i], now)
            and (coupon_row is None or i != coupon_row.batch.campaign_id)]  # fmt: skip
    pricing = price(lines, auto, coupon_offer, coupon_row.code if coupon_row else "")
    if coupon_code and pricing.coupon_unused:
        raise CouponNotApplicable()
    redemptions: list[Redemption] = []
    for applied in pricing.applied:
        campaign = locked[applied.campaign_id]
        cost = applied.discount_fen + applied.gift_points
        campaign.spent_fen += cost
        campaign.spent_units += 1
        fields = ["spent_fen", "spent_units"]
        if not live(campaign, now) and campaign.status == Status.ACTIVE:
            campaign.status = Status.EXHAUSTED
            fields.append("status")
            audit_record(action="marketing.campaign_exhausted", object_type="campaign",
                         object_id=campaign.pk, after={"spent_fen": campaign.spent_fen,
                                                       "spent_units": campaign.spent_units})  # fmt: skip
        campaign.save(update_fields=fields)
        is_coupon = coupon_row is not None and applied.coupon_code == coupon_row.code
        redemptions.append(Redemption(
            order_number=order_number, user_id=user_id, campaign=campaign,
            coupon=coupon_row if is_coupon else None, discount_fen=applied.discount_fen,
            gift_points=applied.gift_points, gift_sku_id=applied.gift_sku_id,
        ))  # fmt: skip
    Redemption.objects.bulk_create(redemptions)
    if coupon_row is not None:
        coupon_row.status, coupon_row.user_id = Coupon.Status.HELD, user_id
        coupon_row.claimed_at = coupon_row.claimed_at or now
        coupon_row.order_number = order_number
        coupon_row.save(update_fields=["status", "user_id", "claimed_at", "order_number"])
    return pricing


def _give_back(redemptions: list[Redemption], *, to: str, coupon_back: bool, now: datetime) -> None:
    """Return held or used redemptions' budget to their campaigns (locked in pk order)."""
    campaigns = campaigns_lock(ids=sorted({r.campaign_id for r in redemptions if r.campaign_id}))
    for r in redemptions:
        if r.campaign_id is None:  # a flash sale's price: its units are the claims'
            r.status = to
            r.save(update_fields=["status"])
            continue
        campaign = campaigns[r.campaign_id]
        campaign.spent_fen -= r.discount_fen + r.gift_points
        campaign.spent_units -= 1
        fields = ["spent_fen", "spent_units"]
        if campaign.status == Status.EXHAUSTED:
            campaign.status = Status.ACTIVE
            fields.append("status")
            if not live(campaign, now):
                campaign.status = Status.EXHAUSTED
        campaign.save(update_fields=fields)
        r.status = to
        r.save(update_fields=["status"])
    for r in redemptions:
        if r.coupon_id is None:
            continue
        coupon = Coupon.objects.select_for_update().select_related("batch").get(pk=r.coupon_id)
        if coupon_back and now < coupon.batch.valid_until:
            coupon.status, coupon.order_number = Coupon.Status.CLAIMED, ""
            coupon.save(update_fields=["status", "order_number"])


def order_released(*, order_number: str, now: datetime | None = None) -> None:
    """An unpaid order closed (cancelled, expired): its campaigns get their budget back and
    its coupon goes back to the buyer. Idempotent (only held redemptions move). In the
    caller's transaction, after the order's stock and numbers."""
    held = [
        r for r in redemptions_lock(order_number=order_number) if r.status == Redemption.Status.HELD
    ]
    flash_claims_release(
        claims=flash_claims_lock(order_number=order_number, status=FlashClaim.Status.ORDERED),
        code="ORDER_CLOSED",
    )
    if held:
        _give_back(held, to=Redemption.Status.RELEASED, coupon_back=True, now=now or timezone.now())


def order_paid(*, order_number: str, user_id: int, lines: list[dict[str, int]]) -> None:
    """The order was paid (the ``orders.order_paid`` fact): its redemptions become used, the
    discounts are booked (``marketing:campaign:<id>`` debited, ``platform:revenue``
    credited), gifted points granted, and the buyer's facts updated. Once per order (the
    outbox receipt; journals keyed by order).

    All the order's discounts are **one** journal (a line per expense account) and all its
    gifted points another: a transaction posting one journal per campaign locked a hot
    account's balance slot and then the next journal's single-row accounts, and two such
    transactions could deadlock (docs/architecture.md); within one journal the ledger takes
    its locks in one order."""
    with transaction.atomic():
        used: list[Redemption] = []
        for r in redemptions_lock(order_number=order_number):
            if r.status != Redemption.Status.HELD:
                continue
            r.status = Redemption.Status.USED
            r.save(update_fields=["status"])
            if r.coupon_id is not None:
                Coupon.objects.filter(pk=r.coupon_id).update(status=Coupon.Status.USED)
            used.append(r)
        discounted = [r for r in used if r.discount_fen]
        if discounted:
            journal_id = _discounts_post(order_number, discounted)
            Redemption.objects.filter(pk__in=[r.pk for r in discounted]).update(
                journal_id=journal_id
            )
        gifts = sum(r.gift_points for r in used)
        if gifts:
            journal_post(
                idempotency_key=f"marketing:gift:{order_number}",
                kind="points.granted", reference=f"user:{user_id}",
                lines=[LineSpec("points:issued", gifts), LineSpec(_points_account(user_id), -gifts)],
                description="campaigns " + ", ".join(str(r.campaign_id) for r in used
                                                      if r.gift_points) + f" order {order_number}",
            )  # fmt: skip
        for r in used:
            if r.gift_sku_id:
                gift_granted_publish(r)
        flash_claims_paid(order_number=order_number)
        spent = sum(int(line.get("paid_fen", 0)) for line in lines)
        products = {int(line["product_id"]) for line in lines}
        facts, _ = BuyerFacts.objects.select_for_update().get_or_create(user_id=user_id)
        facts.paid_orders = F("paid_orders") + 1
        facts.spent_fen = F("spent_fen") + spent
        facts.product_ids = sorted(set(facts.product_ids) | products)
        facts.save()


def _discounts_post(order_number: str, redemptions: list[Redemption]) -> int:
    """The order's discounts as one journal: each expense account debited with its share,
    ``platform:revenue`` credited with the sum. Returns the journal's id."""
    by_account: dict[str, int] = {}
    for r in redemptions:
        account = _expense_account(r)
        by_account[account] = by_account.get(account, 0) + r.discount_fen
    total = sum(by_account.values())
    return journal_post(
        idempotency_key=f"marketing:discount:{order_number}",
        kind="marketing.discount", reference=order_number,
        lines=[*(LineSpec(code, fen) for code, fen in sorted(by_account.items())),
               LineSpec("platform:revenue", -total)],
        description=", ".join(_source(r) for r in redemptions)[:200],
    ).id  # fmt: skip


def gift_granted_publish(r: Redemption) -> None:
    """Tell fulfilment to deliver the redemption's data pack to the buyer's number
    (``marketing.gift_granted``; marketing never imports fulfilment). Once per redemption:
    the outbox key here, the delivery's line id ``-<redemption id>`` there."""
    assert r.campaign is not None
    outbox.publish(
        "marketing.gift_granted",
        {"number": r.order_number, "user_id": r.user_id, "redemption_id": r.pk,
         "campaign_id": r.campaign_id, "campaign": r.campaign.name, "sku_id": r.gift_sku_id},
        key=f"marketing_gift:{r.pk}",
    )  # fmt: skip


def _source(r: Redemption) -> str:
    if r.channel_id:
        return f"channel_{r.channel_id}"
    return f"campaign_{r.campaign_id}" if r.campaign_id else f"flash_{r.flash_sale_id}"


def _expense_account(r: Redemption) -> str:
    if r.campaign_id:
        return campaign_account(r.campaign_id)
    if r.channel_id:
        code = f"marketing:channel:{r.channel_id}:price"
        account_ensure(code=code, name=f"渠道{r.channel_id}渠道价让利", kind="expense")
        return code
    code = f"marketing:flash:{r.flash_sale_id}"
    account_ensure(code=code, name=f"秒杀{r.flash_sale_id}让利", kind="expense")
    return code


def _points_account(user_id: int) -> str:
    # The same account payments' points use (one point is one fen).
    code = f"points:user:{user_id}"
    account_ensure(code=code, name=f"用户{user_id}积分", kind="liability", unit="POINTS")
    return code


def order_refunded(*, order_number: str, now: datetime | None = None) -> None:
    """The paid order was refunded in full: the discounts' journals are reversed, the budget
    goes back to the campaigns, and the coupon to its owner if its batch is still valid (a
    coupon past its validity stays used). Gifted points are taken back as far as the buyer
    still holds them. Once (only used redemptions move)."""
    now = now or timezone.now()
    with transaction.atomic():
        used = [
            r
            for r in redemptions_lock(order_number=order_number)
            if r.status == Redemption.Status.USED
        ]
        if not used:
            return
        _give_back(used, to=Redemption.Status.RETURNED, coupon_back=True, now=now)
        # One discount journal per order (orders paid before that have one per campaign).
        for journal_id in sorted({r.journal_id for r in used if r.journal_id is not None}):
            journal_reverse(journal_id=journal_id, reason="order refunded",
                            idempotency_key=f"marketing:discount:{order_number}:{journal_id}:refund")  # fmt: skip
        gifts = sum(r.gift_points for r in used)
        if gifts:
            account = _points_account(used[0].user_id)
            back = min(gifts, -account_balance(code=account))
            if back > 0:
                journal_post(
                    idempotency_key=f"marketing:gift:{order_number}:refund",
                    kind="points.taken_back", reference=f"user:{used[0].user_id}",
                    lines=[LineSpec(account, back), LineSpec("points:issued", -back)],
                    description=f"order {order_number} refunded",
                )  # fmt: skip
        for r in used:
            if r.gift_sku_id:
                # Fulfilment voids the pack if it has not gone out yet (one delivered stays).
                outbox.publish(
                    "marketing.gift_voided",
                    {"number": order_number, "redemption_id": r.pk},
                    key=f"marketing_gift_void:{r.pk}",
                )


def campaign_set_status(*, campaign_id: int, status: str, actor_id: int | None = None) -> None:
    """Start, pause or resume a campaign (the workbench). Locks the campaign."""
    from apps.core.audit import audited_transition

    with transaction.atomic():
        campaign = campaigns_lock(ids=[campaign_id]).get(campaign_id)
        if campaign is None:
            raise CampaignNotFound()
        audited_transition(
            campaign, status, object_type="campaign", object_id=campaign.pk, actor_id=actor_id,
            refused=lambda details: InvalidArgument(details=details),
        )  # fmt: skip
        campaign.save(update_fields=["status"])
