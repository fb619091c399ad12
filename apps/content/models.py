"""Content providers (CPs), their products and signing keys, charges and the entitlements they grant."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ContentProvider(models.Model):
    """A company selling digital content on the platform, reviewed by an operator."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    TRANSITIONS = {
        Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED}),
        Status.REJECTED: frozenset({Status.PENDING}),
        Status.APPROVED: frozenset({Status.SUSPENDED}),
        Status.SUSPENDED: frozenset({Status.APPROVED}),
    }

    name = models.CharField(_("company"), max_length=128)
    licence_number = models.CharField(_("licence number"), max_length=64, unique=True)
    bank_account = models.CharField(_("bank account for payouts"), max_length=64)
    contact_name = models.CharField(_("contact"), max_length=64)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    # The CP's share of each charge in basis points; None: the platform default.
    revenue_share_bp = models.PositiveIntegerField(
        _("CP share (basis points)"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reject_reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("content provider")
        verbose_name_plural = _("content providers")
        constraints = [
            models.CheckConstraint(
                condition=Q(revenue_share_bp__isnull=True) | Q(revenue_share_bp__lte=10000),
                name="content_cp_share_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CpDocument(models.Model):
    """A qualification document a CP uploaded for its review."""

    cp = models.ForeignKey(ContentProvider, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=64)
    file = models.FileField(_("file"), upload_to="content/documents/%Y/%m/")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("qualification document")
        verbose_name_plural = _("qualification documents")

    def __str__(self) -> str:
        return str(self.title)


class CpMember(models.Model):
    """A user who works in a CP's console (role ``content_provider``)."""

    cp = models.ForeignKey(ContentProvider, on_delete=models.CASCADE, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )

    def __str__(self) -> str:
        return str(f"{self.cp_id}:{self.user_id}")


class ContentProduct(models.Model):
    class Kind(models.TextChoices):
        GAME = "game", _("Game")
        VIDEO = "video", _("Video")
        READING = "reading", _("Reading")
        MUSIC = "music", _("Music")
        ANIMATION = "animation", _("Animation")

    class BillingMode(models.TextChoices):
        ONE_OFF = "one_off", _("One-off purchase")
        PER_CHAPTER = "per_chapter", _("Per chapter / episode")
        MONTHLY = "monthly", _("Monthly subscription")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("On sale")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    TRANSITIONS = ContentProvider.TRANSITIONS

    cp = models.ForeignKey(
        ContentProvider,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("content provider"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    cover = models.ImageField(_("cover"), upload_to="content/covers/%Y/%m/", blank=True)
    # The default price point's approved price and billing code, kept here for what names
    # only the product (the API without a price point, renewals, the mall's first SKU).
    price_fen = models.PositiveIntegerField(_("price (fen)"))
    billing_mode = models.CharField(_("billing mode"), max_length=16, choices=BillingMode.choices)
    trial_days = models.PositiveSmallIntegerField(_("free trial (days)"), default=0)
    billing_code = models.CharField(_("carrier billing code"), max_length=32)
    notify_url = models.URLField(_("notification URL"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reject_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Risk control's vetting (a price above its threshold, a CP with too many complaints):
    # the operator who gave the first of the two approvals the product needs; the second
    # must be someone else.
    first_reviewer_id = models.BigIntegerField(_("first approval by"), null=True, blank=True)
    # The catalog product and SKU that sell it in the mall (made when first approved).
    catalog_product_id = models.BigIntegerField(null=True, blank=True, unique=True)
    catalog_sku_id = models.BigIntegerField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("content product")
        verbose_name_plural = _("content products")
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="content_product_price"),
            models.UniqueConstraint(fields=["cp", "billing_code"], name="content_product_code"),
        ]

    def __str__(self) -> str:
        return self.title


class PricePoint(models.Model):
    """One price a product is sold at, with the billing code the carrier knows it by.

    A product has one default price point (made with it, reviewed with it, mirrored in the
    product's ``price_fen`` and ``billing_code``) and may have more ("单章", "全本", "包月").
    Each new price point and each price change is reviewed by an operator before it can be
    sold; what a price point grants is the product's billing mode. A CP may take a price
    point off sale (``active``) and put it back without a review; not the default one."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("On sale")
        REJECTED = "rejected", _("Rejected")

    TRANSITIONS = {
        Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED}),
        Status.REJECTED: frozenset(),
        Status.APPROVED: frozenset(),
    }

    cp = models.ForeignKey(ContentProvider, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(
        ContentProduct,
        on_delete=models.PROTECT,
        related_name="price_points",
        verbose_name=_("content product"),
    )
    label = models.CharField(_("label"), max_length=32)
    price_fen = models.PositiveIntegerField(_("price (fen)"))
    billing_code = models.CharField(_("carrier billing code"), max_length=32)
    is_default = models.BooleanField(_("default"), default=False)
    active = models.BooleanField(_("active"), default=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reject_reason = models.CharField(_("reason"), max_length=200, blank=True)
    first_reviewer_id = models.BigIntegerField(_("first approval by"), null=True, blank=True)
    # A price change waiting for review; the price on sale stays until it is approved.
    proposed_price_fen = models.PositiveIntegerField(
        _("proposed price (fen)"), null=True, blank=True
    )
    price_reject_reason = models.CharField(
        _("price change refused because"), max_length=200, blank=True
    )
    price_first_reviewer_id = models.BigIntegerField(
        _("price: first approval by"), null=True, blank=True
    )
    # The mall SKU that sells it (the default's is the product's first SKU).
    catalog_sku_id = models.BigIntegerField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["product_id", "-is_default", "price_fen", "pk"]
        verbose_name = _("price point")
        verbose_name_plural = _("price points")
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="content_pp_price"),
            models.CheckConstraint(
                condition=Q(proposed_price_fen__isnull=True) | Q(proposed_price_fen__gt=0),
                name="content_pp_proposed_price",
            ),
            models.UniqueConstraint(fields=["cp", "billing_code"], name="content_pp_code"),
            models.UniqueConstraint(
                fields=["product"], condition=Q(is_default=True), name="content_pp_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.billing_code}"

    @property
    def sellable(self) -> bool:
        return self.status == self.Status.APPROVED and self.active


class Chapter(models.Model):
    """A chapter or episode of a reading (or per-episode) product; ``body`` is the text served."""

    product = models.ForeignKey(ContentProduct, on_delete=models.CASCADE, related_name="chapters")
    number = models.PositiveIntegerField()
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), blank=True)
    free = models.BooleanField(_("free preview"), default=False)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="content_chapter_number")
        ]

    def __str__(self) -> str:
        return str(f"{self.number} {self.title}")


class SigningKey(models.Model):
    """A CP's API key: the secret is kept encrypted (HMAC needs it back) and shown once.

    At most one ``active`` and one ``next`` per CP: rotating makes the next one active and the
    active one retired; both active and next sign valid calls, so a CP switches without a gap.
    """

    class Slot(models.TextChoices):
        ACTIVE = "active", _("Active")
        NEXT = "next", _("Next")
        RETIRED = "retired", _("Retired")

    cp = models.ForeignKey(ContentProvider, on_delete=models.CASCADE, related_name="keys")
    key_id = models.CharField(max_length=40, unique=True)
    secret_encrypted = models.TextField()
    secret_hint = models.CharField(max_length=8)
    slot = models.CharField(max_length=8, choices=Slot.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cp", "slot"], condition=~Q(slot="retired"), name="content_key_one_per_slot"
            )
        ]

    def __str__(self) -> str:
        return str(self.key_id)


class Charge(models.Model):
    """One sale of a content product to a subscriber: the owner object of a ``content`` payment."""

    class Status(models.TextChoices):
        # Risk control asked for review: an operator releases it (pending) or refuses it.
        HELD = "held", _("Held for risk review")
        PENDING = "pending", _("Awaiting confirmation")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        CHARGED_BACK = "charged_back", _("Charged back")

    # A paid charge's money goes back once: by a refund or by a chargeback, never both.
    TRANSITIONS = {
        Status.HELD: frozenset({Status.PENDING, Status.FAILED}),
        Status.PENDING: frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}),
        Status.SUCCEEDED: frozenset({Status.REFUNDED, Status.CHARGED_BACK}),
        Status.FAILED: frozenset(),
        Status.CANCELLED: frozenset(),
        Status.REFUNDED: frozenset(),
        Status.CHARGED_BACK: frozenset(),
    }

    class Channel(models.TextChoices):
        IN_APP = "in_app", _("In-app")
        WEB = "web", _("Web")
        SUBSCRIPTION = "subscription", _("Subscription renewal")

    id = models.CharField(primary_key=True, max_length=32, verbose_name=_("charge id"))
    cp = models.ForeignKey(
        ContentProvider,
        on_delete=models.PROTECT,
        related_name="charges",
        verbose_name=_("content provider"),
    )
    product = models.ForeignKey(
        ContentProduct,
        on_delete=models.PROTECT,
        related_name="charges",
        verbose_name=_("content product"),
    )
    user_id = models.BigIntegerField(verbose_name=_("user id"))
    msisdn = models.CharField(max_length=20, verbose_name=_("MSISDN"))
    # The price point sold (None only for a plan change's proration, which has no price).
    price_point = models.ForeignKey(
        PricePoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        verbose_name=_("price point"),
    )
    amount_fen = models.PositiveIntegerField(verbose_name=_("amount (fen)"))
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    cp_order_id = models.CharField(max_length=64)
    chapter = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("chapter"))
    # The subscription this charge renews or starts (monthly products).
    subscription_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    intent_public_id = models.CharField(max_length=40, blank=True)
    # Why a charge failed, as the API says it (``RISK_REFUSED``: refused after risk review).
    error_code = models.CharField(max_length=40, blank=True, verbose_name=_("error code"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("content charge")
        verbose_name_plural = _("content charges")
        # A subscriber's and a CP's charges by time (the CP console, complaint rates; the caps
        # are risk caps counted in Redis since risk migration 0004).
        indexes = [
            models.Index(fields=["user_id", "created_at"], name="content_charge_user_day"),
            models.Index(fields=["cp", "created_at"], name="content_charge_cp_day"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["cp", "cp_order_id"], name="content_charge_cp_order"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="content_charge_amount"),
        ]

    def __str__(self) -> str:
        return str(self.pk)


class Entitlement(models.Model):
    """What a subscriber may read, watch or play: granted by a paid charge or a mall order
    line, until ``ends_at`` (None: for good), one chapter only when ``chapter`` is set."""

    class Source(models.TextChoices):
        CHARGE = "charge", _("Charge")
        ORDER = "order", _("Mall order")
        TRIAL = "trial", _("Free trial")

    user_id = models.BigIntegerField(verbose_name=_("user id"))
    product = models.ForeignKey(
        ContentProduct,
        on_delete=models.PROTECT,
        related_name="entitlements",
        verbose_name=_("content product"),
    )
    source = models.CharField(max_length=8, choices=Source.choices, verbose_name=_("source"))
    # The charge id, or the order line id.
    reference = models.CharField(max_length=40, verbose_name=_("reference"))
    chapter = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("chapter"))
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ends at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    # A mall line's CP share, booked at the grant and given back at the revocation.
    share_fen = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("content entitlement")
        verbose_name_plural = _("content entitlements")
        indexes = [models.Index(fields=["user_id", "product"], name="content_ent_user_product")]
        constraints = [
            models.UniqueConstraint(fields=["source", "reference"], name="content_ent_once")
        ]

    def __str__(self) -> str:
        return str(f"{self.user_id}:{self.product_id}:{self.reference}")


class Notification(models.Model):
    """One signed event to a CP's server, retried with backoff; the CP's delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    event_id = models.UUIDField(unique=True)
    cp = models.ForeignKey(
        ContentProvider,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("content provider"),
    )
    url = models.URLField()
    event = models.CharField(max_length=32, verbose_name=_("event"))
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_response = models.CharField(max_length=200, blank=True, verbose_name=_("last response"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    delivered_at = models.DateTimeField(
        null=True, blank=True, verbose_name=pgettext_lazy("notification", "delivered at")
    )

    class Meta:
        verbose_name = _("CP notification")
        verbose_name_plural = _("CP notifications")
        ordering = ["-id"]

    def __str__(self) -> str:
        return str(f"{self.event} {self.event_id}")


class Subscription(models.Model):
    """A subscriber's monthly subscription to a product: renewed on the phone bill by the beat
    job (``subscriptions_renew_due``), with dunning; one ``Renewal`` per period at most."""

    class Status(models.TextChoices):
        TRIALING = "trialing", _("Free trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment overdue")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.TRIALING: frozenset({Status.ACTIVE, Status.PAST_DUE, Status.CANCELLED}),
        Status.ACTIVE: frozenset({Status.ACTIVE, Status.PAST_DUE, Status.CANCELLED}),
        Status.PAST_DUE: frozenset(
            {Status.ACTIVE, Status.PAST_DUE, Status.SUSPENDED, Status.CANCELLED}
        ),
        Status.SUSPENDED: frozenset({Status.ACTIVE, Status.CANCELLED}),
        Status.CANCELLED: frozenset(),
    }

    user_id = models.BigIntegerField(db_index=True)
    msisdn = models.CharField(max_length=20, verbose_name=_("MSISDN"))
    cp = models.ForeignKey(ContentProvider, on_delete=models.PROTECT, related_name="subscriptions")
    product = models.ForeignKey(
        ContentProduct,
        on_delete=models.PROTECT,
        related_name="subscriptions",
        verbose_name=_("content product"),
    )
    # The price point renewed (None: the product's default).
    price_point = models.ForeignKey(
        PricePoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A downgrade waits for the next period (docs/content.md, proration rules).
    next_product = models.ForeignKey(
        ContentProduct, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, verbose_name=_("status"))
    period_start = models.DateTimeField(verbose_name=_("period start"))
    period_end = models.DateTimeField(verbose_name=_("period end"))
    # When the beat job next tries to charge (the period's end, then the dunning retries).
    next_try_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next charge attempt"))
    failures = models.PositiveSmallIntegerField(default=0, verbose_name=_("failed charge attempts"))
    suspended_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("content subscription")
        verbose_name_plural = _("content subscriptions")
        indexes = [
            models.Index(
                fields=["next_try_at"],
                name="content_sub_due",
                condition=Q(next_try_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.status}"


class Trial(models.Model):
    """A free trial of a monthly product for a subscriber: asked for by the CP's server (the
    subscriber confirms with a texted code) or started by the signed-in subscriber on the
    product page. One started trial per subscriber and product, ever (the partial unique
    index). Its subscription converts to paid at the trial's end through the renewal job."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        STARTED = "started", _("Started")
        FAILED = "failed", _("Failed")

    TRANSITIONS = {
        Status.PENDING: frozenset({Status.STARTED, Status.FAILED}),
        Status.STARTED: frozenset(),
        Status.FAILED: frozenset(),
    }

    cp = models.ForeignKey(ContentProvider, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(
        ContentProduct,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("content product"),
    )
    # The price point the subscription renews at when the trial ends.
    price_point = models.ForeignKey(PricePoint, on_delete=models.PROTECT, related_name="+")
    user_id = models.BigIntegerField(verbose_name=_("user id"))
    msisdn = models.CharField(max_length=20, verbose_name=_("MSISDN"))
    # The CP's order id; "web:<user>" for one the subscriber started on the product page.
    cp_order_id = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    code_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    subscription_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("free trial")
        verbose_name_plural = _("free trials")
        constraints = [
            models.UniqueConstraint(fields=["cp", "cp_order_id"], name="content_trial_cp_order"),
            models.UniqueConstraint(
                fields=["user_id", "product"],
                condition=Q(status="started"),
                name="content_trial_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.status}"


class Renewal(models.Model):
    """The charging of one period of a subscription: unique per (subscription, period), so two
    beat runs can never charge one period twice; retries of the period reuse the row."""

    class Status(models.TextChoices):
        CHARGING = "charging", _("Charging")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="renewals"
    )
    period_start = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CHARGING)
    attempts = models.PositiveSmallIntegerField(default=0)
    charge_id = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"], name="content_renewal_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}@{self.period_start:%Y-%m-%d}"


class Complaint(models.Model):
    """A subscriber's "I did not order this" about a paid charge, handled by an operator in
    the workbench: the charge refunded (a refund marked fraud for risk control) or the
    complaint rejected with an answer. One per charge."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        REFUNDED = "refunded", _("Refunded")
        REJECTED = "rejected", _("Rejected")

    charge = models.OneToOneField(
        Charge, on_delete=models.PROTECT, related_name="complaint", verbose_name=_("charge")
    )
    user_id = models.BigIntegerField(_("subscriber"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    answer = models.CharField(_("answer"), max_length=200, blank=True)
    handled_by_id = models.BigIntegerField(_("handled by"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("content complaint")
        verbose_name_plural = _("content complaints")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="content_complaint_open",
                condition=Q(status="open"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_id} {self.status}"


class Chargeback(models.Model):
    """A paid charge the subscriber disputed and the carrier (or the payment provider) took
    back: recorded by an operator or from the carrier's dispute file, one per charge. The
    money goes back through the ledger once (journal kind ``content.chargeback``: the CP's
    share off its payable, the rest off platform revenue, against the method's clearing),
    the entitlement is revoked, the CP is told and risk gets a ``chargeback`` label."""

    class Source(models.TextChoices):
        OPERATOR = "operator", _("Operator")
        DISPUTE_FILE = "dispute_file", _("Carrier dispute file")

    charge = models.OneToOneField(
        Charge, on_delete=models.PROTECT, related_name="chargeback", verbose_name=_("charge")
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=200)
    # The carrier's (or provider's) dispute case id, when it came from a dispute file.
    dispute_reference = models.CharField(_("dispute reference"), max_length=64, blank=True)
    amount_fen = models.PositiveIntegerField(_("amount (fen)"))
    share_fen = models.PositiveIntegerField(_("CP share taken back (fen)"))
    recorded_by_id = models.BigIntegerField(_("recorded by"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("content chargeback")
        verbose_name_plural = _("content chargebacks")
        constraints = [
            models.UniqueConstraint(
                fields=["dispute_reference"],
                condition=~Q(dispute_reference=""),
                name="content_chargeback_dispute_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_id} {self.reason}"
