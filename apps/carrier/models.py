"""Outbound SMS and their delivery state, as the platform knows it."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsMessage(models.Model):
    """One SMS the platform sent. Its id is the idempotency key and reference at the carrier."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SUBMITTED = "submitted", _("Submitted")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Undelivered")
        FAILED = "failed", _("Failed")

    # The one transition table: a report may overtake the submit's answer, so a queued
    # message can go straight to delivered or undelivered.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.QUEUED: frozenset(
            {Status.SUBMITTED, Status.DELIVERED, Status.UNDELIVERED, Status.FAILED}
        ),
        Status.SUBMITTED: frozenset({Status.DELIVERED, Status.UNDELIVERED}),
        Status.DELIVERED: frozenset(),
        Status.UNDELIVERED: frozenset(),
        Status.FAILED: frozenset(),
    }

    class Purpose(models.TextChoices):
        OTP = "otp", _("Verification code")
        NOTICE = "notice", _("Notice")
        PARTNER = "partner", _("Partner message")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    msisdn = models.CharField(_("mobile number"), max_length=20)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, verbose_name=_("purpose"))
    # What operators may see: OTP texts are stored with the code masked.
    preview = models.CharField(max_length=500)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    carrier_message_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    segments = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("segments"))
    error_code = models.CharField(max_length=64, blank=True, verbose_name=_("error code"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    submitted_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["msisdn", "-created_at"])]
        ordering = ["-created_at"]
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")

    def __str__(self) -> str:
        return f"{self.msisdn} {self.status}"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]
