"""Workbench: accounts with their balances and journals with their lines, all read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.money import format_fen
from apps.ledger.models import (
    AccountBalanceSlot,
    AccountUnit,
    Journal,
    JournalLine,
    LedgerAccount,
)
from apps.ledger.selectors import balance_slots_sum


def _amount(value: int | None, unit: str) -> str:
    if value is None:
        return "-"
    return format_fen(value) if unit == AccountUnit.CNY else f"{value:,}"


_ACCOUNT_FIELDS = (
    "code",
    "name",
    "kind",
    "unit",
    "balance_slots",
    "balance_amount",
    "balance_updated_at",
    "created_at",
)

_LINE_FIELDS = ("account", "debit", "credit", "created_at")

_JOURNAL_FIELDS = (
    "id",
    "created_at",
    "kind",
    "reference",
    "description",
    "total",
    "idempotency_key",
    "reversal_of",
    "reversed_by_link",
    "content_hash",
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The book is written only by the ledger's services; here it is read."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind", "unit", "balance_amount", "balance_updated_at"]
    list_filter = ["kind", "unit"]
    search_fields = ["code", "name"]
    list_select_related = ["balance"]
    fields = _ACCOUNT_FIELDS
    readonly_fields = _ACCOUNT_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[LedgerAccount]:
        # A spread account's balance is its row plus its slots, as every reader adds them.
        last_slot = (
            AccountBalanceSlot.objects.filter(account_id=OuterRef("pk"))
            .order_by("-updated_at")
            .values("updated_at")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                balance_total=F("balance__balance_fen") + balance_slots_sum(OuterRef("pk")),
                balance_moved_at=Greatest(
                    "balance__updated_at", Coalesce(Subquery(last_slot), "balance__updated_at")
                ),
            )
        )

    @admin.display(description=_("balance"), ordering="balance_total")
    def balance_amount(self, obj: LedgerAccount) -> str:
        total = getattr(obj, "balance_total", None)
        return _amount(None if total is None else int(total), obj.unit)

    @admin.display(description=_("balance updated at"), ordering="balance_moved_at")
    def balance_updated_at(self, obj: LedgerAccount) -> object:
        return getattr(obj, "balance_moved_at", None)


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    fields = _LINE_FIELDS
    readonly_fields = _LINE_FIELDS
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[JournalLine]:
        return super().get_queryset(request).select_related("account")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("debit"))
    def debit(self, obj: JournalLine) -> str:
        return _amount(obj.amount_fen, obj.account.unit) if obj.amount_fen > 0 else ""

    @admin.display(description=_("credit"))
    def credit(self, obj: JournalLine) -> str:
        return _amount(-obj.amount_fen, obj.account.unit) if obj.amount_fen < 0 else ""


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "kind", "reference", "total", "idempotency_key"]
    list_filter = ["kind"]
    search_fields = ["=reference", "=idempotency_key"]
    date_hierarchy = "created_at"
    fields = _JOURNAL_FIELDS
    readonly_fields = _JOURNAL_FIELDS
    inlines = [JournalLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Journal]:
        # Debits only: a balanced journal's credits are the same amount again.
        return (
            super()
            .get_queryset(request)
            .annotate(
                debits=Sum("lines__amount_fen", filter=Q(lines__amount_fen__gt=0)),
                unit=Min("lines__account__unit"),
            )
        )

    @admin.display(description=_("amount"), ordering="debits")
    def total(self, obj: Journal) -> str:
        return _amount(getattr(obj, "debits", None), getattr(obj, "unit", AccountUnit.CNY))

    @admin.display(description=_("reversed by"))
    def reversed_by_link(self, obj: Journal) -> str:
        reversal = Journal.objects.filter(reversal_of=obj).first()
        return str(reversal) if reversal else "-"
