"""The number pool: one row per number, which is also the lock that lets one buyer have it."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Reverse, Substr
from django.utils.translation import gettext_lazy as _

from apps.simcards.patterns import Pattern

AVAILABLE = Q(status="available")


class SimNumber(models.Model):
    """A number of the carrier's that the platform may sell on a SIM card.

    ``available`` → ``held`` (by one user: in a cart for a few minutes, or by an unpaid order
    until it is paid, cancelled or expires) → ``sold`` (paid; the owner's real-name identity is
    recorded) → ``active`` (the carrier opened the line after the card was delivered).
    """

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        HELD = "held", _("Held")
        SOLD = "sold", _("Sold, awaiting activation")
        ACTIVE = "active", _("Activated")
        RETIRED = "retired", _("Withdrawn")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.AVAILABLE: frozenset({Status.HELD, Status.RETIRED}),
        # held → held: an expired cart hold taken over, or a cart hold moved onto an order.
        Status.HELD: frozenset({Status.HELD, Status.AVAILABLE, Status.SOLD}),
        # sold → available: the order was refunded before the line was opened.
        Status.SOLD: frozenset({Status.ACTIVE, Status.AVAILABLE}),
        Status.ACTIVE: frozenset(),
        Status.RETIRED: frozenset({Status.AVAILABLE}),
    }

    msisdn = models.CharField(_("number"), max_length=16, unique=True)
    # The 11 national digits, and the same reversed so that "ends with" is a prefix search.
    # Collation "C" orders digits bytewise, so one B-tree serves both LIKE 'x%' and ORDER BY.
    digits = models.GeneratedField(
        expression=Substr("msisdn", 4),
        output_field=models.CharField(max_length=11, db_collation="C"),
        db_persist=True,
    )
    digits_reversed = models.GeneratedField(
        expression=Reverse(Substr("msisdn", 4)),
        output_field=models.CharField(max_length=11, db_collation="C"),
        db_persist=True,
    )
    pattern = models.CharField(
        _("pattern"), max_length=4, choices=Pattern.choices, blank=True, default=""
    )
    premium_fen = models.BigIntegerField(_("premium (fen)"), default=0)
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.AVAILABLE
    )
    holder_user_id = models.BigIntegerField(null=True, blank=True)
    held_until = models.DateTimeField(_("held until"), null=True, blank=True)
    # "" while in a cart; "order:<number>" once checked out (released only by the order).
    hold_reference = models.CharField(max_length=40, blank=True, default="")
    order_line_id = models.BigIntegerField(null=True, blank=True, unique=True)
    owner_name = models.CharField(_("owner"), max_length=30, blank=True)
    owner_id_encrypted = models.TextField(blank=True)
    owner_id_hash = models.CharField(max_length=64, blank=True, db_index=True)
    owner_id_masked = models.CharField(_("owner's ID number"), max_length=18, blank=True)
    sold_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activation_request_id = models.CharField(max_length=32, blank=True)
    activation_attempts = models.PositiveSmallIntegerField(default=0)
    activation_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["msisdn"]
        verbose_name = _("SIM number")
        verbose_name_plural = _("SIM numbers")
        indexes = [
            # Searches only ever look at available numbers, so the indexes hold only those.
            models.Index(fields=["digits"], name="simcards_avail_prefix", condition=AVAILABLE),
            models.Index(
                fields=["digits_reversed"], name="simcards_avail_suffix", condition=AVAILABLE
            ),
            GinIndex(
                fields=["digits"],
                name="simcards_avail_trgm",
                opclasses=["gin_trgm_ops"],
                condition=AVAILABLE,
            ),
            models.Index(
                fields=["pattern", "digits"], name="simcards_avail_pattern", condition=AVAILABLE
            ),
            models.Index(
                fields=["held_until"],
                name="simcards_cart_holds",
                condition=Q(status="held", hold_reference=""),
            ),
            models.Index(
                fields=["hold_reference"],
                name="simcards_order_holds",
                condition=~Q(hold_reference=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(msisdn__regex=r"^\+861[0-9]{10}$"), name="simcards_msisdn_e164"
            ),
            models.CheckConstraint(condition=Q(premium_fen__gte=0), name="simcards_premium"),
            models.CheckConstraint(
                condition=Q(status__in=["available", "held", "sold", "active", "retired"]),
                name="simcards_status_valid",
            ),
            # One holder at a time, and nobody's hold on a number that is not held.
            models.CheckConstraint(
                condition=(
                    Q(status="held", holder_user_id__isnull=False, held_until__isnull=False)
                    | (~Q(status="held") & Q(held_until__isnull=True, hold_reference=""))
                ),
                name="simcards_hold_consistent",
            ),
            # A sold or active number has exactly one owner with a real-name identity.
            models.CheckConstraint(
                condition=~Q(status__in=["sold", "active"])
                | (
                    Q(holder_user_id__isnull=False, order_line_id__isnull=False)
                    & ~Q(owner_id_hash="")
                ),
                name="simcards_sold_has_owner",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["available", "retired"])
                | Q(holder_user_id__isnull=True, order_line_id__isnull=True, owner_id_hash=""),
                name="simcards_free_has_no_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.msisdn

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]
