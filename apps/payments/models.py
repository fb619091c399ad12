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
        max_length=32, unique=True, help_text="out_trade_no at the provider"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    method = models.CharField(max_length=20, choices=Method.choices)
    channel = models.CharField(max_length=16, blank=True)
    amount_fen = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    settles = models.BooleanField(default=False)
    refunded_fen = models.BigIntegerField(default=0)
    provider_trade_no = models.CharField(max_length=64, blank=True)
    action = models.JSONField(
        default=dict, blank=True, help_text="What the buyer's browser does next"
    )
    review_reason = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
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
        PaymentIntent, null=True, on_delete=models.PROTECT, related_name="events"
    )
    method = models.CharField(max_length=20, choices=Method.choices)
    kind = models.CharField(max_length=20)  # notification | query | refund | carrier
    dedupe_key = models.CharField(max_length=128, unique=True, null=True)  # noqa: DJ001 - NULL: not de-duplicated
    verified = models.BooleanField(default=False)
    raw = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

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
        max_length=32, unique=True, help_text="out_request_no at the provider"
    )
    intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.BigIntegerField()
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    request_key = models.CharField(max_length=100, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
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
        default=False, help_text="Raised by the system, approved without finance"
    )
    provider_refund_no = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
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
