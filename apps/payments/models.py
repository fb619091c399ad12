"""Payment intents, every notification and query result received, and refunds."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Method(models.TextChoices):
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")
    UNIONPAY = "unionpay", _("UnionPay")
    CARRIER_BILLING = "carrier_billing", _("Phone bill")
    POINTS = "points", _("Points")


class PaymentIntent(models.Model):
    """One attempt to collect ``amount_fen`` for ``reference`` by one method.

    ``payments`` knows nothing of what is paid for: ``purpose`` names the owner's handler
    (see handlers.py) and ``reference`` its object. ``settles`` marks the intents that count
    for their reference; a database index lets at most one provider intent settle a
    reference, so a second success (a buyer paying twice) is refunded instead.
    """

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PENDING = "pending", _("Awaiting payment")
        SUCCEEDED = "succeeded", _("Paid")
        REVIEW = "review", _("Under review")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.CREATED: frozenset(
            {Status.PENDING, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.EXPIRED}
        ),
        Status.PENDING: frozenset(
            {Status.SUCCEEDED, Status.REVIEW, Status.FAILED, Status.CANCELLED, Status.EXPIRED}
        ),
        # Money can arrive after we gave up waiting: it is then taken and refunded.
        Status.CANCELLED: frozenset({Status.SUCCEEDED, Status.REVIEW}),
        Status.EXPIRED: frozenset({Status.SUCCEEDED, Status.REVIEW}),
        Status.FAILED: frozenset({Status.SUCCEEDED, Status.REVIEW}),
        Status.REVIEW: frozenset({Status.SUCCEEDED, Status.CANCELLED}),
        Status.SUCCEEDED: frozenset({Status.PARTIALLY_REFUNDED, Status.REFUNDED}),
        Status.PARTIALLY_REFUNDED: frozenset({Status.PARTIALLY_REFUNDED, Status.REFUNDED}),
        Status.REFUNDED: frozenset(),
    }
    PAID = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)

    public_id = models.CharField(
        max_length=32,
        unique=True,
        help_text="out_trade_no at the provider",
        verbose_name=_("public id"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(max_length=32, verbose_name=_("purpose"))
    reference = models.CharField(max_length=64, verbose_name=_("reference"))
    method = models.CharField(max_length=20, choices=Method.choices, verbose_name=_("method"))
    channel = models.CharField(max_length=16, blank=True, verbose_name=_("channel"))
    amount_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.CREATED, verbose_name=_("status")
    )
    settles = models.BooleanField(default=False, verbose_name=_("settles"))
    refunded_fen = models.BigIntegerField(default=0)
    # Taken back by the carrier or the provider (a chargeback, ``intent_charge_back``): never
    # refundable again, by anyone.
    charged_back_fen = models.BigIntegerField(default=0)
    provider_trade_no = models.CharField(max_length=64, blank=True)
    action = models.JSONField(
        default=dict, blank=True, help_text="What the buyer's browser does next"
    )
    review_reason = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        # Querying the provider calls out and may change a payment's state: not for viewers.
        permissions = [("query_paymentintent", _("Can ask the provider for a payment's state"))]
        indexes = [
            models.Index(fields=["purpose", "reference"]),
            models.Index(
                fields=["status", "created_at"],
                name="payments_pending_idx",
                condition=Q(status="pending"),
            ),
            # The analytics rollups read one day of payment attempts.
            models.Index(fields=["created_at"], name="payments_intent_created_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="payments_intent_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0) & Q(refunded_fen__lte=F("amount_fen")),
                name="payments_intent_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(charged_back_fen__gte=0)
                & Q(charged_back_fen__lte=F("amount_fen") - F("refunded_fen")),
                name="payments_intent_charged_back_within_amount",
            ),
            # A reference is settled by at most one money intent and one points intent.
            models.UniqueConstraint(
                fields=["purpose", "reference"],
                condition=Q(settles=True) & ~Q(method="points"),
                name="payments_one_settling_money_intent",
            ),
            models.UniqueConstraint(
                fields=["purpose", "reference"],
                condition=Q(settles=True, method="points"),
                name="payments_one_settling_points_intent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.method} {self.status}"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class PaymentEvent(models.Model):
    """A notification, query result or provider answer, kept raw. ``dedupe_key`` makes each count once."""

    intent = models.ForeignKey(
        PaymentIntent,
        null=True,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("payment intent"),
    )
    method = models.CharField(max_length=20, choices=Method.choices, verbose_name=_("method"))
    # notification | query | refund | carrier
    kind = models.CharField(max_length=20, verbose_name=_("kind"))
    dedupe_key = models.CharField(max_length=128, unique=True, null=True)  # noqa: DJ001 - NULL: not de-duplicated
    verified = models.BooleanField(default=False, verbose_name=_("verified"))
    raw = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=64, blank=True, verbose_name=_("outcome"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")

    def __str__(self) -> str:
        return f"{self.method} {self.kind} {self.outcome}"


class Refund(models.Model):
    """A refund of part or all of a paid intent: requested, approved by finance, executed."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PROCESSING = "processing", _("Processing")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({Status.APPROVED, Status.REJECTED}),
        Status.APPROVED: frozenset({Status.PROCESSING, Status.SUCCEEDED, Status.FAILED}),
        Status.PROCESSING: frozenset({Status.SUCCEEDED, Status.FAILED}),
        Status.FAILED: frozenset({Status.PROCESSING, Status.SUCCEEDED}),
        Status.SUCCEEDED: frozenset(),
        Status.REJECTED: frozenset(),
    }

    public_id = models.CharField(
        max_length=32,
        unique=True,
        help_text="out_request_no at the provider",
        verbose_name=_("public id"),
    )
    intent = models.ForeignKey(
        PaymentIntent,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("payment intent"),
    )
    amount_fen = models.BigIntegerField()
    reason = models.CharField(max_length=200, verbose_name=_("reason"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.REQUESTED, verbose_name=_("status")
    )
    request_key = models.CharField(max_length=100, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    # Above REFUND_SECOND_APPROVAL_ABOVE_FEN the first finance approval is recorded here and a
    # second, different user's approval moves the refund to approved (``decided_by``).
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    automatic = models.BooleanField(
        default=False,
        help_text="Raised by the system, approved without finance",
        verbose_name=_("automatic"),
    )
    provider_refund_no = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=64, blank=True, verbose_name=_("error code"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="payments_refund_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.amount_fen} {self.status}"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]
