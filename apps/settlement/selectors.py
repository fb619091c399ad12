"""Settlement reads: statements for consoles and the workbench, counts for the home pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apps.settlement.errors import StatementNotFound
from apps.settlement.models import ReconDifference, Statement


@dataclass(frozen=True)
class StatementView:
    id: int
    kind: str
    party_id: int
    account_code: str
    period_start: dt.date
    period_end: dt.date
    status: str
    lines_count: int
    volume_fen: int
    refunds_fen: int
    chargebacks_fen: int
    complaints_fen: int
    share_fen: int
    deductions_fen: int
    party_fen: int
    commission_fen: int
    carried_in_fen: int
    payout_fen: int
    carry_out_fen: int
    tie_out_ok: bool


@dataclass(frozen=True)
class StatementLineView:
    at: dt.datetime
    journal_kind: str
    reference: str
    category: str
    amount_fen: int


def _view(row: Statement) -> StatementView:
    return StatementView(
        **{name: getattr(row, name) for name in StatementView.__dataclass_fields__}
    )


def statements_for_party(*, kind: str, party_id: int) -> list[StatementView]:
    """A counterparty's statements past the draft stage (what it may see), newest first."""
    rows = Statement.objects.filter(kind=kind, party_id=party_id).exclude(
        status=Statement.Status.DRAFT
    )
    return [_view(row) for row in rows.order_by("-period_start")]


def statement_for_party(*, statement_id: int, kind: str, party_id: int) -> StatementView:
    """One statement, only if it is the party's and past the draft stage; otherwise
    ``StatementNotFound`` (another party's statement does not exist for this one)."""
    row = (
        Statement.objects.filter(pk=statement_id, kind=kind, party_id=party_id)
        .exclude(status=Statement.Status.DRAFT)
        .first()
    )
    if row is None:
        raise StatementNotFound(details={"statement_id": statement_id})
    return _view(row)


def statement_get(*, statement_id: int) -> StatementView:
    row = Statement.objects.filter(pk=statement_id).first()
    if row is None:
        raise StatementNotFound(details={"statement_id": statement_id})
    return _view(row)


def statement_lines(*, statement_id: int) -> list[StatementLineView]:
    rows = Statement.objects.get(pk=statement_id).lines.order_by("at", "id")
    return [
        StatementLineView(r.at, r.journal_kind, r.reference, r.category, r.amount_fen) for r in rows
    ]


@dataclass(frozen=True)
class WorkCounts:
    statements_awaiting_confirmation: int
    statements_failing_tie_out: int
    reconciliation_differences_open: int


def work_counts() -> WorkCounts:
    """What waits for finance, for the workbench home page (analytics reads this)."""
    drafts = Statement.objects.filter(status=Statement.Status.DRAFT)
    return WorkCounts(
        statements_awaiting_confirmation=drafts.filter(tie_out_ok=True).count(),
        statements_failing_tie_out=drafts.filter(tie_out_ok=False).count(),
        reconciliation_differences_open=ReconDifference.objects.exclude(
            status=ReconDifference.Status.RESOLVED
        ).count(),
    )
