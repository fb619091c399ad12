"""Settlement's tables: rules per counterparty, batches, statements and their lines.

A statement is one counterparty's settlement for one period, built from the ledger lines of
its account (``counterparties.Kind.account_code``); its lines are copies of those lines, so
that the statement ties out against the ledger and stays readable as the book grows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.settlement import rules
from apps.settlement.counterparties import KIND_CHOICES


class SettlementRule(models.Model):
    """One version of a counterparty's rule, in force from ``effective_from`` until the next
    version's date. ``party_id`` empty: the kind's default for parties without their own."""

    class Method(models.TextChoices):
        PERCENTAGE = rules.PERCENTAGE, _("Percentage")
        TIERED = rules.TIERED, _("Tiered by monthly volume")
        PER_UNIT = rules.PER_UNIT, _("Fixed fee per unit")

    kind = models.CharField(_("counterparty kind"), max_length=16, choices=KIND_CHOICES)
    party_id = models.BigIntegerField(_("counterparty id"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    rate = models.DecimalField(_("share rate"), max_digits=7, decimal_places=6, default=0)
    # [[volume_from_fen, "rate"], ...] ascending
    tiers = models.JSONField(_("tiers"), default=list, blank=True)
    unit_fee_fen = models.BigIntegerField(_("fee per unit (fen)"), default=0)
    deduct_refunds = models.BooleanField(_("deduct refunds"), default=True)
    deduct_chargebacks = models.BooleanField(_("deduct chargebacks"), default=True)
    complaint_fee_fen = models.BigIntegerField(_("fee per complaint (fen)"), default=0)
    minimum_payout_fen = models.BigIntegerField(_("minimum payout (fen)"), default=0)
    effective_from = models.DateField(_("effective from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["kind", "party_id", "effective_from"]
        verbose_name = _("settlement rule")
        verbose_name_plural = _("settlement rules")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "party_id", "effective_from"],
                name="settlement_rule_one_per_day",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=1), name="settlement_rule_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(unit_fee_fen__gte=0)
                & Q(complaint_fee_fen__gte=0)
                & Q(minimum_payout_fen__gte=0),
                name="settlement_rule_fees_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.party_id or '*'} {self.method} from {self.effective_from}"


class SettlementBatch(models.Model):
    """One run of a kind's settlement for a period; the same period is one batch, ever."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("counterparty kind"), max_length=16, choices=KIND_CHOICES)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end (exclusive)"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    parties_total = models.PositiveIntegerField(_("counterparties"), default=0)
    parties_done = models.PositiveIntegerField(_("counterparties done"), default=0)
    tie_out_failures = models.PositiveIntegerField(_("tie-out failures"), default=0)
    error = models.TextField(_("error"), blank=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("run by"),
    )
    runs = models.PositiveIntegerField(_("runs"), default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "kind"]
        verbose_name = _("settlement batch")
        verbose_name_plural = _("settlement batches")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period_start", "period_end"],
                name="settlement_batch_one_per_period",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="settlement_batch_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start}..{self.period_end}"

    @property
    def progress_percent(self) -> int:
        if not self.parties_total:
            return 100 if self.status == self.Status.DONE else 0
        return self.parties_done * 100 // self.parties_total


class Statement(models.Model):
    """One counterparty's settlement for one period (draft → confirmed → paid | disputed)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        PAID = "paid", _("Paid")
        DISPUTED = "disputed", _("Disputed")

    TRANSITIONS = {
        Status.DRAFT: frozenset({Status.CONFIRMED, Status.DISPUTED}),
        Status.CONFIRMED: frozenset({Status.PAID, Status.DISPUTED}),
        Status.DISPUTED: frozenset({Status.DRAFT}),
        Status.PAID: frozenset(),
    }

    batch = models.ForeignKey(SettlementBatch, on_delete=models.PROTECT, related_name="statements")
    kind = models.CharField(_("counterparty kind"), max_length=16, choices=KIND_CHOICES)
    party_id = models.BigIntegerField(_("counterparty id"))
    account_code = models.CharField(_("ledger account"), max_length=64)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end (exclusive)"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    lines_count = models.PositiveIntegerField(_("lines"), default=0)
    lines_total_fen = models.BigIntegerField(_("sum of the lines"), default=0)
    ledger_movement_fen = models.BigIntegerField(_("ledger movement"), default=0)
    tie_out_ok = models.BooleanField(_("ties out"), default=False)
    volume_fen = models.BigIntegerField(_("sales"), default=0)
    units = models.PositiveIntegerField(_("units"), default=0)
    refunds_fen = models.BigIntegerField(_("refunds"), default=0)
    chargebacks_fen = models.BigIntegerField(_("chargebacks"), default=0)
    complaints_fen = models.BigIntegerField(_("complaints"), default=0)
    adjustments_fen = models.BigIntegerField(_("adjustments"), default=0)
    share_fen = models.BigIntegerField(_("share"), default=0)
    deductions_fen = models.BigIntegerField(_("deductions"), default=0)
    party_fen = models.BigIntegerField(_("counterparty amount"), default=0)
    commission_fen = models.BigIntegerField(_("platform commission"), default=0)
    carried_in_fen = models.BigIntegerField(_("carried in"), default=0)
    minimum_payout_fen = models.BigIntegerField(_("minimum payout"), default=0)
    payout_fen = models.BigIntegerField(_("payout"), default=0)
    carry_out_fen = models.BigIntegerField(_("carried over"), default=0)
    rules_applied = models.JSONField(_("rules applied"), default=list, blank=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    commission_journal_id = models.BigIntegerField(null=True, blank=True)
    payout_journal_id = models.BigIntegerField(null=True, blank=True)
    dispute_note = models.TextField(_("dispute notes"), blank=True)
    # Bumped when a disputed statement is reopened: its next confirmation posts under a new key.
    revision = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(_("built at"), default=timezone.now)

    class Meta:
        ordering = ["-period_start", "kind", "party_id"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "party_id", "period_start", "period_end"],
                name="settlement_statement_one_per_period",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="settlement_statement_status")]

    def __str__(self) -> str:
        return f"{self.account_code} {self.period_start}..{self.period_end}"


class StatementLine(models.Model):
    """A copy of one ledger line on the statement's account within its period."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    journal_id = models.BigIntegerField()
    journal_kind = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    at = models.DateTimeField()
    category = models.CharField(max_length=16)
    amount_fen = models.BigIntegerField()  # as booked: debit > 0, credit < 0

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")

    def __str__(self) -> str:
        return f"{self.journal_kind} {self.reference}: {self.amount_fen}"


class ReportExport(models.Model):
    """One finance report requested from the workbench, written to a file by a worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    report = models.CharField(_("report"), max_length=32)
    params = models.JSONField(_("parameters"), default=dict)
    fmt = models.CharField(_("format"), max_length=8, choices=Format.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    rows_written = models.BigIntegerField(_("rows written"), default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report export")
        verbose_name_plural = _("report exports")

    def __str__(self) -> str:
        return f"{self.report}.{self.fmt} #{self.pk}"


class PartnerInvoice(models.Model):
    """A capability partner's monthly invoice: its metered production calls at its packages'
    prices, posted once to the ledger as a receivable (``partner:<id>:receivable``)."""

    partner_id = models.BigIntegerField(_("partner"))
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end (exclusive)"))
    amount_fen = models.BigIntegerField(_("amount"))
    # [{"app_id", "capability", "package", "calls", "price_per_call_fen", "amount_fen"}, ...]
    lines = models.JSONField(_("lines"), default=list)
    journal_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-period_start", "partner_id"]
        verbose_name = _("partner invoice")
        verbose_name_plural = _("partner invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["partner_id", "period_start", "period_end"],
                name="settlement_partner_invoice_one_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"partner {self.partner_id} {self.period_start}..{self.period_end}"


class ReconBatch(models.Model):
    """One provider's daily bill, downloaded, parsed and matched once (T+1)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    provider = models.CharField(_("provider"), max_length=20)
    bill_date = models.DateField(_("bill date"))
    merchant_id = models.CharField(_("merchant id"), max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    file_sha256 = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField(_("bill rows"), default=0)
    counts = models.JSONField(_("results"), default=dict, blank=True)
    bill_net_fen = models.BigIntegerField(_("bill net"), default=0)
    ledger_net_fen = models.BigIntegerField(_("clearing account movement"), default=0)
    tie_out_ok = models.BooleanField(_("ties out"), default=False)
    fees_fen = models.BigIntegerField(_("fees"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-bill_date", "provider"]
        verbose_name = _("reconciliation batch")
        verbose_name_plural = _("reconciliation batches")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "bill_date"], name="settlement_recon_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.bill_date}"


class ReconDifference(models.Model):
    """One row the bill and the platform disagree on, worked open → investigating → resolved."""

    class Kind(models.TextChoices):
        AMOUNT = "amount_mismatch", _("Amount differs")
        STATUS = "status_mismatch", _("Status differs")
        PROVIDER_ONLY = "provider_only", _("Only at the provider")
        PLATFORM_ONLY = "platform_only", _("Only on the platform")
        CROSS_DAY = "cross_day", _("Cleared on another day")
        FEE = "fee_mismatch", _("Fee differs from the contract")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        INVESTIGATING = "investigating", _("Investigating")
        RESOLVED = "resolved", _("Resolved")

    TRANSITIONS = {
        Status.OPEN: frozenset({Status.INVESTIGATING, Status.RESOLVED}),
        Status.INVESTIGATING: frozenset({Status.RESOLVED}),
        Status.RESOLVED: frozenset(),
    }

    batch = models.ForeignKey(
        ReconBatch,
        on_delete=models.PROTECT,
        related_name="differences",
        verbose_name=_("reconciliation batch"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    key = models.CharField(_("out-trade-no or refund number"), max_length=64)
    bill_row = models.JSONField(_("at the provider"), null=True, blank=True)
    platform_row = models.JSONField(_("on the platform"), null=True, blank=True)
    difference_fen = models.BigIntegerField(_("difference"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.TextField(_("resolution"), blank=True)
    journal_id = models.BigIntegerField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("reconciliation difference")
        verbose_name_plural = _("reconciliation differences")
        indexes = [models.Index(fields=["status", "kind"], name="settlement_recondiff_queue")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
