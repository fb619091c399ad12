"""Campaigns and their rules, coupon batches and codes, what each order used, buyer facts."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Campaign(models.Model):
    """One promotion: who it is for, when, what it gives, and how much it may cost.

    The rule's fields that do not apply to its kind stay at their zero value. ``spent_*``
    count what held and paid orders took (a cancelled or fully refunded order gives its share
    back); the ledger account ``marketing:campaign:<id>`` books what paid orders cost.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        EXHAUSTED = "exhausted", _("Budget spent")

    class Target(models.TextChoices):
        ALL = "all", _("Everyone")
        NEW = "new", _("New subscribers")
        NUMBERS = "numbers", _("A list of numbers")
        PROVINCE = "province", _("A province")
        SEGMENT = "segment", _("Past buyers")

    class Rule(models.TextChoices):
        FIXED = "fixed", _("Fixed amount off each unit")
        PERCENT = "percent", _("Percent off (with a cap)")
        FULL_REDUCTION = "full_reduction", _("Spend X, get Y off (满减)")
        GIFT_POINTS = "gift_points", _("Points on purchase")
        GIFT_DATA_PACK = "gift_data_pack", _("Data pack on purchase")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.DRAFT: frozenset({Status.ACTIVE}),
        Status.ACTIVE: frozenset({Status.PAUSED, Status.EXHAUSTED}),
        Status.PAUSED: frozenset({Status.ACTIVE}),
        Status.EXHAUSTED: frozenset({Status.ACTIVE}),
    }

    name = models.CharField(_("name"), max_length=120)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    priority = models.IntegerField(_("priority"), default=0)
    # Who: the target, and for a first-order offer only buyers who never paid an order.
    target = models.CharField(_("target"), max_length=16, choices=Target.choices, default="all")
    target_numbers = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    target_province = models.CharField(_("province"), max_length=8, blank=True)
    segment_product_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    segment_min_spend_fen = models.BigIntegerField(default=0)
    new_within_days = models.PositiveIntegerField(default=30)
    first_order_only = models.BooleanField(_("first order only"), default=False)
    # What: the rule and the goods it covers (no products and no categories: everything).
    rule = models.CharField(_("rule"), max_length=16, choices=Rule.choices)
    product_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    category_paths = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    amount_fen = models.BigIntegerField(_("amount off (fen)"), default=0)
    percent_off = models.PositiveSmallIntegerField(_("percent off"), default=0)
    cap_fen = models.BigIntegerField(_("cap (fen)"), default=0)
    threshold_fen = models.BigIntegerField(_("threshold (fen)"), default=0)
    gift_points = models.PositiveIntegerField(_("points given"), default=0)
    # A data-pack gift: the catalog SKU of the pack delivered to the buyer's number once the
    # order is paid (fulfilment delivers it; marketing never reaches fulfilment).
    gift_sku_id = models.BigIntegerField(_("data pack given (SKU id)"), null=True, blank=True)
    # A coupon campaign applies only with one of its coupons; an exclusive one alone.
    coupon_only = models.BooleanField(_("coupon only"), default=False)
    exclusive = models.BooleanField(_("exclusive"), default=False)
    # Budget: 0 means no limit. Units are orders that benefited.
    budget_fen = models.BigIntegerField(_("budget (fen)"), default=0)
    budget_units = models.PositiveIntegerField(_("budget (orders)"), default=0)
    spent_fen = models.BigIntegerField(default=0, verbose_name=_("spent (fen)"))
    spent_units = models.PositiveIntegerField(default=0, verbose_name=_("spent (orders)"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-priority", "id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["status", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="mk_window"
            ),
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0)
                & Q(cap_fen__gte=0)
                & Q(threshold_fen__gte=0)
                & Q(budget_fen__gte=0)
                & Q(spent_fen__gte=0)
                & Q(percent_off__lte=100),
                name="mk_amounts",
            ),
            models.CheckConstraint(
                condition=~Q(rule="full_reduction") | Q(amount_fen__lte=models.F("threshold_fen")),
                name="mk_reduction_below_threshold",
            ),
            models.CheckConstraint(
                condition=~Q(rule="gift_data_pack") | Q(gift_sku_id__isnull=False),
                name="mk_gift_pack_names_its_sku",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class CouponBatch(models.Model):
    """A run of unique codes for a coupon campaign; a buyer claims one on the campaign page
    (or types a code handed out elsewhere) up to ``per_user_limit``."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="batches", verbose_name=_("campaign")
    )
    name = models.CharField(_("name"), max_length=120)
    per_user_limit = models.PositiveSmallIntegerField(_("per user"), default=1)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    claimable = models.BooleanField(_("claimable on the campaign page"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("coupon batch")
        verbose_name_plural = _("coupon batches")

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available", _("Not claimed")
        CLAIMED = "claimed", _("Claimed")
        HELD = "held", _("On an unpaid order")
        USED = "used", _("Used")

    batch = models.ForeignKey(
        CouponBatch,
        on_delete=models.PROTECT,
        related_name="coupons",
        verbose_name=_("coupon batch"),
    )
    code = models.CharField(max_length=20, unique=True, verbose_name=_("coupon code"))
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.AVAILABLE, verbose_name=_("status")
    )
    user_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("user id"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    order_number = models.CharField(max_length=24, blank=True, verbose_name=_("order number"))

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        indexes = [
            models.Index(fields=["user_id", "status"]),
            models.Index(
                fields=["batch", "id"], name="mk_coupon_free", condition=Q(status="available")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="available", user_id__isnull=True)
                | (~Q(status="available") & Q(user_id__isnull=False)),
                name="mk_coupon_owner",
            )
        ]

    def __str__(self) -> str:
        return self.code


class Redemption(models.Model):
    """What one campaign gave one order: held at checkout, used when paid, released when the
    unpaid order closes, returned when the paid order is refunded in full."""

    class Status(models.TextChoices):
        HELD = "held", _("Held")
        USED = "used", _("Used")
        RELEASED = "released", _("Released")
        RETURNED = "returned", _("Returned")

    order_number = models.CharField(max_length=24, verbose_name=_("order number"))
    user_id = models.BigIntegerField(verbose_name=_("user id"))
    # A campaign's discount, or a flash sale's price (then ``campaign`` is empty).
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
        verbose_name=_("campaign"),
    )
    flash_sale = models.ForeignKey(
        "FlashSale",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("flash sale"),
    )
    # A channel's price list below the shop's price (then ``campaign`` is empty).
    channel = models.ForeignKey(
        "Channel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("channel"),
    )
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT)
    discount_fen = models.BigIntegerField(verbose_name=_("discount (fen)"))
    gift_points = models.PositiveIntegerField(default=0, verbose_name=_("points given"))
    # The data pack given (its SKU), delivered as ``-<redemption id>`` by fulfilment.
    gift_sku_id = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("data pack given (SKU id)")
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.HELD, verbose_name=_("status")
    )
    journal_id = models.BigIntegerField(null=True, blank=True)  # the discount's, when paid
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        indexes = [models.Index(fields=["order_number"])]
        constraints = [
            models.UniqueConstraint(fields=["order_number", "campaign"], name="mk_redemption_once"),
            models.UniqueConstraint(
                fields=["order_number", "channel"], name="mk_redemption_channel_once"
            ),
            models.UniqueConstraint(
                fields=["order_number", "flash_sale"], name="mk_redemption_flash_once"
            ),
            models.CheckConstraint(
                condition=(
                    Q(campaign__isnull=False) & Q(flash_sale__isnull=True) & Q(channel__isnull=True)
                )
                | (Q(campaign__isnull=True) & Q(flash_sale__isnull=False) & Q(channel__isnull=True))
                | (
                    Q(campaign__isnull=True) & Q(flash_sale__isnull=True) & Q(channel__isnull=False)
                ),
                name="mk_redemption_one_of_three",
            ),
            models.CheckConstraint(condition=Q(discount_fen__gte=0), name="mk_redemption_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.order_number}:{self.campaign_id}"


class BuyerFacts(models.Model):
    """What marketing knows of a buyer's past purchases, from the ``orders.order_paid`` facts
    (marketing never reads orders' tables): for first-order offers and purchase segments."""

    user_id = models.BigIntegerField(primary_key=True)
    paid_orders = models.PositiveIntegerField(default=0)
    spent_fen = models.BigIntegerField(default=0)
    product_ids = ArrayField(models.BigIntegerField(), default=list)

    def __str__(self) -> str:
        return f"buyer {self.user_id}"


class FlashSale(models.Model):
    """秒杀: one SKU at ``price_fen`` for a short window, ``stock`` units, at most
    ``per_user_limit`` units for each buyer (one purchase each).

    Redis counts the units down (``flash.py``); the database is the truth: every unit sold is a
    ``FlashUnit`` row whose ``slot`` (1..stock) is unique per sale, so no more than ``stock``
    units can ever be held, and a buyer holds at most one ``FlashClaim`` per sale.
    """

    name = models.CharField(_("name"), max_length=120)
    sku_id = models.BigIntegerField(verbose_name=_("SKU id"))
    price_fen = models.BigIntegerField(_("flash price (fen)"))
    stock = models.PositiveIntegerField(_("units"))
    per_user_limit = models.PositiveSmallIntegerField(_("per user"), default=1)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("flash sale")
        verbose_name_plural = _("flash sales")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="mk_flash_window"
            ),
            models.CheckConstraint(
                condition=Q(price_fen__gte=1) & Q(stock__gte=1) & Q(per_user_limit__gte=1),
                name="mk_flash_amounts",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FlashClaim(models.Model):
    """A buyer's units of a flash sale.

    ``reserved``: the buyer won the units (Redis, then this row and its ``FlashUnit`` slots) and
    the order is being placed by a worker (orders' ``flash_order_place``); ``ordered``: the
    checkout priced the units into the order; ``paid`` with the order. ``released``: the order
    could not be placed, was not placed within ``FLASH_ORDER_DEADLINE_SECONDS``, or closed
    unpaid; the slots are freed (the units deleted, given back to Redis after commit) and
    ``release_code`` says why. A released claim stays as the buyer's record; the buyer may win
    again (one claim each that is not released).
    """

    class Status(models.TextChoices):
        RESERVED = "reserved", _("Won, order being placed")
        ORDERED = "ordered", _("Ordered")
        PAID = "paid", _("Paid")
        RELEASED = "released", _("Released")

    # The one transition table: a unit is held until its order is paid or it is released once.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.RESERVED: frozenset({Status.ORDERED, Status.RELEASED}),
        Status.ORDERED: frozenset({Status.PAID, Status.RELEASED}),
        Status.PAID: frozenset(),
        Status.RELEASED: frozenset(),
    }

    sale = models.ForeignKey(
        FlashSale, on_delete=models.PROTECT, related_name="claims", verbose_name=_("flash sale")
    )
    user_id = models.BigIntegerField(verbose_name=_("user id"))
    quantity = models.PositiveSmallIntegerField(verbose_name=_("quantity"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RESERVED, verbose_name=_("status")
    )
    order_number = models.CharField(max_length=24, blank=True, verbose_name=_("order number"))
    # Why a released claim's units went back (an error code, or FLASH_ORDER_TIMEOUT / ORDER_CLOSED).
    release_code = models.CharField(max_length=40, blank=True, verbose_name=_("release reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("flash claim")
        verbose_name_plural = _("flash claims")
        constraints = [
            models.UniqueConstraint(
                fields=["sale", "user_id"],
                condition=~Q(status="released"),
                name="mk_flash_one_claim_each",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="mk_flash_claim_qty"),
        ]
        indexes = [
            models.Index(fields=["order_number"]),
            # The sweeper's look-up of claims whose order was never placed.
            models.Index(
                fields=["created_at"], condition=Q(status="reserved"), name="mk_flash_reserved"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sale_id}:{self.user_id}×{self.quantity}"


class FlashUnit(models.Model):
    """One unit of a flash sale held by a claim: ``slot`` is unique per sale (1..stock)."""

    sale = models.ForeignKey(FlashSale, on_delete=models.PROTECT, related_name="+")
    claim = models.ForeignKey(FlashClaim, on_delete=models.CASCADE, related_name="units")
    slot = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sale", "slot"], name="mk_flash_slot_once"),
            models.CheckConstraint(condition=Q(slot__gte=1), name="mk_flash_slot_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sale_id}#{self.slot}"


class Channel(models.Model):
    """A partner that sells for the carrier (an app, a website, a store, an agent). Its payable
    to the carrier's books is the ledger account ``channel:<id>:payable`` (counterparty kind
    ``channel`` for settlement)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Under review")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REJECTED = "rejected", _("Rejected")

    class Kind(models.TextChoices):
        APP = "app", _("App")
        WEBSITE = "website", _("Website")
        STORE = "store", _("Store")
        AGENT = "agent", _("Agent")

    # A partner's application is reviewed once; an operator suspends and restores a channel.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.ACTIVE, Status.REJECTED}),
        Status.ACTIVE: frozenset({Status.SUSPENDED}),
        Status.SUSPENDED: frozenset({Status.ACTIVE}),
        Status.REJECTED: frozenset(),
    }

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.AGENT)
    # What the partner told us when applying: where and how it sells.
    description = models.CharField(_("how it sells"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    # The developer-portal partner it registered as, and the user who sees its console.
    partner_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("partner id"))
    owner_user_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, verbose_name=_("owner user id")
    )
    # Campaigns that apply to its orders (none chosen: all running campaigns do).
    campaigns = models.ManyToManyField(Campaign, blank=True, related_name="channels")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name


class ChannelCode(models.Model):
    """A code a channel puts on its links and QR codes (``?ch=<code>``)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="codes")
    code = models.SlugField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("label"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("channel code")
        verbose_name_plural = _("channel codes")

    def __str__(self) -> str:
        return self.code


class ChannelProduct(models.Model):
    """A product a channel may sell (none listed: every product), at its channel price
    (``price_fen`` empty: the shop's price)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="products")
    product_id = models.BigIntegerField()
    price_fen = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "product_id"], name="mk_channel_product_once"
            ),
            models.CheckConstraint(
                condition=Q(price_fen__isnull=True) | Q(price_fen__gte=1), name="mk_channel_price"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.product_id}"


class CommissionRule(models.Model):
    """How much a channel earns on one product kind (``*``: any kind): a percentage of what
    the line was paid, a fixed amount per order, or tiers by the order's paid amount of that
    kind (``tiers``: ``[[from_fen, percent], ...]``, the highest tier reached applies)."""

    class Mode(models.TextChoices):
        PERCENT = "percent", _("Percentage")
        FIXED = "fixed", _("Fixed per order")
        TIERED = "tiered", _("Tiered")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="commission_rules")
    product_kind = models.CharField(_("product kind"), max_length=16, default="*")
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    percent = models.DecimalField(_("percent"), max_digits=5, decimal_places=2, default=0)
    fixed_fen = models.BigIntegerField(_("fixed (fen)"), default=0)
    tiers = models.JSONField(_("tiers"), default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "product_kind"], name="mk_commission_rule_once"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100) & Q(fixed_fen__gte=0),
                name="mk_commission_amounts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.product_kind}:{self.mode}"


class ChannelOrder(models.Model):
    """An order a channel brought (its code was on the order), and its commission once the
    order completed: per line in ``line_commissions`` (line id → fen), booked by ``journal_id``."""

    class Status(models.TextChoices):
        ATTRIBUTED = "attributed", _("Attributed")
        ACCRUED = "accrued", _("Commission accrued")

    order_number = models.CharField(max_length=24, unique=True, verbose_name=_("order number"))
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="orders", verbose_name=_("channel")
    )
    code = models.CharField(max_length=32, verbose_name=_("channel code"))
    user_id = models.BigIntegerField(verbose_name=_("user id"))
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.ATTRIBUTED, verbose_name=_("status")
    )
    paid_fen = models.BigIntegerField(default=0, verbose_name=_("paid (fen)"))
    commission_fen = models.BigIntegerField(default=0, verbose_name=_("commission (fen)"))
    reversed_fen = models.BigIntegerField(default=0, verbose_name=_("commission reversed (fen)"))
    line_commissions = models.JSONField(default=dict)
    refunded_line_ids = ArrayField(models.BigIntegerField(), default=list)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("channel order")
        verbose_name_plural = _("channel orders")
        indexes = [models.Index(fields=["channel", "-created_at"])]

    def __str__(self) -> str:
        return self.order_number
