"""Capability packages and the apps' subscriptions to them."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.gateway.capabilities_catalog import Capability
from apps.gateway.models.partners import App


class Package(models.Model):
    """Capabilities sold together, with a quota per period, a rate per capability and prices."""

    class Period(models.TextChoices):
        DAY = "day", _("Day")
        MONTH = "month", _("Month")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    capabilities = ArrayField(
        models.CharField(max_length=40, choices=Capability.choices),
        verbose_name=_("capabilities"),
    )
    # Calls per period over all the package's capabilities; NULL is unlimited.
    quota_calls = models.BigIntegerField(_("quota (calls)"), null=True, blank=True)
    quota_period = models.CharField(
        max_length=8, choices=Period.choices, default=Period.MONTH, verbose_name=_("period")
    )
    # Requests per second per app and capability.
    rate_per_second = models.PositiveIntegerField(_("rate limit per second"), default=10)
    price_per_call_fen = models.BigIntegerField(_("price per call (fen)"), default=0)
    price_fen = models.BigIntegerField(_("package price (fen)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # The partner signed the carrier's pre-authorised (免密) carrier-billing agreement: its
    # subscribers consented to its charges once, when they signed up with it, so CAMARA's
    # one-step createPayment charges them without texting a code. Without it, every charge
    # is confirmed by the subscriber with the texted code (MIIT's second confirmation).
    carrier_billing_one_step = models.BooleanField(
        _("one-step carrier billing (pre-authorised agreement)"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("capability package")
        verbose_name_plural = _("capability packages")
        # Switching the one-step flag, or assigning a package that carries it, lets the
        # partner charge phone bills without the subscriber's texted code: its own permission.
        permissions = [
            ("change_carrier_billing_one_step", _("Can grant one-step carrier billing")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quota_calls__isnull=True) | Q(quota_calls__gte=0),
                name="gateway_package_quota_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(rate_per_second__gte=1), name="gateway_package_rate_positive"
            ),
            models.CheckConstraint(
                condition=Q(price_per_call_fen__gte=0) & Q(price_fen__gte=0),
                name="gateway_package_prices_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """An app's subscription to a package from ``starts_at`` until ``ends_at`` (open if NULL)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.ACTIVE: frozenset({Status.CANCELLED}),
        Status.CANCELLED: frozenset(),
    }

    app = models.ForeignKey(
        App, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("app")
    )
    package = models.ForeignKey(
        Package, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("package")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["app", "package"],
                condition=Q(status="active"),
                name="gateway_subscription_one_active",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="gateway_subscription_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.app_id}:{self.package_id}"
