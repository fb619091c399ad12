"""Ledger reads as plain data: balances, journals, the trial balance and the consistency check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.ledger.errors import JournalNotFound, UnknownAccount
from apps.ledger.models import (
    AccountBalance,
    AccountBalanceSlot,
    Journal,
    JournalLine,
    LedgerAccount,
)


@dataclass(frozen=True)
class LineView:
    account_code: str
    amount_fen: int  # debit > 0, credit < 0; points for POINTS accounts


@dataclass(frozen=True)
class JournalView:
    id: int
    idempotency_key: str
    kind: str
    reference: str
    description: str
    unit: str
    reversal_of_id: int | None
    created_at: datetime
    lines: tuple[LineView, ...]  # one per account, sorted by account code


@dataclass(frozen=True)
class BalanceRow:
    code: str
    name: str
    kind: str
    unit: str
    # The running balance (AccountBalance plus the account's slots); None if the row is missing.
    balance_fen: int | None
    lines_sum_fen: int  # the sum of the account's lines
    agrees: bool  # the balance row exists and equals the sum of the lines


def balance_slots_sum(account: Any) -> Coalesce:
    """The sum of an account's sub-balance rows (0 for a single-row account), as a subquery."""
    return Coalesce(
        Subquery(
            AccountBalanceSlot.objects.filter(account_id=account)
            .order_by()
            .values("account_id")
            .annotate(total=Sum("balance_fen"))
            .values("total")
        ),
        Value(0),
    )


def account_balance(*, code: str) -> int:
    """The running balance of ``code`` (debit-positive): its ``AccountBalance`` row plus its
    sub-balance rows (``AccountBalanceSlot``, for a spread account), in one query."""
    balance = (
        AccountBalance.objects.filter(account__code=code)
        .annotate(total=F("balance_fen") + balance_slots_sum(OuterRef("account_id")))
        .values_list("total", flat=True)
        .first()
    )
    if balance is None:
        raise UnknownAccount(details={"codes": [code]})
    return int(balance)


def account_balance_from_lines(*, code: str) -> int:
    """The sum of every line on ``code``: slow (reads all its lines), for reconciliation."""
    account_id = LedgerAccount.objects.filter(code=code).values_list("pk", flat=True).first()
    if account_id is None:
        raise UnknownAccount(details={"codes": [code]})
    total = JournalLine.objects.filter(account_id=account_id).aggregate(total=Sum("amount_fen"))
    return total["total"] or 0


def _views(journals: list[Journal]) -> list[JournalView]:
    """Journals with their lines, in two queries."""
    lines: dict[int, list[tuple[str, str, int]]] = {journal.pk: [] for journal in journals}
    rows = (
        JournalLine.objects.filter(journal_id__in=list(lines))
        .order_by("account__code")
        .values_list("journal_id", "account__code", "account__unit", "amount_fen")
    )
    for journal_id, code, unit, amount in rows:
        lines[journal_id].append((code, unit, amount))
    return [
        JournalView(
            id=journal.pk,
            idempotency_key=journal.idempotency_key,
            kind=journal.kind,
            reference=journal.reference,
            description=journal.description,
            unit=lines[journal.pk][0][1] if lines[journal.pk] else "",
            reversal_of_id=journal.reversal_of_id,
            created_at=journal.created_at,
            lines=tuple(LineView(code, amount) for code, _, amount in lines[journal.pk]),
        )
        for journal in journals
    ]


def journal_get(*, journal_id: int) -> JournalView:
    journal = Journal.objects.filter(pk=journal_id).first()
    if journal is None:
        raise JournalNotFound(details={"journal_id": journal_id})
    return _views([journal])[0]


def journals_for_reference(*, reference: str) -> list[JournalView]:
    """Every journal booked for ``reference`` (``order:123``), oldest first."""
    return _views(list(Journal.objects.filter(reference=reference).order_by("id")))


def trial_balance() -> list[BalanceRow]:
    """Every account's running balance (its row plus its slots) beside the sum of its lines,
    by code (one query)."""
    lines_sum = (
        JournalLine.objects.filter(account_id=OuterRef("pk"))
        .order_by()
        .values("account_id")
        .annotate(total=Sum("amount_fen"))
        .values("total")
    )
    accounts = LedgerAccount.objects.annotate(
        lines_sum=Coalesce(Subquery(lines_sum), Value(0)),
        balance_value=Subquery(
            AccountBalance.objects.filter(account_id=OuterRef("pk"))
            .annotate(total=F("balance_fen") + balance_slots_sum(OuterRef("account_id")))
            .values("total")
        ),
    ).order_by("code")
    return [
        BalanceRow(
            code=account.code,
            name=account.name,
            kind=account.kind,
            unit=account.unit,
            balance_fen=None if account.balance_value is None else int(account.balance_value),
            lines_sum_fen=account.lines_sum,
            agrees=account.balance_value == account.lines_sum,
        )
        for account in accounts
    ]


# A journal is sound with two or more lines, a zero sum and one unit; a reversal is sound when
# it and its original cancel out on every account.
_UNSOUND_JOURNALS = """
SELECT j.id, COUNT(l.id), COALESCE(SUM(l.amount_fen), 0), COUNT(DISTINCT a.unit)
FROM ledger_journal j
LEFT JOIN ledger_journalline l ON l.journal_id = j.id
LEFT JOIN ledger_ledgeraccount a ON a.id = l.account_id
GROUP BY j.id
HAVING COUNT(l.id) < 2 OR COALESCE(SUM(l.amount_fen), 0) <> 0 OR COUNT(DISTINCT a.unit) > 1
ORDER BY j.id
"""
_UNSOUND_REVERSALS = """
SELECT DISTINCT r.id, r.reversal_of_id
FROM ledger_journal r
JOIN ledger_journalline l ON l.journal_id IN (r.id, r.reversal_of_id)
WHERE r.reversal_of_id IS NOT NULL
GROUP BY r.id, r.reversal_of_id, l.account_id
HAVING SUM(l.amount_fen) <> 0
ORDER BY r.id
"""


def ledger_check() -> list[str]:
    """Problems found in the whole book, one sentence each; empty when it is healthy.

    Looks for unbalanced, one-line or mixed-unit journals (the database refuses them at commit,
    so one here means the triggers were bypassed), reversals that do not cancel their
    original, and balance rows that disagree with their lines. Reads every line: a
    reconciliation job, not a request-time check.
    """
    problems: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(_UNSOUND_JOURNALS)
        for journal_id, count, total, units in cursor.fetchall():
            problems.append(
                f"journal {journal_id} is unsound: {count} line(s), sum {total}, {units} unit(s)"
            )
        cursor.execute(_UNSOUND_REVERSALS)
        for reversal_id, original_id in cursor.fetchall():
            problems.append(f"journal {reversal_id} does not cancel journal {original_id}")
    for row in trial_balance():
        if row.balance_fen is None:
            problems.append(f"account {row.code} has no balance row")
        elif not row.agrees:
            problems.append(
                f"account {row.code}: balance {row.balance_fen} but lines sum to {row.lines_sum_fen}"
            )
    return problems


@dataclass(frozen=True)
class AccountLine:
    """One movement on an account with its journal's kind and words (a statement row)."""

    at: datetime
    kind: str
    reference: str
    description: str
    amount_fen: int  # debit > 0, credit < 0


def account_lines(*, code: str, limit: int = 50) -> list[AccountLine]:
    """The newest movements on ``code`` (one query over the (account, created_at) index); an
    unknown account has none."""
    rows = (
        JournalLine.objects.filter(account__code=code)
        .select_related("journal")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        AccountLine(
            r.created_at, r.journal.kind, r.journal.reference, r.journal.description, r.amount_fen
        )
        for r in rows
    ]


# --- Period reads for settlement and finance reports -----------------------------------------


@dataclass(frozen=True)
class PeriodLine:
    """One line on an account within a period, with its journal's words (a statement line)."""

    journal_id: int
    kind: str
    reference: str
    at: datetime
    amount_fen: int  # debit > 0, credit < 0


def account_codes(*, prefix: str, suffix: str = "") -> list[str]:
    """The codes of accounts that start with ``prefix`` and end with ``suffix``, sorted."""
    rows = LedgerAccount.objects.filter(code__startswith=prefix)
    if suffix:
        rows = rows.filter(code__endswith=suffix)
    return list(rows.order_by("code").values_list("code", flat=True))


def account_movement(*, code: str, start: datetime, end: datetime) -> int:
    """The sum of the lines on ``code`` dated in ``[start, end)`` (0 for an unknown account):
    one aggregate over the (account, created_at) index, the figure a statement ties out to."""
    total = JournalLine.objects.filter(
        account__code=code, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Sum("amount_fen"))
    return int(total["total"] or 0)


def account_period_lines(
    *, code: str, start: datetime, end: datetime, chunk_size: int = 5000
) -> Iterator[PeriodLine]:
    """The lines on ``code`` dated in ``[start, end)``, oldest first, streamed from a
    server-side cursor in chunks (a statement of a million lines is never one list)."""
    rows = (
        JournalLine.objects.filter(account__code=code, created_at__gte=start, created_at__lt=end)
        .order_by("created_at", "id")
        .values_list(
            "journal_id", "journal__kind", "journal__reference", "created_at", "amount_fen"
        )
    )
    for journal_id, kind, reference, at, amount in rows.iterator(chunk_size=chunk_size):
        yield PeriodLine(journal_id, kind, reference, at, amount)


@dataclass(frozen=True)
class MovementRow:
    code: str
    name: str
    kind: str
    debit_fen: int
    credit_fen: int  # positive: the sum of the credit lines' absolute values
    net_fen: int


def movements(*, start: datetime, end: datetime, unit: str = "CNY") -> list[MovementRow]:
    """Every account's debits, credits and net movement in ``[start, end)`` (one query), the
    trial balance of a period; accounts without lines in it are left out."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.code, a.name, a.kind,"
            " COALESCE(SUM(l.amount_fen) FILTER (WHERE l.amount_fen > 0), 0),"
            " COALESCE(-SUM(l.amount_fen) FILTER (WHERE l.amount_fen < 0), 0),"
            " SUM(l.amount_fen)"
            " FROM ledger_journalline l JOIN ledger_ledgeraccount a ON a.id = l.account_id"
            " WHERE l.created_at >= %s AND l.created_at < %s AND a.unit = %s"
            " GROUP BY a.code, a.name, a.kind ORDER BY a.code",
            [start, end, unit],
        )
        # SUM over bigint is numeric in PostgreSQL: back to whole fen.
        return [
            MovementRow(code, name, kind, int(debit), int(credit), int(net))
            for code, name, kind, debit, credit, net in cursor.fetchall()
        ]


def net_by_journal_kind(*, code: str, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """The net movement of ``code`` in ``[start, end)`` per journal kind, by kind."""
    rows = (
        JournalLine.objects.filter(account__code=code, created_at__gte=start, created_at__lt=end)
        .values_list("journal__kind")
        .annotate(net=Sum("amount_fen"))
        .order_by("journal__kind")
    )
    return [(kind, int(net)) for kind, net in rows]


def movements_by_account(*, prefix: str, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """The net movement in ``[start, end)`` of every account whose code starts with
    ``prefix``, by code; accounts without lines in the period are left out."""
    rows = (
        JournalLine.objects.filter(
            account__code__startswith=prefix, created_at__gte=start, created_at__lt=end
        )
        .values_list("account__code")
        .annotate(net=Sum("amount_fen"))
        .order_by("account__code")
    )
    return [(code, int(net)) for code, net in rows]


def net_by_reference(
    *, code: str, start: datetime, end: datetime
) -> Iterator[tuple[str, str, int]]:
    """The net movement of ``code`` in ``[start, end)`` per journal kind and reference
    (``(kind, reference, net)``), streamed: a report's breakdown by what the journals are for."""
    rows = (
        JournalLine.objects.filter(account__code=code, created_at__gte=start, created_at__lt=end)
        .values_list("journal__kind", "journal__reference")
        .annotate(net=Sum("amount_fen"))
        .order_by("journal__reference", "journal__kind")
    )
    for kind, reference, net in rows.iterator(chunk_size=5000):
        yield kind, reference, int(net)
