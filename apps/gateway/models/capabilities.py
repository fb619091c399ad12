"""What the capabilities keep: partner SMS, OTP codes, voice calls, billing charges, callbacks."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.gateway.models.partners import App, Environment


class PartnerSms(models.Model):
    """One recipient of a partner's SMS request: its own id, state, segments and price.

    The text travels to the carrier through ``carrier.sms_queue`` (purpose ``partner``); the
    carrier's status changes come back through its listener registry and move this row.
    """

    class Status(models.TextChoices):
        # Risk control asked for review: the batch waits for an operator (queued or failed).
        HELD = "held", _("Held for risk review")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Undelivered")
        FAILED = "failed", _("Failed")

    # A delivery report may overtake the submit's answer, as in the carrier's own table.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.HELD: frozenset({Status.QUEUED, Status.FAILED}),
        Status.QUEUED: frozenset(
            {Status.SENT, Status.DELIVERED, Status.UNDELIVERED, Status.FAILED}
        ),
        Status.SENT: frozenset({Status.DELIVERED, Status.UNDELIVERED}),
        Status.DELIVERED: frozenset(),
        Status.UNDELIVERED: frozenset(),
        Status.FAILED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="+")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    client_id = models.CharField(max_length=40, help_text="the credential that sent it")
    batch_id = models.UUIDField(db_index=True)
    # None while held for risk review: the carrier has not been given it yet.
    carrier_message_id = models.UUIDField(unique=True, null=True, blank=True)
    msisdn = models.CharField(max_length=20)
    # The text, kept only while the message is held (the carrier keeps its own copy after).
    held_text = models.TextField(blank=True)
    segments = models.PositiveSmallIntegerField()
    price_fen = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=64, blank=True)
    callback_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("partner SMS")
        verbose_name_plural = _("partner SMS")
        indexes = [models.Index(fields=["app", "-created_at"], name="gateway_psms_app_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(segments__gte=1) & Q(price_fen__gte=0), name="gateway_psms_price"
            )
        ]

    def __str__(self) -> str:
        return f"{self.msisdn} {self.status}"


class OtpCode(models.Model):
    """A one-time code sent for a partner (CAMARA one-time-password-sms); only its hash is kept."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", _("Failed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.VERIFIED, Status.FAILED}),
        Status.VERIFIED: frozenset(),
        Status.FAILED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="+")
    msisdn = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["msisdn", "-created_at"], name="gateway_otp_msisdn")]

    def __str__(self) -> str:
        return f"{self.msisdn} {self.status}"


class VoiceCall(models.Model):
    """A partner's click-to-dial call, following the carrier's call through its states."""

    class Status(models.TextChoices):
        INITIATED = "initiated", _("Initiated")
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        COMPLETED = "completed", _("Completed")
        BUSY = "busy", _("Busy")
        NO_ANSWER = "no-answer", _("No answer")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    _ENDS = frozenset({"completed", "busy", "no-answer", "failed", "cancelled"})
    # Carrier events may come out of order: a later state may skip the ones between.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.INITIATED: frozenset({"ringing", "answered"} | _ENDS),
        Status.RINGING: frozenset({"answered"} | _ENDS),
        Status.ANSWERED: frozenset({"completed"}),
        Status.COMPLETED: frozenset(),
        Status.BUSY: frozenset(),
        Status.NO_ANSWER: frozenset(),
        Status.FAILED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="+")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    client_id = models.CharField(max_length=40)
    caller = models.CharField(max_length=20)
    callee = models.CharField(max_length=20)
    carrier_call_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INITIATED)
    reason = models.CharField(max_length=32, blank=True)
    callback_url = models.CharField(max_length=500, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("voice call")
        verbose_name_plural = _("voice calls")
        indexes = [models.Index(fields=["app", "-created_at"], name="gateway_call_app_created")]

    def __str__(self) -> str:
        return f"{self.caller} → {self.callee} {self.status}"


class BillingCharge(models.Model):
    """A partner's charge to a subscriber's phone bill; the money is a payments intent with
    purpose ``gateway`` and this charge's id as reference."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the subscriber's code")
        VALIDATED = "validated", _("Code validated")
        SUCCEEDED = "succeeded", _("Charged")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset(
            {Status.VALIDATED, Status.SUCCEEDED, Status.CANCELLED, Status.FAILED}
        ),
        Status.VALIDATED: frozenset({Status.SUCCEEDED, Status.CANCELLED, Status.FAILED}),
        Status.SUCCEEDED: frozenset(),
        Status.CANCELLED: frozenset(),
        Status.FAILED: frozenset(),
    }

    id = models.CharField(primary_key=True, max_length=32)
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="+")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    client_id = models.CharField(max_length=40)
    callback_url = models.CharField(max_length=500, blank=True)
    msisdn = models.CharField(max_length=20)
    amount_fen = models.BigIntegerField()
    refunded_fen = models.BigIntegerField(default=0)
    description = models.CharField(max_length=60)
    merchant_reference = models.CharField(max_length=64, blank=True)
    # A CAMARA payment's referenceCode: one per app (the unique constraint below), so two
    # requests racing with the same new code cannot both open a charge. NULL for the charges
    # of the deprecated v1 paths, whose merchantReference may repeat.
    reference_code = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    intent_public_id = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("phone-bill charge")
        verbose_name_plural = _("phone-bill charges")
        indexes = [models.Index(fields=["app", "-created_at"], name="gateway_charge_app_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0)
                & Q(refunded_fen__gte=0)
                & Q(refunded_fen__lte=models.F("amount_fen")),
                name="gateway_charge_amounts",
            ),
            models.UniqueConstraint(
                fields=["app", "reference_code"], name="gateway_charge_app_reference_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.status}"


class CallbackDelivery(models.Model):
    """One event owed to a partner's callback URL; its id is the event id to de-duplicate on.

    Delivered by ``callbacks.callback_deliver`` (signed with the app's credential secret),
    retried with backoff until a 2xx or ``MAX_ATTEMPTS``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.DELIVERED, Status.FAILED}),
        Status.DELIVERED: frozenset(),
        Status.FAILED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="+")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    client_id = models.CharField(max_length=40)
    url = models.CharField(max_length=500)
    event_type = models.CharField(max_length=64)
    subject = models.CharField(max_length=64, help_text="the message, call or charge id")
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("callback delivery")
        verbose_name_plural = _("callback deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="gateway_callback_due",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["subject"], name="gateway_callback_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.status}"
