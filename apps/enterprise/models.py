"""Bulk distribution tables: a batch per uploaded file, a row per number, operator top-ups.

The tables keep the names they had when bulk distribution lived in ``fulfilment``
(``db_table``): the move to this app changed Django's state only, no row was copied.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BulkBatch(models.Model):
    """One uploaded file. ``(owner, content_hash)`` is unique: the same file never runs twice."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.RUNNING: frozenset({Status.COMPLETED}),
        # Retrying the failed rows runs the batch again.
        Status.COMPLETED: frozenset({Status.RUNNING}),
    }

    batch_no = models.CharField(_("batch number"), max_length=24, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    file_name = models.CharField(_("file name"), max_length=200)
    content_hash = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    total_rows = models.PositiveIntegerField(_("rows"))
    invalid_rows = models.PositiveIntegerField(_("invalid rows"))
    retry_round = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        db_table = "fulfilment_bulkbatch"
        verbose_name = _("bulk distribution batch")
        verbose_name_plural = _("bulk distribution batches")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "content_hash"], name="fulfilment_bulk_file_once"
            )
        ]

    def __str__(self) -> str:
        return self.batch_no


class BulkRow(models.Model):
    """One line of the file: a number and a pack, delivered once under ``idempotency_key``."""

    class Status(models.TextChoices):
        INVALID = "invalid", _("Invalid")
        PENDING = "pending", _("Waiting")
        DELIVERING = "delivering", _("Delivering")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.INVALID: frozenset(),
        Status.PENDING: frozenset({Status.DELIVERING}),
        Status.DELIVERING: frozenset({Status.DELIVERING, Status.DELIVERED, Status.FAILED}),
        Status.FAILED: frozenset({Status.PENDING}),
        Status.DELIVERED: frozenset(),
    }
    OPEN = (Status.PENDING, Status.DELIVERING)

    batch = models.ForeignKey(
        BulkBatch, on_delete=models.CASCADE, related_name="rows", verbose_name=_("bulk batch")
    )
    row_no = models.PositiveIntegerField(
        help_text="Line number in the file (the header is line 1)", verbose_name=_("row no")
    )
    raw_msisdn = models.CharField(max_length=40)
    raw_pack = models.CharField(max_length=64)
    msisdn = models.CharField(max_length=20, blank=True, verbose_name=_("msisdn"))
    pack_code = models.CharField(max_length=64, blank=True, verbose_name=_("pack code"))
    volume_mb = models.PositiveIntegerField(default=0)
    validity_days = models.PositiveIntegerField(default=0)
    price_fen = models.BigIntegerField(default=0, verbose_name=_("price fen"))
    idempotency_key = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, verbose_name=_("status"))
    error_code = models.CharField(max_length=40, blank=True, verbose_name=_("error code"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    failures = models.PositiveSmallIntegerField(
        default=0, help_text="Times the row failed: numbers the release journals"
    )
    carrier_request_id = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        db_table = "fulfilment_bulkrow"
        verbose_name = _("bulk distribution row")
        verbose_name_plural = _("bulk distribution rows")
        ordering = ["batch_id", "row_no"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "row_no"], name="fulfilment_bulk_row_no"),
            models.CheckConstraint(condition=Q(price_fen__gte=0), name="fulfilment_bulk_price"),
        ]
        indexes = [
            models.Index(fields=["batch", "status"], name="fulfilment_bulk_row_status"),
            models.Index(
                fields=["status", "updated_at"],
                name="fulfilment_bulk_open_rows",
                condition=Q(status__in=["pending", "delivering"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.row_no}"


class EnterpriseTopUp(models.Model):
    """Money an operator credited to an enterprise's prepaid account (a bank transfer received)."""

    enterprise = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("enterprise"),
    )
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    reference = models.CharField(
        _("payment reference"),
        max_length=64,
        unique=True,
        help_text=_("Bank slip or voucher number"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    journal_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.BigIntegerField(null=True, blank=True, verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "fulfilment_enterprisetopup"
        verbose_name = _("enterprise top-up")
        verbose_name_plural = _("enterprise top-ups")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="fulfilment_topup_positive")
        ]

    def __str__(self) -> str:
        return self.reference


class SponsoredGrant(models.Model):
    """A data pack a partner company gives one of its app's users (流量统付), paid from the
    partner's prepaid account. ``(sponsor, request_id)`` is unique: a request id is granted once.

    Delivered like a bulk row: held when granted, earned when the carrier applied the pack under
    ``idempotency_key``, released when the carrier refused it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERING = "delivering", _("Delivering")
        UNCONFIRMED = "unconfirmed", _("Asking the carrier")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # unconfirmed: given up while the carrier could not answer, after a request that may have
    #   reached it; never released blind: the sweep asks the carrier by key until it says,
    #   then delivered (it applied the pack: charged) or failed (it did not: released).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.DELIVERING}),
        Status.DELIVERING: frozenset(
            {Status.DELIVERING, Status.UNCONFIRMED, Status.DELIVERED, Status.FAILED}
        ),
        Status.UNCONFIRMED: frozenset({Status.DELIVERED, Status.FAILED}),
        Status.DELIVERED: frozenset(),
        Status.FAILED: frozenset(),
    }
    OPEN = (Status.PENDING, Status.DELIVERING)

    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sponsor"),
        help_text="The partner company's owner: its enterprise prepaid account pays",
    )
    sponsor_name = models.CharField(_("sponsor name"), max_length=200)
    request_id = models.CharField(_("request id"), max_length=128)
    msisdn = models.CharField(_("msisdn"), max_length=20)
    pack_code = models.CharField(_("pack code"), max_length=64)
    volume_mb = models.PositiveIntegerField(_("volume (MB)"))
    validity_days = models.PositiveIntegerField(_("validity (days)"))
    price_fen = models.BigIntegerField(_("price fen"))
    month = models.CharField(
        _("month"), max_length=7, help_text="YYYY-MM in Asia/Shanghai: the limits' period"
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=128)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A request may have reached the carrier with its outcome unknown (a timeout after sending):
    # giving up then asks the carrier first (``unconfirmed``), never releases the price blind.
    maybe_applied = models.BooleanField(_("maybe applied"), default=False)
    carrier_request_id = models.CharField(_("carrier request id"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sponsored data grant")
        verbose_name_plural = _("sponsored data grants")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sponsor", "request_id"], name="enterprise_sponsored_request_once"
            ),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="enterprise_sponsored_price"),
        ]
        indexes = [
            models.Index(fields=["sponsor", "month"], name="enterprise_sponsored_month"),
            models.Index(
                fields=["status", "updated_at"],
                name="enterprise_sponsored_open",
                condition=Q(status__in=["pending", "delivering", "unconfirmed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sponsor_id}:{self.request_id}"


class SponsorAgreement(models.Model):
    """A partner company's sponsored data agreement (流量统付协议): its own monthly limits, set by
    an operator. An empty limit is the platform's default, the setting
    ``SPONSORED_DATA_MONTHLY_FEN_PER_PARTNER`` or ``SPONSORED_DATA_MONTHLY_GRANTS_PER_SUBSCRIBER``.
    Written through ``sponsored.sponsor_agreement_save`` only (audit, the sponsor's lock)."""

    sponsor = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sponsor"),
        help_text=_("The partner company's owner: its enterprise prepaid account pays"),
    )
    monthly_limit_fen = models.PositiveBigIntegerField(
        _("monthly limit (fen)"),
        null=True,
        blank=True,
        help_text=_(
            "What the partner may spend on sponsored data in a calendar month; "
            "empty: the platform's default"
        ),
    )
    grants_per_number = models.PositiveIntegerField(
        _("packs per number per month"),
        null=True,
        blank=True,
        help_text=_(
            "How many packs one number may receive from the partner in a calendar month; "
            "empty: the platform's default"
        ),
    )
    updated_by = models.BigIntegerField(_("updated by"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sponsored data agreement")
        verbose_name_plural = _("sponsored data agreements")
        ordering = ["sponsor_id"]

    def __str__(self) -> str:
        return str(self.sponsor_id)
