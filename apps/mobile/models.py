"""A subscriber's own requests to the carrier: plan changes and add-ons made online."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LineRequest(models.Model):
    """A subscriber's own request, from the line pages or the API, to change plan or add an
    add-on. Its id is the carrier idempotency key (``line:<id>``), so it is applied once."""

    class Kind(models.TextChoices):
        PLAN_CHANGE = "plan_change", _("Plan change")
        ADDON = "addon", _("Add-on")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Being processed")
        APPLIED = "applied", _("Done")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Failed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.SUBMITTED: frozenset({Status.APPLIED, Status.REFUSED, Status.FAILED}),
        Status.APPLIED: frozenset(),
        Status.REFUSED: frozenset(),
        Status.FAILED: frozenset(),
    }

    user_id = models.BigIntegerField()
    msisdn = models.CharField(max_length=20, verbose_name=_("msisdn"))
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    offer_code = models.CharField(max_length=32, verbose_name=_("offer code"))
    offer_name = models.CharField(max_length=64)
    # The fee shown when the subscriber confirmed: a plan's monthly fee, an add-on's price.
    fee_fen = models.BigIntegerField()
    # The client's key for this request (form token or Idempotency-Key header).
    request_key = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.SUBMITTED, verbose_name=_("status")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    carrier_request_id = models.CharField(max_length=32, blank=True)
    effective_from = models.DateField(null=True, blank=True, verbose_name=_("effective from"))
    charged_fen = models.BigIntegerField(
        default=0, help_text="What the carrier took from the balance"
    )
    error_code = models.CharField(max_length=32, blank=True, verbose_name=_("error code"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "fulfilment_linerequest"  # kept from when the line pages lived in fulfilment
        verbose_name = _("line request")
        verbose_name_plural = _("line requests")
        indexes = [models.Index(fields=["user_id", "-created_at"], name="fulfilment_line_req_user")]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "request_key"], name="fulfilment_line_req_key"
            ),
            # One request in flight per subscriber: the carrier allows one pending change anyway,
            # and a second add-on must see the balance the first left.
            models.UniqueConstraint(
                fields=["user_id"],
                condition=Q(status="submitted"),
                name="fulfilment_line_req_one_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.offer_code} {self.msisdn} {self.status}"
