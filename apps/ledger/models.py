"""The book's tables: accounts, their running balances, journals and their lines.

Amounts are signed integers: a debit is positive, a credit negative, so every journal sums to
zero. CNY accounts count fen; POINTS accounts count points (the column keeps its ``_fen`` name
so that one code path serves both units). Journals and lines are append-only; the database
enforces that, and that every journal balances, with triggers from migration 0002.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    REVENUE = "revenue", _("Revenue")
    EXPENSE = "expense", _("Expense")
    EQUITY = "equity", _("Equity")


class AccountUnit(models.TextChoices):
    CNY = "CNY", _("CNY (fen)")
    POINTS = "POINTS", _("Points")


MAX_BALANCE_SLOTS = 64


class LedgerAccount(models.Model):
    """One account of the book, named by a stable ``code`` such as ``clearing:alipay``."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    unit = models.CharField(
        _("unit"), max_length=8, choices=AccountUnit.choices, default=AccountUnit.CNY
    )
    # Postings spread this account's balance over this many sub-balance rows
    # (``AccountBalanceSlot``), so that they do not all queue on one row lock; 1 keeps it in
    # its ``AccountBalance`` row alone. Only for accounts without a floor: the database refuses
    # it for a party's points holding, whose floor is checked against its one locked row.
    balance_slots = models.PositiveSmallIntegerField(_("balance slots"), default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AccountKind.values),
                name="ledger_account_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(unit__in=AccountUnit.values), name="ledger_account_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(balance_slots__gte=1, balance_slots__lte=MAX_BALANCE_SLOTS),
                name="ledger_account_balance_slots_range",
            ),
            models.CheckConstraint(
                condition=Q(balance_slots=1)
                | ~Q(unit=AccountUnit.POINTS, kind=AccountKind.LIABILITY),
                name="ledger_account_points_holding_single_row",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class AccountBalance(models.Model):
    """An account's running balance, moved by the posting service in the journal's transaction.

    The row is the lock that serialises postings to one account. For an account spread over
    slots (``LedgerAccount.balance_slots`` > 1) postings move its ``AccountBalanceSlot`` rows
    instead, and its balance is this row plus the sum of those; ``ledger_check`` compares that
    with the sum of the account's lines.
    """

    account = models.OneToOneField(
        LedgerAccount, primary_key=True, on_delete=models.PROTECT, related_name="balance"
    )
    balance_fen = models.BigIntegerField(_("balance"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("account balance")
        verbose_name_plural = _("account balances")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance_fen}"


class AccountBalanceSlot(models.Model):
    """One sub-balance of a hot account: a posting moves the slot its journal's key picks.

    Created by the first posting that lands in it (an upsert); summed with the account's
    ``AccountBalance`` row by every reader. Never on a party's points holding (a trigger from
    migration 0004 refuses it), so that a holding's floor is checked against one locked row.
    """

    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="balance_slot_rows", db_index=False
    )
    slot = models.PositiveSmallIntegerField(_("slot number"))
    balance_fen = models.BigIntegerField(_("balance"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("account balance slot")
        verbose_name_plural = _("account balance slots")
        constraints = [
            # Also the index readers sum an account's slots by.
            models.UniqueConstraint(fields=["account", "slot"], name="ledger_balance_slot_unique"),
            models.CheckConstraint(
                condition=Q(slot__lt=MAX_BALANCE_SLOTS), name="ledger_balance_slot_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}[{self.slot}]: {self.balance_fen}"


class Journal(models.Model):
    """One business event, posted once under its idempotency key; corrections are reversals."""

    idempotency_key = models.CharField(_("idempotency key"), max_length=128, unique=True)
    kind = models.CharField(_("kind"), max_length=32, db_index=True)
    reference = models.CharField(_("reference"), max_length=64, db_index=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    # sha256 of kind, reference, reversal_of and the lines merged per account, sorted: a repeat
    # under the same key is told from a different request by this alone.
    content_hash = models.CharField(max_length=64)
    reversal_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reversal of"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("journal")
        verbose_name_plural = _("journals")
        constraints = [
            # A reversal always names what it reverses, and nothing else does.
            models.CheckConstraint(
                condition=(Q(kind="reversal") & Q(reversal_of__isnull=False))
                | (~Q(kind="reversal") & Q(reversal_of__isnull=True)),
                name="ledger_journal_reversal_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.reference}"


class JournalLine(models.Model):
    """One signed movement on one account (debit > 0, credit < 0; never zero).

    The table is RANGE-partitioned by month on ``created_at`` (migration 0005,
    ``apps.core.partitions``), primary key ``(created_at, id)`` in the database while the model
    keeps ``id``: nothing holds a foreign key to a line, every line carries its journal's
    ``created_at`` (the balance trigger refuses one that does not, and reads a journal's lines
    in that one partition), and reads by account go through the (account, created_at) index,
    bounded by time so they prune to the months they name.
    """

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="lines")
    # The (account, created_at) index below serves lookups by account; a second one is waste.
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    amount_fen = models.BigIntegerField(_("amount"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        indexes = [
            models.Index(fields=["account", "created_at"], name="ledger_line_account_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_fen=0), name="ledger_line_amount_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount_fen}"
