"""Deliveries (one per paid order line, whatever its kind), cards and line requests."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Delivery(models.Model):
    """The delivery of one paid order line, whatever its kind: fulfilment's one state machine
    for it (``TRANSITIONS``; every move audited as ``delivery.<status>``).

    Created from the ``orders.order_paid`` fact, never from orders' tables (``line_id`` is the
    order line's id, not a key into them). Its id is the idempotency key at the carrier
    (``fulfilment:<id>:<unit>``; a SIM activation's is ``sim-activation:<line_id>``), so however
    often it runs, the carrier applies a top-up, pack or activation once.
    """

    class Kind(models.TextChoices):
        AIRTIME = "airtime", _("Airtime top-up")
        DATA_PACK = "data_pack", _("Data pack")
        CARD = "card", _("Cards (number and PIN)")
        PLAN_CHANGE = "plan_change", _("Plan change")
        ADDON = "addon", _("Add-on")
        POINTS = "points", _("Points")
        SIM = "sim", _("SIM card (shipped, then activated)")
        PHYSICAL = "physical", _("Physical goods (shipped)")
        DIGITAL = "digital", _("Digital goods (entitlement)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERING = "delivering", _("Delivering")
        UNCONFIRMED = "unconfirmed", _("Asking the carrier")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")

    # pending: paid, nothing sent yet (a refund stops it here: pending -> refunded).
    # delivering: the carrier was asked / the parcel is on its way / the SIM is being opened.
    # unconfirmed: given up while the carrier could not answer, after a request that may have
    #   reached it; never refunded blind: the sweep asks the carrier by key until it answers,
    #   then delivered (it applied every unit) or failed and refunded (what it did not apply).
    # failed: refused or given up; refunded automatically (failed -> refunded) unless an
    #   operator delivers it again (failed -> delivering).
    # delivered -> refunded only through a refund an operator overrode, with its reason.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.DELIVERING, Status.DELIVERED, Status.FAILED, Status.REFUNDED}),
        Status.DELIVERING: frozenset({Status.DELIVERING, Status.UNCONFIRMED, Status.DELIVERED, Status.FAILED}),
        Status.UNCONFIRMED: frozenset({Status.DELIVERED, Status.FAILED}),
        Status.FAILED: frozenset({Status.REFUNDED, Status.DELIVERING}),
        Status.DELIVERED: frozenset({Status.REFUNDED}),
        Status.REFUNDED: frozenset(),
    }  # fmt: skip
    ENDED = frozenset({Status.DELIVERED, Status.REFUNDED})

    line_id = models.BigIntegerField(
        unique=True, help_text="The order line delivered", verbose_name=_("order line id")
    )
    order_number = models.CharField(max_length=24, db_index=True, verbose_name=_("order number"))
    sku_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    msisdn = models.CharField(max_length=20, blank=True, verbose_name=_("msisdn"))
    units = models.PositiveIntegerField(
        help_text="Quantity bought: each unit is one top-up or pack",
        verbose_name=_("units to deliver"),
    )
    amount_fen = models.BigIntegerField(default=0, help_text="Face value per unit (airtime)")
    volume_mb = models.PositiveIntegerField(default=0)
    validity_days = models.PositiveIntegerField(default=0)
    # Plan changes and add-ons: the carrier's offer code and what the carrier answered.
    offer_code = models.CharField(max_length=32, blank=True)
    carrier_request_id = models.CharField(max_length=32, blank=True)
    effective_from = models.DateField(null=True, blank=True)
    # Points: per unit, credited to the buyer's points account (``user_id``).
    points = models.PositiveIntegerField(default=0)
    user_id = models.BigIntegerField(null=True, blank=True)
    label = models.CharField(max_length=128, blank=True, help_text="What the buyer bought")
    # The product's attributes as the OrderPaid fact carried them (digital goods' content ids).
    attributes = models.JSONField(default=dict, blank=True)
    # Physical goods and SIM cards: where the parcel goes (the OrderPaid fact's address).
    shipping = models.JSONField(default=dict, blank=True)
    refund_fen = models.BigIntegerField(help_text="What the buyer paid for the line")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    # The next unit's request may have reached the carrier with its outcome unknown (a timeout
    # after sending): giving up then asks the carrier first (``unconfirmed``), never refunds.
    maybe_applied = models.BooleanField(default=False, verbose_name=_("maybe applied"))
    delivered_units = models.PositiveIntegerField(default=0, verbose_name=_("delivered units"))
    delivered_at = models.DateTimeField(null=True, blank=True)
    # What the buyer is shown: the tracking number of the parcel, the handler's note...
    detail = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=200, blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(
                fields=["status", "updated_at"],
                name="fulfilment_open_jobs",
                condition=Q(status__in=["pending", "delivering", "unconfirmed", "failed"]),
            ),
            # The analytics rollups read one day of deliveries.
            models.Index(fields=["delivered_at"], name="fulfilment_delivered_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(units__gte=1) & Q(delivered_units__lte=models.F("units")),
                name="fulfilment_units_bounded",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_number}/{self.line_id} {self.status}"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class CardBatch(models.Model):
    """Cards generated together: one kind and value, a count, a validity, a channel.

    A ``print`` batch's numbers and PINs are written once, to a file held encrypted until one
    operator downloads it for the print shop. An ``online`` batch is sold in the mall as one
    SKU: its PINs are kept encrypted per card so that each buyer can read theirs.
    """

    class Kind(models.TextChoices):
        RECHARGE = "recharge", _("Recharge card")
        DATA = "data", _("Data card")
        POINTS = "points", _("Point card")

    class Channel(models.TextChoices):
        PRINT = "print", _("Printed")
        ONLINE = "online", _("Sold online")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        VOIDED = "voided", _("Voided")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.ACTIVE: frozenset({Status.FROZEN, Status.VOIDED}),
        Status.FROZEN: frozenset({Status.ACTIVE, Status.VOIDED}),
        Status.VOIDED: frozenset(),
    }

    batch_no = models.CharField(max_length=20, unique=True, verbose_name=_("batch no"))
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.RECHARGE, verbose_name=_("kind")
    )
    channel = models.CharField(
        max_length=16, choices=Channel.choices, default=Channel.PRINT, verbose_name=_("channel")
    )
    face_value_fen = models.BigIntegerField(default=0, help_text="Recharge cards")
    volume_mb = models.PositiveIntegerField(default=0, help_text="Data cards")
    validity_days = models.PositiveIntegerField(default=0, help_text="Data cards")
    points = models.PositiveIntegerField(default=0, help_text="Point cards")
    sku_id = models.BigIntegerField(
        null=True, blank=True, help_text="The SKU an online batch sells"
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status")
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    created_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # The printable file (numbers and PINs), Fernet-encrypted; emptied by its one download.
    print_file = models.TextField(blank=True, editable=False)
    print_file_taken_at = models.DateTimeField(null=True, blank=True)
    print_file_taken_by = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("card batch")
        verbose_name_plural = _("card batches")
        permissions = [("download_print_file", _("Can download a batch's print file, once"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0)
                & (
                    Q(kind="recharge", face_value_fen__gt=0)
                    | Q(kind="data", volume_mb__gt=0, validity_days__gt=0)
                    | Q(kind="points", points__gt=0)
                ),
                name="fulfilment_card_batch_value",
            ),
            models.CheckConstraint(
                condition=Q(channel="print", sku_id__isnull=True)
                | Q(channel="online", sku_id__isnull=False),
                name="fulfilment_card_batch_online_sku",
            ),
        ]

    def __str__(self) -> str:
        return self.batch_no

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class Card(models.Model):
    """One card: its number is public, its PIN is kept as a keyed hash (and, for a card of an
    online batch, encrypted, so that its buyer can read it)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REDEEMING = "redeeming", _("Being redeemed")
        REDEEMED = "redeemed", _("Redeemed")
        LOCKED = "locked", _("Locked after wrong PINs")
        FROZEN = "frozen", _("Frozen")
        VOIDED = "voided", _("Voided")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.ACTIVE: frozenset({Status.REDEEMING, Status.REDEEMED, Status.LOCKED, Status.FROZEN, Status.VOIDED}),
        Status.REDEEMING: frozenset({Status.REDEEMING, Status.REDEEMED, Status.ACTIVE}),
        Status.LOCKED: frozenset({Status.ACTIVE, Status.FROZEN, Status.VOIDED}),
        Status.FROZEN: frozenset({Status.ACTIVE, Status.VOIDED}),
        Status.REDEEMED: frozenset(),
        Status.VOIDED: frozenset(),
    }  # fmt: skip

    batch = models.ForeignKey(
        CardBatch, on_delete=models.PROTECT, related_name="cards", verbose_name=_("card batch")
    )
    number = models.CharField(max_length=20, unique=True, verbose_name=_("card number"))
    pin_hash = models.CharField(max_length=64)
    pin_encrypted = models.TextField(blank=True, editable=False)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status")
    )
    wrong_pins = models.PositiveSmallIntegerField(default=0, verbose_name=_("wrong pins"))
    redeemed_msisdn = models.CharField(max_length=20, blank=True, verbose_name=_("redeemed msisdn"))
    redeemed_by = models.BigIntegerField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("redeemed at"))
    sold_line_id = models.BigIntegerField(null=True, blank=True, help_text="Order line (online)")
    sold_user_id = models.BigIntegerField(null=True, blank=True)
    sold_order_number = models.CharField(
        max_length=24, blank=True, db_index=True, verbose_name=_("sold order number")
    )
    sold_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        indexes = [
            models.Index(
                fields=["batch", "id"],
                name="fulfilment_card_unsold",
                condition=Q(status="active", sold_line_id__isnull=True),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sold_line_id__isnull=True) | Q(sold_user_id__isnull=False),
                name="fulfilment_card_sold_to_someone",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


# Shipping and returns live in their own module; imported here so Django registers them.
from apps.fulfilment.shipping_models import (  # noqa: E402, F401
    Courier,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
