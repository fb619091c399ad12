"""Statement lifecycle: maker-checker, tie-out blocking confirmation, payout, dispute, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.accounts.models import User
from apps.core.models import AuditEvent
from apps.ledger import selectors as ledger
from apps.ledger.models import Journal
from apps.settlement import services
from apps.settlement.errors import (
    NoteRequired,
    RetroactiveRule,
    SameActor,
    StatementStateConflict,
    TieOutFailed,
)
from apps.settlement.models import SettlementRule, Statement
from apps.settlement.services import RuleInput, today
from apps.settlement.tests.support import post
from apps.settlement.tests.test_batches import NOV, OCT, at, rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def maker() -> User:
    return User.objects.create_user("13800138001", is_staff=True)


@pytest.fixture
def checker() -> User:
    return User.objects.create_user("13800138002", is_staff=True)


def october_statement(maker: User, owed: int = 10_000) -> Statement:
    rule(rate=Decimal("0.7"))
    post("cp", 1, owed, at=at(dt.date(2026, 10, 5)))
    services.batch_run(kind="cp", period_start=OCT, period_end=NOV, run_by_id=maker.pk)
    return Statement.objects.get()


def test_the_runner_cannot_confirm_and_another_can(maker: User, checker: User) -> None:
    statement = october_statement(maker)

    with pytest.raises(SameActor):
        services.statement_confirm(statement_id=statement.pk, actor_id=maker.pk)
    assert Statement.objects.get().status == "draft"
    assert not Journal.objects.filter(kind="settlement_commission").exists()

    services.statement_confirm(statement_id=statement.pk, actor_id=checker.pk)

    statement.refresh_from_db()
    assert (statement.status, statement.confirmed_by_id) == ("confirmed", checker.pk)
    # The platform keeps its 30%: the payable now holds what the CP is owed.
    assert ledger.account_balance(code="cp:1:payable") == -7_000
    assert ledger.account_balance(code="platform:revenue") == -3_000


def test_a_statement_that_no_longer_ties_out_cannot_be_confirmed(
    maker: User, checker: User
) -> None:
    # On demand, for the month in progress: a sale booked after the run changes the movement.
    start = today().replace(day=1)
    end = start + dt.timedelta(days=32)
    post("cp", 1, 1_000)
    services.batch_run(
        kind="cp", period_start=start, period_end=end.replace(day=1), run_by_id=maker.pk
    )
    statement = Statement.objects.get()
    assert statement.tie_out_ok
    post("cp", 1, 500)

    with pytest.raises(TieOutFailed) as refused:
        services.statement_confirm(statement_id=statement.pk, actor_id=checker.pk)

    assert refused.value.details == {"lines_total_fen": -1_000, "ledger_movement_fen": -1_500}
    statement.refresh_from_db()
    assert (statement.status, statement.tie_out_ok) == ("draft", False)
    assert not Journal.objects.filter(kind="settlement_commission").exists()
    assert AuditEvent.objects.filter(action="settlement.tie_out_failed").count() == 1

    # Running the batch again rebuilds the same draft, which ties out and can be confirmed.
    services.batch_run(
        kind="cp", period_start=start, period_end=end.replace(day=1), run_by_id=maker.pk
    )
    services.statement_confirm(statement_id=statement.pk, actor_id=checker.pk)
    statement.refresh_from_db()
    assert (statement.pk, statement.status, statement.lines_count) == (statement.pk, "confirmed", 2)


def test_paying_posts_the_payout_journal_once(maker: User, checker: User) -> None:
    statement = october_statement(maker)
    services.statement_confirm(statement_id=statement.pk, actor_id=checker.pk)

    services.statement_pay(statement_id=statement.pk, actor_id=checker.pk)

    payout = Journal.objects.get(kind="settlement_payout")
    assert sorted(payout.lines.values_list("account__code", "amount_fen")) == [
        ("bank:clearing", -7_000),
        ("cp:1:payable", 7_000),
    ]
    assert ledger.account_balance(code="cp:1:payable") == 0
    with pytest.raises(StatementStateConflict):
        services.statement_pay(statement_id=statement.pk, actor_id=checker.pk)
    assert Journal.objects.filter(kind="settlement_payout").count() == 1
    actions = list(
        AuditEvent.objects.filter(object_type="settlement.statement", object_id=str(statement.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "settlement.statement_built",
        "settlement.statement.confirmed",
        "settlement.statement.paid",
    ]


def test_a_draft_cannot_be_paid(maker: User, checker: User) -> None:
    statement = october_statement(maker)
    with pytest.raises(StatementStateConflict):
        services.statement_pay(statement_id=statement.pk, actor_id=checker.pk)
    assert not Journal.objects.filter(kind="settlement_payout").exists()


def test_a_dispute_needs_a_note_and_reverses_the_commission(maker: User, checker: User) -> None:
    statement = october_statement(maker)
    services.statement_confirm(statement_id=statement.pk, actor_id=checker.pk)

    with pytest.raises(NoteRequired):
        services.statement_dispute(statement_id=statement.pk, actor_id=checker.pk, note="  ")
    services.statement_dispute(
        statement_id=statement.pk, actor_id=checker.pk, note="CP 说 10 月少算了一笔"
    )

    statement.refresh_from_db()
    assert (statement.status, statement.dispute_note) == ("disputed", "CP 说 10 月少算了一笔")
    assert ledger.account_balance(code="cp:1:payable") == -10_000  # the commission is undone
    services.statement_reopen(statement_id=statement.pk, actor_id=checker.pk)
    services.batch_run(kind="cp", period_start=OCT, period_end=NOV, run_by_id=maker.pk)
    services.statement_confirm(statement_id=statement.pk, actor_id=checker.pk)
    assert ledger.account_balance(code="cp:1:payable") == -7_000
    assert Journal.objects.filter(kind="settlement_commission").count() == 2


def test_a_partner_pays_us(maker: User, checker: User) -> None:
    post(
        "partner",
        5,
        3_000,
        journal_kind="partner_invoice",
        at=at(dt.date(2026, 10, 31)),
        clearing="platform:revenue",
    )
    services.batch_run(kind="partner", period_start=OCT, period_end=NOV, run_by_id=maker.pk)
    statement = Statement.objects.get()
    assert (statement.party_fen, statement.commission_fen, statement.payout_fen) == (
        3_000,
        0,
        3_000,
    )

    services.statement_confirm(statement_id=statement.pk, actor_id=checker.pk)
    services.statement_pay(statement_id=statement.pk, actor_id=checker.pk)

    assert ledger.account_balance(code="partner:5:receivable") == 0
    assert ledger.account_balance(code="bank:clearing") == 3_000


def test_rules_are_never_retroactive(maker: User) -> None:
    yesterday = today() - dt.timedelta(days=1)
    with pytest.raises(RetroactiveRule):
        services.rule_create(
            rule=RuleInput("cp", 1, "percentage", yesterday, rate="0.5"), actor_id=maker.pk
        )
    assert not SettlementRule.objects.exists()

    rule_id = services.rule_create(
        rule=RuleInput(
            "cp", 1, "tiered", today() + dt.timedelta(days=1), tiers=((0, "0.5"), (100_000, "0.6"))
        ),
        actor_id=maker.pk,
    )
    assert SettlementRule.objects.get(pk=rule_id).tiers == [[0, "0.5"], [100_000, "0.6"]]
    assert AuditEvent.objects.filter(action="settlement.rule_created").count() == 1
    # Today's sale is priced without tomorrow's rule.
    post("cp", 1, 1_000)
    start = today().replace(day=1)
    services.batch_run(kind="cp", period_start=start, period_end=today() + dt.timedelta(days=1))
    assert Statement.objects.get().share_fen == 1_000
