"""The reports' rows, read from the ledger (the figures are its sums, to the fen) and from
settlement's own statements. Each source yields rows lazily; amounts are yuan strings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.money import format_fen
from apps.ledger import selectors as ledger
from apps.marketing.pricing import spread
from apps.orders import selectors as orders
from apps.orders.selectors import RevenueLine
from apps.settlement.counterparties import KINDS
from apps.settlement.models import ReconBatch, Statement, StatementLine
from apps.settlement.services import SHANGHAI, day_start

Row = list[Any]


def yuan(fen: int) -> str:
    """Amounts in reports: yuan with two decimals, no symbol or grouping (spreadsheets)."""
    return format_fen(fen, symbol="").replace(",", "")


@dataclass(frozen=True)
class Params:
    start: dt.date
    end: dt.date  # exclusive
    kind: str = ""
    party_id: int | None = None
    account_code: str = ""
    statement_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "kind": self.kind,
            "party_id": self.party_id,
            "account_code": self.account_code,
            "statement_id": self.statement_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Params:
        return cls(
            start=dt.date.fromisoformat(data["start"]),
            end=dt.date.fromisoformat(data["end"]),
            kind=data.get("kind") or "",
            party_id=data.get("party_id"),
            account_code=data.get("account_code") or "",
            statement_id=data.get("statement_id"),
        )


@dataclass(frozen=True)
class Report:
    code: str
    title: str | Promise
    header: list[str | Promise]
    rows: Any  # Callable[[Params], Iterator[Row]]


def _statements(params: Params) -> Iterator[Row]:
    rows = Statement.objects.filter(period_start__gte=params.start, period_end__lte=params.end)
    if params.kind:
        rows = rows.filter(kind=params.kind)
    if params.party_id is not None:
        rows = rows.filter(party_id=params.party_id)
    for s in rows.order_by("kind", "party_id", "period_start").iterator(chunk_size=2000):
        yield [
            s.pk,
            s.kind,
            s.party_id,
            s.account_code,
            s.period_start.isoformat(),
            s.period_end.isoformat(),
            s.status,
            s.lines_count,
            yuan(s.volume_fen),
            yuan(s.refunds_fen),
            yuan(s.deductions_fen),
            yuan(s.party_fen),
            yuan(s.commission_fen),
            yuan(s.carried_in_fen),
            yuan(s.payout_fen),
            yuan(s.carry_out_fen),
            "Y" if s.tie_out_ok else "N",
        ]


def _statement_lines(params: Params) -> Iterator[Row]:
    rows = StatementLine.objects.filter(statement_id=params.statement_id or 0).order_by("at", "id")
    for line in rows.iterator(chunk_size=5000):
        yield [
            line.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            line.journal_kind,
            line.reference,
            line.category,
            yuan(line.amount_fen),
        ]


def _payments_by_method(params: Params) -> Iterator[Row]:
    """Per day and provider: what came into its clearing account (payments), what went out
    (refunds), and the net, from the ledger's clearing accounts."""
    day = params.start
    codes = ledger.account_codes(prefix="clearing:")
    while day < params.end:
        following = day + dt.timedelta(days=1)
        moved = {
            row.code: row
            for row in ledger.movements(start=day_start(day), end=day_start(following))
        }
        for code in codes:
            if code in moved:
                row = moved[code]
                yield [
                    day.isoformat(),
                    code.split(":", 1)[1],
                    yuan(row.debit_fen),
                    yuan(row.credit_fen),
                    yuan(row.net_fen),
                ]
        day = following


def _trial_balance(params: Params) -> Iterator[Row]:
    for row in ledger.movements(start=day_start(params.start), end=day_start(params.end)):
        yield [
            row.code,
            row.name,
            row.kind,
            yuan(row.debit_fen),
            yuan(row.credit_fen),
            yuan(row.net_fen),
        ]


def _account_movements(params: Params) -> Iterator[Row]:
    for line in ledger.account_period_lines(
        code=params.account_code, start=day_start(params.start), end=day_start(params.end)
    ):
        yield [
            line.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            line.journal_id,
            line.kind,
            line.reference,
            yuan(line.amount_fen),
        ]


def _revenue(params: Params) -> Iterator[Row]:
    """Revenue by source: the platform's revenue from orders by product kind, the rest by
    journal kind (content shares, enterprise deliveries, partner invoices, commissions…),
    together the movement of ``platform:revenue`` to the fen; then each counterparty's gross
    sales and what the platform kept of them, from the ledger."""
    start, end = day_start(params.start), day_start(params.end)
    by_product_kind, by_journal_kind = revenue_split(start=start, end=end)
    for kind, fen in sorted(by_product_kind.items()):
        yield ["product_kind", kind, "platform:revenue", yuan(fen)]
    for kind, fen in sorted(by_journal_kind.items()):
        yield ["platform", kind, "platform:revenue", yuan(fen)]
    for counterparty in KINDS.values():
        if params.kind and counterparty.code != params.kind:
            continue
        for code, total in ledger.movements_by_account(
            prefix=f"{counterparty.code}:", start=start, end=end
        ):
            party = counterparty.party_of(code)
            if party is not None:
                yield [counterparty.code, party, code, yuan(counterparty.owed(total))]


def _order_weights(journal_kind: str, reference: str, lines: list[RevenueLine]) -> dict[int, int]:
    """How one journal's revenue splits over its order's lines: payments by what each line
    was paid, a refund over the lines whose refund was asked (all, if none is marked), a
    marketing discount (bare order number) by each line's discount; by the line's goods when
    those weights are all zero."""
    if not reference.startswith("order:"):
        weights = {ln.line_id: ln.discount_fen for ln in lines}
    elif journal_kind.startswith("refund"):
        asked = [ln for ln in lines if ln.refund_requested] or lines
        weights = {ln.line_id: ln.paid_fen for ln in asked}
    else:
        weights = {ln.line_id: ln.paid_fen for ln in lines}
    if sum(weights.values()) <= 0:
        weights = {ln.line_id: ln.paid_fen + ln.discount_fen for ln in lines}
    return weights


def revenue_split(*, start: dt.datetime, end: dt.datetime) -> tuple[dict[str, int], dict[str, int]]:
    """The platform's revenue in ``[start, end)`` (credits positive): the part booked on orders
    (journals referencing ``order:<number>``, and marketing's discount journals referencing the
    bare number) spread over each order's lines by product kind (largest remainder, to the
    fen), and the rest by journal kind. The two add up to the movement of
    ``platform:revenue``. Read in chunks of references, never the whole period at once."""
    by_product_kind: dict[str, int] = {}
    by_journal_kind: dict[str, int] = {}

    def add(into: dict[str, int], key: str, fen: int) -> None:
        into[key] = into.get(key, 0) + fen

    def flush(chunk: list[tuple[str, str, int]]) -> None:
        numbers = sorted({ref.removeprefix("order:") for _kind, ref, _net in chunk if ref})
        lines = orders.revenue_lines(numbers=numbers)
        for journal_kind, reference, net in chunk:
            fen = -net  # revenue is credited
            order_lines = lines.get(reference.removeprefix("order:"))
            weights = _order_weights(journal_kind, reference, order_lines) if order_lines else {}
            if not weights or sum(weights.values()) <= 0:
                add(by_journal_kind, journal_kind, fen)
                continue
            kinds = {ln.line_id: ln.kind for ln in order_lines or []}
            sign = 1 if fen >= 0 else -1
            for line_id, share in spread(abs(fen), weights).items():
                add(by_product_kind, kinds[line_id], sign * share)

    chunk: list[tuple[str, str, int]] = []
    for row in ledger.net_by_reference(code="platform:revenue", start=start, end=end):
        chunk.append(row)
        if len(chunk) >= 2000:
            flush(chunk)
            chunk = []
    flush(chunk)
    return by_product_kind, by_journal_kind


def _reconciliation(params: Params) -> Iterator[Row]:
    """Each day's bill per provider with its results, then its differences."""
    batches = ReconBatch.objects.filter(bill_date__gte=params.start, bill_date__lt=params.end)
    for batch in batches.order_by("bill_date", "provider"):
        yield [
            batch.bill_date.isoformat(), batch.provider, "batch", batch.status, batch.rows,
            yuan(batch.bill_net_fen), yuan(batch.ledger_net_fen),
            "Y" if batch.tie_out_ok else "N",
            "; ".join(f"{k}={v}" for k, v in batch.counts.items()), batch.error[:200],
        ]  # fmt: skip
        for d in batch.differences.order_by("pk").iterator(chunk_size=2000):
            yield [batch.bill_date.isoformat(), batch.provider, d.kind, d.status, d.key,
                   yuan(d.difference_fen), "", "", d.resolution[:200], ""]  # fmt: skip


REPORTS: dict[str, Report] = {
    report.code: report
    for report in (
        Report(
            "statements",
            _("Statements"),
            [
                _("Id"),
                _("Counterparty kind"),
                _("Counterparty"),
                _("Account"),
                _("Period start"),
                _("Period end (exclusive)"),
                _("Status"),
                _("Lines"),
                _("Sales"),
                _("Refunds"),
                _("Deductions"),
                _("Counterparty amount"),
                _("Commission"),
                _("Carried in"),
                _("Payout"),
                _("Carried over"),
                _("Ties out"),
            ],
            _statements,
        ),
        Report(
            "statement_lines",
            _("Statement lines"),
            [_("Time"), _("Journal kind"), _("Reference"), _("Category"), _("Amount")],
            _statement_lines,
        ),
        Report(
            "payments_by_method",
            _("Daily payments by method"),
            [_("Business date"), _("Method"), _("Received"), _("Paid out"), _("Net")],
            _payments_by_method,
        ),
        Report(
            "trial_balance",
            _("Trial balance"),
            [
                _("Account"),
                _("Account name"),
                _("Account kind"),
                _("Debits"),
                _("Credits"),
                _("Net"),
            ],
            _trial_balance,
        ),
        Report(
            "account_movements",
            _("Account movements"),
            [_("Time"), _("Journal"), _("Journal kind"), _("Reference"), _("Amount")],
            _account_movements,
        ),
        Report(
            "reconciliation",
            _("Reconciliation results"),
            [
                _("Business date"),
                _("Provider"),
                _("Row kind"),
                _("Status"),
                _("Rows or key"),
                _("Bill net or difference"),
                _("Clearing account"),
                _("Ties out"),
                _("Results or resolution"),
                _("Error"),
            ],
            _reconciliation,
        ),
        Report(
            "revenue",
            _("Revenue by product kind and counterparty"),
            [_("Source"), _("Product kind or counterparty"), _("Account"), _("Amount")],
            _revenue,
        ),
    )
}
