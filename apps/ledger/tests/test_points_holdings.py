"""A party's points can never go below zero: neither a posting nor a reversal may overdraw them."""

import pytest

from apps.core.models import AuditEvent
from apps.ledger.errors import InsufficientBalance
from apps.ledger.models import AccountBalance, AccountBalanceSlot, Journal, JournalLine
from apps.ledger.selectors import account_balance
from apps.ledger.services import LineSpec, journal_post, journal_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _accounts(accounts):
    """The standard and test accounts (points:user:1 is a points liability)."""


def book_state() -> tuple:
    return (
        Journal.objects.count(),
        JournalLine.objects.count(),
        sorted(AccountBalance.objects.values_list("account_id", "balance_fen")),
        sorted(AccountBalanceSlot.objects.values_list("account_id", "slot", "balance_fen")),
        AuditEvent.objects.filter(object_type="ledger.journal").count(),
    )


def grant(points: int, key: str = "grant") -> int:
    return journal_post(
        idempotency_key=key, kind="points.granted", reference="user:1",
        lines=[LineSpec("points:issued", points), LineSpec("points:user:1", -points)],
    ).id  # fmt: skip


def spend(points: int, key: str) -> int:
    return journal_post(
        idempotency_key=key, kind="points.redeemed", reference="order:1",
        lines=[LineSpec("points:user:1", points), LineSpec("points:redeemed", -points)],
    ).id  # fmt: skip


def test_spending_every_point_held_is_allowed_and_one_more_is_refused():
    grant(1000)
    spend(600, "spend:1")
    spend(400, "spend:2")
    after = book_state()

    with pytest.raises(InsufficientBalance) as info:
        spend(1, "spend:3")

    assert (info.value.code, info.value.http_status) == ("LEDGER_INSUFFICIENT_BALANCE", 409)
    assert info.value.details == {"account_code": "points:user:1", "held": 0, "debit": 1}
    assert book_state() == after
    assert account_balance(code="points:user:1") == 0


def test_reversing_a_grant_whose_points_were_partly_spent_is_refused_and_moves_nothing():
    """The property test's case: pay, reverse the grant, pay again. The reversal would claw back
    1000 points from a user holding 400, leaving -600; it must be refused outright, since a
    reversal is exact (all of the journal or nothing)."""
    granted = grant(1000)
    spend(600, "spend:1")
    after_spend = book_state()

    with pytest.raises(InsufficientBalance) as info:
        journal_reverse(journal_id=granted, idempotency_key="grant:rev", reason="发错了")

    assert info.value.details == {"account_code": "points:user:1", "held": 400, "debit": 1000}
    assert book_state() == after_spend
    assert not Journal.objects.filter(reversal_of_id=granted).exists()
    assert account_balance(code="points:user:1") == -400


def test_a_refused_reversal_can_be_retried_under_its_key_once_the_points_are_back():
    granted = grant(1000)
    spent = spend(600, "spend:1")
    with pytest.raises(InsufficientBalance):
        journal_reverse(journal_id=granted, idempotency_key="grant:rev", reason="发错了")

    journal_reverse(journal_id=spent, idempotency_key="spend:1:rev", reason="退回")
    reversal = journal_reverse(journal_id=granted, idempotency_key="grant:rev", reason="发错了")

    assert reversal.reversal_of_id == granted
    assert account_balance(code="points:user:1") == 0
    assert account_balance(code="points:issued") == 0
    assert account_balance(code="points:redeemed") == 0


def test_reversing_an_unspent_grant_takes_the_points_back():
    granted = grant(1000)

    journal_reverse(journal_id=granted, idempotency_key="grant:rev", reason="发错了")

    assert account_balance(code="points:user:1") == 0
    assert account_balance(code="points:issued") == 0


def test_money_accounts_and_points_revenue_are_not_limited():
    """Only a party's points holding (a points liability) has a floor: a refund may debit
    points:redeemed below zero and CNY liabilities follow whatever the business posts."""
    journal_post(
        idempotency_key="refund", kind="points.refunded", reference="order:1",
        lines=[LineSpec("points:redeemed", 50), LineSpec("points:user:1", -50)],
    )  # fmt: skip
    journal_post(
        idempotency_key="cp", kind="test", reference="cp:1",
        lines=[LineSpec("payable:cp:1", 70), LineSpec("clearing:alipay", -70)],
    )  # fmt: skip

    assert account_balance(code="points:redeemed") == 50
    assert account_balance(code="payable:cp:1") == 70
