"""Partners who sign up, their apps and the apps' credentials."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Environment(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox")
    PRODUCTION = "production", _("Production")


class Partner(models.Model):
    """A company that calls the capabilities; an operator approves it before it can go live."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED}),
        # A rejected company may correct its details and ask again.
        Status.REJECTED: frozenset({Status.PENDING}),
        Status.APPROVED: frozenset({Status.SUSPENDED}),
        Status.SUSPENDED: frozenset({Status.APPROVED}),
    }

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gateway_partners"
    )
    company_name = models.CharField(_("company name"), max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=60)
    contact_phone = models.CharField(_("contact phone"), max_length=20, help_text="E.164")
    contact_email = models.EmailField(_("contact email"))
    # 统一社会信用代码: 18 characters.
    licence_number = models.CharField(_("business licence number"), max_length=18)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason for rejection"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        constraints = [
            # One live registration per company; a rejected one may be registered again.
            models.UniqueConstraint(
                fields=["licence_number"],
                condition=~Q(status="rejected"),
                name="gateway_partner_licence_live",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.company_name


class App(models.Model):
    """A partner's application: its callbacks, IP allow-list and production approval."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DISABLED = "disabled", _("Disabled")

    class ProductionStatus(models.TextChoices):
        NONE = "none", _("Sandbox only")
        REQUESTED = "requested", _("Production requested")
        APPROVED = "approved", _("Production approved")
        REJECTED = "rejected", _("Production rejected")

    PRODUCTION_TRANSITIONS: dict[str, frozenset[str]] = {
        ProductionStatus.NONE: frozenset({ProductionStatus.REQUESTED}),
        ProductionStatus.REQUESTED: frozenset(
            {ProductionStatus.APPROVED, ProductionStatus.REJECTED}
        ),
        ProductionStatus.REJECTED: frozenset({ProductionStatus.REQUESTED}),
        ProductionStatus.APPROVED: frozenset({ProductionStatus.REJECTED}),
    }
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.ACTIVE: frozenset({Status.DISABLED}),
        Status.DISABLED: frozenset({Status.ACTIVE}),
    }

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="apps", verbose_name=_("partner")
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    callback_urls = ArrayField(
        models.URLField(max_length=500), default=list, blank=True, verbose_name=_("callback URLs")
    )
    # CIDRs ("203.0.113.0/24", "2001:db8::/32", a bare address); empty allows any address.
    ip_allowlist = ArrayField(
        models.CharField(max_length=49), default=list, blank=True, verbose_name=_("IP allow-list")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    production_status = models.CharField(
        _("production access"),
        max_length=16,
        choices=ProductionStatus.choices,
        default=ProductionStatus.NONE,
    )
    production_requested_at = models.DateTimeField(
        _("production requested at"), null=True, blank=True
    )
    production_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    production_reviewed_at = models.DateTimeField(
        _("production reviewed at"), null=True, blank=True
    )
    production_reject_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("app")
        verbose_name_plural = _("apps")
        constraints = [
            models.UniqueConstraint(fields=["partner", "name"], name="gateway_app_partner_name")
        ]

    def __str__(self) -> str:
        return self.name


class AccessToken(models.Model):
    """The durable copy of an OAuth2 access token (by SHA-256 only): Redis is the fast path,
    this row lets a token be checked while Redis is down or after it lost its data."""

    digest = models.CharField(max_length=64, primary_key=True)
    app_id = models.BigIntegerField()
    credential_id = models.BigIntegerField(db_index=True)
    client_id = models.CharField(max_length=40)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")

    def __str__(self) -> str:
        return f"{self.client_id} {self.digest[:8]}…"


class Credential(models.Model):
    """A client id and its secret for one environment of an app.

    The secret is kept encrypted (HMAC verification needs it back) and shown once. At most two
    credentials of an app and environment are unrevoked at a time (``slot`` 1 or 2 under a
    partial unique index), which is what rotation without downtime needs.
    """

    app = models.ForeignKey(
        App, on_delete=models.PROTECT, related_name="credentials", verbose_name=_("app")
    )
    environment = models.CharField(_("environment"), max_length=16, choices=Environment.choices)
    slot = models.PositiveSmallIntegerField(_("slot"))
    client_id = models.CharField(_("client id"), max_length=40, unique=True)
    secret_encrypted = models.TextField()
    secret_hint = models.CharField(
        _("secret hint"), max_length=8, help_text="the secret's last characters"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot__in=[1, 2]), name="gateway_credential_two_slots"
            ),
            models.UniqueConstraint(
                fields=["app", "environment", "slot"],
                condition=Q(revoked_at__isnull=True),
                name="gateway_credential_one_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return self.client_id
