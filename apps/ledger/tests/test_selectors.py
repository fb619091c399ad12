"""Ledger reads: balances, journals, the trial balance, and the check that finds tampering."""

import pytest
from django.db import connection, transaction

from apps.ledger import selectors
from apps.ledger.errors import JournalNotFound, UnknownAccount
from apps.ledger.selectors import BalanceRow, LineView
from apps.ledger.services import LineSpec, journal_post, journal_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(accounts) -> dict[str, int]:
    """Two paid orders, one of them reversed, and a points grant."""
    first = journal_post(
        idempotency_key="order:1:paid",
        kind="order.paid",
        reference="order:1",
        lines=[
            LineSpec("clearing:wechat", 5000),
            LineSpec("platform:revenue", -1000),
            LineSpec("payable:cp:2", -4000),
        ],
    )
    journal_post(
        idempotency_key="order:2:paid",
        kind="order.paid",
        reference="order:2",
        lines=[LineSpec("clearing:wechat", 800), LineSpec("platform:revenue", -800)],
    )
    journal_reverse(journal_id=first.id, idempotency_key="order:1:reversed", reason="撤销")
    journal_post(
        idempotency_key="grant:1",
        kind="points.granted",
        reference="user:2",
        lines=[LineSpec("points:issued", 300), LineSpec("points:user:2", -300)],
    )
    return {"first": first.id}


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def raw_journal(key: str, kind: str, reversal_of: int | None, lines: list[tuple[int, int]]) -> int:
    """A journal written past the services, as a bypassing session would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journal (idempotency_key, kind, reference, description,"
            " content_hash, reversal_of_id, created_at)"
            " VALUES (%s, %s, 'raw:1', '', '', %s, now()) RETURNING id",
            [key, kind, reversal_of],
        )
        journal_id = cursor.fetchone()[0]
        for account_id, amount in lines:
            cursor.execute(
                "INSERT INTO ledger_journalline (journal_id, account_id, amount_fen, created_at)"
                " VALUES (%s, %s, %s, now())",
                [journal_id, account_id, amount],
            )
    return journal_id


def test_balances_from_rows_and_from_lines_agree(book):
    for code, expected in [
        ("clearing:wechat", 800),
        ("platform:revenue", -800),
        ("payable:cp:2", 0),
        ("points:user:2", -300),
        ("refunds:payable", 0),
    ]:
        assert selectors.account_balance(code=code) == expected
        assert selectors.account_balance_from_lines(code=code) == expected


def test_an_unknown_code_is_refused():
    with pytest.raises(UnknownAccount):
        selectors.account_balance(code="clearing:paypal")
    with pytest.raises(UnknownAccount):
        selectors.account_balance_from_lines(code="clearing:paypal")


def test_journals_for_a_reference_oldest_first(book):
    views = selectors.journals_for_reference(reference="order:1")

    assert [(v.kind, v.reversal_of_id) for v in views] == [
        ("order.paid", None),
        ("reversal", book["first"]),
    ]
    assert views[1].lines == (
        LineView("clearing:wechat", -5000),
        LineView("payable:cp:2", 4000),
        LineView("platform:revenue", 1000),
    )
    assert selectors.journal_get(journal_id=book["first"]) == views[0]
    assert selectors.journals_for_reference(reference="order:404") == []
    with pytest.raises(JournalNotFound):
        selectors.journal_get(journal_id=999999)


def test_trial_balance_shows_every_account_and_agreement(book):
    rows = {row.code: row for row in selectors.trial_balance()}

    assert rows["clearing:wechat"] == BalanceRow(
        code="clearing:wechat",
        name="微信支付待清算",
        kind="asset",
        unit="CNY",
        balance_fen=800,
        lines_sum_fen=800,
        agrees=True,
    )
    assert rows["points:user:2"].balance_fen == -300
    assert rows["clearing:alipay"].lines_sum_fen == 0
    assert all(row.agrees for row in rows.values())
    assert sum(row.balance_fen for row in rows.values() if row.unit == "CNY") == 0
    assert sum(row.balance_fen for row in rows.values() if row.unit == "POINTS") == 0


def test_a_healthy_book_has_no_problems(book):
    assert selectors.ledger_check() == []


def test_ledger_check_finds_a_tampered_balance_row(book, accounts):
    raw(
        "UPDATE ledger_accountbalance SET balance_fen = balance_fen + 1 WHERE account_id = %s",
        [accounts["clearing:wechat"]],
    )

    assert selectors.ledger_check() == ["account clearing:wechat: balance 801 but lines sum to 800"]


def test_ledger_check_finds_a_missing_balance_row(book, accounts):
    raw("DELETE FROM ledger_accountbalance WHERE account_id = %s", [accounts["refunds:payable"]])

    assert selectors.ledger_check() == ["account refunds:payable has no balance row"]


def test_ledger_check_finds_what_bypassed_the_triggers(book, accounts):
    # The deferred balance check runs only at commit (or when the test ends): until then the
    # book holds what a session with its triggers switched off could leave behind.
    with transaction.atomic():
        journal_id = raw_journal("raw", "raw", None, [(accounts["refunds:payable"], 70)])
        problems = selectors.ledger_check()
        transaction.set_rollback(True)

    assert problems == [
        f"journal {journal_id} is unsound: 1 line(s), sum 70, 1 unit(s)",
        "account refunds:payable: balance 0 but lines sum to 70",
    ]


def test_ledger_check_finds_a_reversal_that_does_not_cancel(book, accounts):
    original = selectors.journals_for_reference(reference="order:2")[0].id
    wrong = [(accounts["clearing:wechat"], -700), (accounts["platform:revenue"], 700)]

    reversal = raw_journal("raw", "reversal", original, wrong)

    assert selectors.ledger_check() == [
        f"journal {reversal} does not cancel journal {original}",
        "account clearing:wechat: balance 800 but lines sum to 100",
        "account platform:revenue: balance -800 but lines sum to -100",
    ]
