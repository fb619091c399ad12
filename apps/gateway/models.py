"""Partners, their apps and credentials, capability packages and subscriptions, metering."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.gateway.capabilities_catalog import Capability


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

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="apps")
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


class Credential(models.Model):
    """A client id and its secret for one environment of an app.

    The secret is kept encrypted (HMAC verification needs it back) and shown once. At most two
    credentials of an app and environment are unrevoked at a time (``slot`` 1 or 2 under a
    partial unique index), which is what rotation without downtime needs.
    """

    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="credentials")
    environment = models.CharField(_("environment"), max_length=16, choices=Environment.choices)
    slot = models.PositiveSmallIntegerField()
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("capability package")
        verbose_name_plural = _("capability packages")
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

    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="subscriptions")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

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


class CallRecord(models.Model):
    """One capability call, as metered. Append-only raw data.

    The table is range-partitioned on ``created_at`` (the migration creates it with
    ``PARTITION BY RANGE`` and a default partition; ``gateway_partitions_ensure`` adds monthly
    ones), hence the composite key: PostgreSQL wants the partition key in every unique index.
    ``id`` is made when the call is served, so a batch written twice lands once.
    """

    pk = models.CompositePrimaryKey("created_at", "id")
    created_at = models.DateTimeField()
    id = models.UUIDField(default=uuid.uuid4)
    app_id = models.BigIntegerField()
    partner_id = models.BigIntegerField()
    environment = models.CharField(max_length=16, choices=Environment.choices)
    capability = models.CharField(max_length=40)
    operation = models.CharField(max_length=64)
    subscription_id = models.BigIntegerField(null=True)
    status_code = models.PositiveSmallIntegerField()
    error_code = models.CharField(max_length=64, blank=True)
    latency_us = models.PositiveIntegerField(help_text="time spent in the platform, microseconds")
    correlator = models.CharField(max_length=256, blank=True)
    client_id = models.CharField(max_length=40)

    class Meta:
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        indexes = [
            models.Index(fields=["app_id", "created_at"], name="gateway_call_app_time"),
        ]

    def __str__(self) -> str:
        return f"{self.capability} {self.status_code} @{self.created_at:%Y-%m-%d %H:%M:%S}"


# Upper bounds (ms) of the latency buckets kept per hour; the last bucket is everything above.
LATENCY_BUCKETS_MS: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


class UsageHourly(models.Model):
    """Calls of an app's capability in one hour: counts, latency sum and histogram.

    Rebuilt from ``CallRecord`` by ``usage_rollup`` (a recount, so running it twice changes
    nothing). ``latency_buckets[i]`` counts calls at or under ``LATENCY_BUCKETS_MS[i]``
    milliseconds (not cumulative), with one extra bucket for slower ones: enough for p95.
    """

    app_id = models.BigIntegerField()
    partner_id = models.BigIntegerField()
    environment = models.CharField(_("environment"), max_length=16, choices=Environment.choices)
    capability = models.CharField(_("capability"), max_length=40)
    hour = models.DateTimeField(_("hour"))
    calls = models.BigIntegerField(_("calls"), default=0)
    errors = models.BigIntegerField(
        _("errors"), default=0, help_text="answers with status 400 or above"
    )
    throttled = models.BigIntegerField(
        _("throttled"), default=0, help_text="answers with status 429"
    )
    latency_sum_us = models.BigIntegerField(default=0)
    latency_buckets = ArrayField(models.BigIntegerField(), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("hourly usage")
        verbose_name_plural = _("hourly usage")
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "environment", "capability", "hour"],
                name="gateway_usage_hour_unique",
            )
        ]
        indexes = [
            models.Index(fields=["partner_id", "hour"], name="gateway_usage_partner_hour"),
            models.Index(fields=["hour"], name="gateway_usage_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.app_id} {self.capability} {self.hour:%Y-%m-%d %H:00}"


# --- Capabilities (gwcaps): partner SMS, OTP codes, voice calls, phone-bill charges, callbacks ---


class PartnerSms(models.Model):
    """One recipient of a partner's SMS request: its own id, state, segments and price.

    The text travels to the carrier through ``carrier.sms_queue`` (purpose ``partner``); the
    carrier's status changes come back through its listener registry and move this row.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Undelivered")
        FAILED = "failed", _("Failed")

    # A delivery report may overtake the submit's answer, as in the carrier's own table.
    TRANSITIONS: dict[str, frozenset[str]] = {
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
    carrier_message_id = models.UUIDField(unique=True)
    msisdn = models.CharField(max_length=20)
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
            )
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


from apps.gateway.camara_models import ChargeRequestDetail  # noqa: E402,F401 - its own module
