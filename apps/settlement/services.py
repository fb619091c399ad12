"""Settlement writes: rules, batches that build statements from the ledger, their lifecycle.

A statement is built from its counterparty's ledger account only (never from orders): every
line dated in the period is copied onto it and priced by the rules (``rules.compute``); its
lines must sum to the account's movement in the period, read by a separate ledger query
(``tie-out``). The check runs when the statement is built and again when it is confirmed,
which it blocks when it fails.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.audit import audit_record, audited_transition
from apps.ledger import selectors as ledger
from apps.ledger.services import LineSpec, account_ensure, journal_post, journal_reverse
from apps.settlement import locks, rules
from apps.settlement.counterparties import BANK_CLEARING, KINDS, PLATFORM_REVENUE, Kind
from apps.settlement.errors import (
    InvalidPeriod,
    InvalidRule,
    NoteRequired,
    RetroactiveRule,
    SameActor,
    StatementNotFound,
    StatementStateConflict,
    TieOutFailed,
    UnknownKind,
)
from apps.settlement.models import SettlementBatch, SettlementRule, Statement, StatementLine

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LINES_CHUNK = 5000
Status = Statement.Status


def kind_get(code: str) -> Kind:
    kind = KINDS.get(code)
    if kind is None:
        raise UnknownKind(details={"kind": code})
    return kind


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of an Asia/Shanghai day, the boundary of every period."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def today() -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date()


# --- Rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleInput:
    kind: str
    party_id: int | None
    method: str
    effective_from: dt.date
    rate: str = "0"
    tiers: tuple[tuple[int, str], ...] = ()
    unit_fee_fen: int = 0
    deduct_refunds: bool = True
    deduct_chargebacks: bool = True
    complaint_fee_fen: int = 0
    minimum_payout_fen: int = 0


def rule_check(rule: RuleInput) -> dict[str, Any]:
    """Validate a rule version; return the model's field values. Refuses a date before today
    (``RetroactiveRule``): a rule never reprices lines already booked."""
    kind_get(rule.kind)
    if rule.method not in rules.METHODS:
        raise InvalidRule(details={"method": rule.method})
    if rule.effective_from < today():
        raise RetroactiveRule(details={"effective_from": rule.effective_from.isoformat()})
    try:
        rate = Decimal(rule.rate)
        tiers = [(int(start), Decimal(tier_rate)) for start, tier_rate in rule.tiers]
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise InvalidRule(details={"rate": rule.rate, "tiers": rule.tiers}) from exc
    rates = [rate, *(tier_rate for _, tier_rate in tiers)]
    if any(not (0 <= r <= 1) or r != r.quantize(Decimal("0.000001")) for r in rates):
        raise InvalidRule(details={"rate": "between 0 and 1, at most 6 decimals"})
    if rule.method == rules.TIERED and (
        not tiers or tiers[0][0] != 0 or [s for s, _ in tiers] != sorted({s for s, _ in tiers})
    ):
        raise InvalidRule(details={"tiers": "ascending volumes from 0, each once"})
    if min(rule.unit_fee_fen, rule.complaint_fee_fen, rule.minimum_payout_fen) < 0:
        raise InvalidRule(details={"fees": "not negative"})
    return {
        "kind": rule.kind,
        "party_id": rule.party_id,
        "method": rule.method,
        "rate": rate,
        "tiers": [[start, str(tier_rate)] for start, tier_rate in tiers],
        "unit_fee_fen": rule.unit_fee_fen,
        "deduct_refunds": rule.deduct_refunds,
        "deduct_chargebacks": rule.deduct_chargebacks,
        "complaint_fee_fen": rule.complaint_fee_fen,
        "minimum_payout_fen": rule.minimum_payout_fen,
        "effective_from": rule.effective_from,
    }


def rule_create(*, rule: RuleInput, actor_id: int | None = None) -> int:
    """Add a rule version from ``effective_from`` (today or later); audited. A version for the
    same counterparty and day is refused (``InvalidRule``): change a future one by adding
    another date, past ones never change."""
    fields = rule_check(rule)
    try:
        with transaction.atomic():
            row = SettlementRule.objects.create(created_by_id=actor_id, **fields)
            audit_record(
                action="settlement.rule_created",
                object_type="settlement.rule",
                object_id=row.pk,
                actor_id=actor_id,
                after={k: str(v) for k, v in fields.items()},
            )
    except IntegrityError as exc:
        raise InvalidRule(details={"effective_from": "a version already starts that day"}) from exc
    return row.pk


def _terms(row: SettlementRule) -> rules.Terms:
    return rules.Terms(
        effective_from=row.effective_from,
        method=row.method,
        rate=Decimal(row.rate),
        tiers=tuple((int(start), Decimal(rate)) for start, rate in row.tiers),
        unit_fee_fen=row.unit_fee_fen,
        deduct_refunds=row.deduct_refunds,
        deduct_chargebacks=row.deduct_chargebacks,
        complaint_fee_fen=row.complaint_fee_fen,
        minimum_payout_fen=row.minimum_payout_fen,
    )


def rules_for(*, kind: str, party_id: int) -> list[rules.Terms]:
    """The party's rule versions, preceded by the kind's defaults in force before its first."""
    rows = list(SettlementRule.objects.filter(kind=kind, party_id=party_id))
    own = sorted((_terms(r) for r in rows), key=lambda t: t.effective_from)
    first = own[0].effective_from if own else dt.date.max
    defaults = [
        _terms(r)
        for r in SettlementRule.objects.filter(kind=kind, party_id__isnull=True)
        if r.effective_from < first
    ]
    return sorted(defaults, key=lambda t: t.effective_from) + own


# --- Batches and statements -----------------------------------------------------------------


@dataclass(frozen=True)
class BatchOpened:
    batch_id: int
    party_ids: list[int]


def batch_open(
    *, kind: str, period_start: dt.date, period_end: dt.date, run_by_id: int | None = None
) -> BatchOpened:
    """The period's batch, created on its first run (one per kind and period, race-safe), with
    the counterparties to settle: every party with an account of the kind."""
    counterparty = kind_get(kind)
    if period_end <= period_start or period_start > today():
        raise InvalidPeriod(
            details={"period_start": period_start.isoformat(), "period_end": period_end.isoformat()}
        )
    party_ids = sorted(
        party
        for code in ledger.account_codes(prefix=f"{kind}:", suffix=f":{counterparty.suffix}")
        if (party := counterparty.party_of(code)) is not None
    )
    with transaction.atomic():
        batch, created = SettlementBatch.objects.get_or_create(
            kind=kind,
            period_start=period_start,
            period_end=period_end,
            defaults={"run_by_id": run_by_id, "parties_total": len(party_ids)},
        )
        if not created:
            SettlementBatch.objects.filter(pk=batch.pk).update(
                runs=F("runs") + 1,
                status=SettlementBatch.Status.RUNNING,
                parties_total=len(party_ids),
                error="",
                finished_at=None,
            )
        audit_record(
            action="settlement.batch_run",
            object_type="settlement.batch",
            object_id=batch.pk,
            actor_id=run_by_id,
            after={"kind": kind, "period": f"{period_start}..{period_end}", "new": created},
        )
    return BatchOpened(batch.pk, party_ids)


def statement_build(*, batch_id: int, party_id: int, run_by_id: int | None = None) -> int:
    """Build (or rebuild, while it is a draft) the party's statement for the batch's period
    and return its id. The same period is always the same statement: concurrent builds
    serialise on its row and the later one rebuilds it to the same figures; a confirmed, paid
    or disputed statement is left as it is.

    Locks: the statement row (settlement's), then reads the ledger without locking it.
    """
    batch = SettlementBatch.objects.get(pk=batch_id)
    counterparty = kind_get(batch.kind)
    code = counterparty.account_code(party_id)
    start, end = day_start(batch.period_start), day_start(batch.period_end)
    with transaction.atomic():
        statement, _ = Statement.objects.get_or_create(
            kind=batch.kind,
            party_id=party_id,
            period_start=batch.period_start,
            period_end=batch.period_end,
            defaults={"batch": batch, "account_code": code, "run_by_id": run_by_id},
        )
        locked = locks.statement_lock(statement.pk)
        assert locked is not None
        if locked.status != Status.DRAFT:
            return locked.pk
        StatementLine.objects.filter(statement=locked).delete()
        totals = [0, 0]  # count, sum
        figures = rules.compute(
            lines=_copy_lines(locked, counterparty, code, start, end, totals),
            rules=rules_for(kind=batch.kind, party_id=party_id),
            carried_in_fen=_carried_in(locked),
            last_day=batch.period_end - dt.timedelta(days=1),
        )
        movement = ledger.account_movement(code=code, start=start, end=end)
        locked.lines_count, locked.lines_total_fen = totals
        locked.ledger_movement_fen = movement
        locked.tie_out_ok = totals[1] == movement
        for name in (
            "volume_fen",
            "units",
            "refunds_fen",
            "chargebacks_fen",
            "complaints_fen",
            "adjustments_fen",
            "share_fen",
            "deductions_fen",
            "party_fen",
            "commission_fen",
            "carried_in_fen",
            "minimum_payout_fen",
            "payout_fen",
            "carry_out_fen",
        ):
            setattr(locked, name, getattr(figures, name))
        locked.rules_applied = figures.rules
        locked.run_by_id = run_by_id
        locked.built_at = timezone.now()
        locked.save()
        audit_record(
            action="settlement.statement_built",
            object_type="settlement.statement",
            object_id=locked.pk,
            actor_id=run_by_id,
            after={
                "lines": totals[0],
                "lines_total_fen": totals[1],
                "ledger_movement_fen": movement,
                "payout_fen": figures.payout_fen,
            },
        )
    return locked.pk


def _copy_lines(
    statement: Statement, kind: Kind, code: str, start: dt.datetime, end: dt.datetime,
    totals: list[int],
) -> Iterator[rules.Line]:  # fmt: skip
    """Copy the account's period lines onto the statement in chunks (PostgreSQL COPY: a
    million lines would spend most of their time in the ORM's INSERT otherwise) while
    yielding them to the arithmetic; ``totals`` gets their count and sum."""
    pending: list[tuple[object, ...]] = []
    for line in ledger.account_period_lines(code=code, start=start, end=end):
        owed = kind.owed(line.amount_fen)
        category = rules.classify(journal_kind=line.kind, reference=line.reference, owed_fen=owed)
        pending.append(
            (statement.pk, line.journal_id, line.kind, line.reference, line.at, category,
             line.amount_fen)
        )  # fmt: skip
        totals[0] += 1
        totals[1] += line.amount_fen
        yield rules.Line(line.at.astimezone(SHANGHAI).date(), category, owed)
        if len(pending) >= LINES_CHUNK:
            _copy(pending)
            pending = []
    if pending:
        _copy(pending)


def _copy(rows: list[tuple[object, ...]]) -> None:
    """Write statement lines with one COPY (between the reads of the streamed ledger lines:
    a connection runs no query while a COPY is open)."""
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {StatementLine._meta.db_table} "
            "(statement_id, journal_id, journal_kind, reference, at, category, amount_fen) "
            "FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _carried_in(statement: Statement) -> int:
    """What the party's previous statement carried over (below the minimum payout)."""
    previous = (
        Statement.objects.filter(
            kind=statement.kind,
            party_id=statement.party_id,
            period_end__lte=statement.period_start,
        )
        .order_by("-period_end")
        .values_list("carry_out_fen", flat=True)
        .first()
    )
    return previous or 0


def batch_progress(*, batch_id: int) -> SettlementBatch:
    """Count the batch's statements as its progress; mark it done when every party has one."""
    with transaction.atomic():
        batch = locks.batch_lock(batch_id)
        statements = Statement.objects.filter(batch_id=batch_id)
        batch.parties_done = min(statements.count(), batch.parties_total)
        batch.tie_out_failures = statements.filter(tie_out_ok=False).count()
        if batch.parties_done >= batch.parties_total and batch.status == batch.Status.RUNNING:
            batch.status = batch.Status.DONE
            batch.finished_at = timezone.now()
            audit_record(
                action="settlement.batch_done",
                object_type="settlement.batch",
                object_id=batch_id,
                after={
                    "statements": batch.parties_done,
                    "tie_out_failures": batch.tie_out_failures,
                },
            )
        batch.save()
    return batch


def batch_fail(*, batch_id: int, error: str) -> None:
    SettlementBatch.objects.filter(pk=batch_id).update(
        status=SettlementBatch.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def batch_run(
    *, kind: str, period_start: dt.date, period_end: dt.date, run_by_id: int | None = None
) -> int:
    """Run a batch in the calling process (the Celery task splits it by counterparty)."""
    opened = batch_open(
        kind=kind, period_start=period_start, period_end=period_end, run_by_id=run_by_id
    )
    for party_id in opened.party_ids:
        statement_build(batch_id=opened.batch_id, party_id=party_id, run_by_id=run_by_id)
    batch_progress(batch_id=opened.batch_id)
    return opened.batch_id


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month before ``day``'s: the period the monthly batch settles."""
    this_month = day.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    return last_month, this_month


# --- Lifecycle ------------------------------------------------------------------------------


def _locked(statement_id: int) -> Statement:
    statement = locks.statement_lock(statement_id)
    if statement is None:
        raise StatementNotFound(details={"statement_id": statement_id})
    return statement


def _move(statement: Statement, to: str, actor_id: int | None, **after: object) -> None:
    audited_transition(
        statement,
        to,
        object_type="settlement.statement",
        object_id=statement.pk,
        refused=lambda d: StatementStateConflict(details=d),
        actor_id=actor_id,
        after=after,
    )


def statement_tie_out(*, statement_id: int) -> tuple[bool, int]:
    """Whether the statement's lines still sum to its account's movement for the period, and
    that movement (a fresh ledger read). Records a failure on the statement."""
    statement = Statement.objects.filter(pk=statement_id).first()
    if statement is None:
        raise StatementNotFound(details={"statement_id": statement_id})
    movement = ledger.account_movement(
        code=statement.account_code,
        start=day_start(statement.period_start),
        end=day_start(statement.period_end),
    )
    ok = movement == statement.lines_total_fen
    if not ok and statement.tie_out_ok:
        Statement.objects.filter(pk=statement_id).update(
            tie_out_ok=False, ledger_movement_fen=movement
        )
        audit_record(
            action="settlement.tie_out_failed",
            object_type="settlement.statement",
            object_id=statement_id,
            after={"lines_total_fen": statement.lines_total_fen, "ledger_movement_fen": movement},
        )
    return ok and statement.tie_out_ok, movement


def statement_confirm(*, statement_id: int, actor_id: int) -> None:
    """Finance confirms a draft: refused to whoever ran it (``SameActor``, maker-checker) and
    when it does not tie out (``TieOutFailed``, checked against the ledger now). Posts the
    platform's commission (``settlement_commission``: what the platform keeps of the party's
    lines) once per revision. Locks: the statement, then the ledger's balances."""
    ok, movement = statement_tie_out(statement_id=statement_id)
    with transaction.atomic():
        statement = _locked(statement_id)
        if statement.status != Status.DRAFT:
            raise StatementStateConflict(details={"status": statement.status, "to": "confirmed"})
        if statement.run_by_id is not None and statement.run_by_id == actor_id:
            raise SameActor(details={"statement_id": statement_id})
        if not ok:
            raise TieOutFailed(
                details={
                    "lines_total_fen": statement.lines_total_fen,
                    "ledger_movement_fen": movement,
                }
            )
        _move(statement, Status.CONFIRMED, actor_id, commission_fen=statement.commission_fen)
        statement.confirmed_by_id = actor_id
        statement.confirmed_at = timezone.now()
        if statement.commission_fen:
            statement.commission_journal_id = _post_against_party(
                statement,
                key=f"settlement:statement:{statement.pk}:commission:{statement.revision}",
                journal_kind="settlement_commission",
                other=PLATFORM_REVENUE,
                owed_fen=statement.commission_fen,
            )
        statement.save()


def statement_pay(*, statement_id: int, actor_id: int) -> None:
    """Record the payout of a confirmed statement: one journal Dr the party's payable / Cr
    bank clearing (a partner's payment received: Dr bank clearing / Cr its receivable) for
    ``payout_fen``, posted once. Locks: the statement, then the ledger's balances."""
    account_ensure(code=BANK_CLEARING, name="银行待清算", kind="asset")
    with transaction.atomic():
        statement = _locked(statement_id)
        _move(statement, Status.PAID, actor_id, payout_fen=statement.payout_fen)
        statement.paid_at = timezone.now()
        if statement.payout_fen:
            statement.payout_journal_id = _post_against_party(
                statement,
                key=f"settlement:statement:{statement.pk}:payout",
                journal_kind="settlement_payout",
                other=BANK_CLEARING,
                owed_fen=statement.payout_fen,
            )
        statement.save()


def statement_dispute(*, statement_id: int, actor_id: int, note: str) -> None:
    """Put a draft or confirmed statement in dispute with a note; a confirmed one has its
    commission journal reversed (the reopened statement posts it again when reconfirmed)."""
    note = note.strip()
    if not note:
        raise NoteRequired()
    with transaction.atomic():
        statement = _locked(statement_id)
        was = statement.status
        _move(statement, Status.DISPUTED, actor_id, note=note[:500])
        statement.dispute_note = note
        if was == Status.CONFIRMED and statement.commission_journal_id:
            journal_reverse(
                journal_id=statement.commission_journal_id,
                idempotency_key=f"settlement:statement:{statement.pk}:commission:"
                f"{statement.revision}:reversal",
                reason=f"statement {statement.pk} disputed",
            )
            statement.commission_journal_id = None
        statement.save()


def statement_reopen(*, statement_id: int, actor_id: int) -> None:
    """A disputed statement back to draft, to be rebuilt by the batch and confirmed again."""
    with transaction.atomic():
        statement = _locked(statement_id)
        _move(statement, Status.DRAFT, actor_id)
        statement.revision += 1
        statement.save()


def _post_against_party(
    statement: Statement, *, key: str, journal_kind: str, other: str, owed_fen: int
) -> int:
    """Post ``owed_fen`` off what is owed between the platform and the party, against
    ``other``: on a payable that is a debit, on a receivable a credit."""
    counterparty = kind_get(statement.kind)
    party_amount = -counterparty.owed(owed_fen)
    journal = journal_post(
        idempotency_key=key,
        kind=journal_kind,
        reference=f"settlement:statement:{statement.pk}",
        description=f"{statement.account_code} {statement.period_start}..{statement.period_end}",
        lines=[
            LineSpec(statement.account_code, party_amount),
            LineSpec(other, -party_amount),
        ],
    )
    return journal.id
