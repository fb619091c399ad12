"""The database guards the book by itself: raw SQL, with Python's checks bypassed."""

from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction

from apps.ledger.models import (
    AccountBalance,
    AccountBalanceSlot,
    Journal,
    JournalLine,
    LedgerAccount,
)
from apps.ledger.services import LineSpec, journal_post

INSERT_JOURNAL = (
    "INSERT INTO ledger_journal (idempotency_key, kind, reference, description, content_hash,"
    " created_at) VALUES (%s, 'raw', 'raw:1', '', '', now()) RETURNING id"
)
INSERT_LINE = (
    "INSERT INTO ledger_journalline (journal_id, account_id, amount_fen, created_at)"
    " VALUES (%s, %s, %s, now())"
)


def raw_journal(key: str, lines: list[tuple[int, int]]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(INSERT_JOURNAL, [key])
        journal_id = cursor.fetchone()[0]
        for account_id, amount in lines:
            cursor.execute(INSERT_LINE, [journal_id, account_id, amount])
    return journal_id


def in_one_transaction(write: Callable[[], object]) -> None:
    """Run ``write`` in a transaction of its own, which commits when the block exits."""
    with transaction.atomic():
        write()


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Balance at commit: real commits -----------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        pytest.param(
            [("clearing:alipay", 100), ("platform:revenue", -50)],
            "is unbalanced: its lines sum to 50",
            id="sum-not-zero",
        ),
        pytest.param([("clearing:alipay", 100)], "has 1 line(s)", id="one-line"),
        pytest.param([], "has 0 line(s)", id="no-lines"),
        pytest.param(
            [("clearing:alipay", 100), ("points:user:1", -100)],
            "mixes units",
            id="mixed-units",
        ),
    ],
)
def test_an_unsound_journal_fails_at_commit(committed_accounts, lines, message):
    ids = committed_accounts

    seen_before_commit: list[bool] = []

    def write():
        raw_journal("raw", [(ids[code], amount) for code, amount in lines])
        seen_before_commit.append(Journal.objects.filter(idempotency_key="raw").exists())

    with pytest.raises(IntegrityError) as info:
        in_one_transaction(write)

    assert seen_before_commit == [True]  # the check waited for COMMIT

    assert message in str(info.value)
    assert not Journal.objects.exists()
    assert not JournalLine.objects.exists()


def test_a_balanced_raw_journal_commits(committed_accounts):
    ids = committed_accounts

    with transaction.atomic():
        journal_id = raw_journal(
            "raw", [(ids["clearing:alipay"], 100), (ids["platform:revenue"], -100)]
        )

    assert JournalLine.objects.filter(journal_id=journal_id).count() == 2


def test_the_check_runs_at_the_callers_commit_not_at_the_services(committed_accounts):
    ids = committed_accounts

    def write():
        journal_post(
            idempotency_key="good",
            kind="order.paid",
            reference="order:1",
            lines=[LineSpec("clearing:alipay", 100), LineSpec("platform:revenue", -100)],
        )
        raw_journal("raw", [(ids["clearing:alipay"], 100)])

    with pytest.raises(IntegrityError):
        in_one_transaction(write)

    # The whole transaction is refused, the service's journal with it.
    assert not Journal.objects.exists()
    assert AccountBalance.objects.get(account_id=ids["clearing:alipay"]).balance_fen == 0
    assert not AccountBalanceSlot.objects.filter(account_id=ids["clearing:alipay"]).exists()


# --- Append-only and CHECKs: refused at once --------------------------------------------


@pytest.fixture
def posted(accounts) -> int:
    return journal_post(
        idempotency_key="k",
        kind="order.paid",
        reference="order:1",
        lines=[LineSpec("clearing:alipay", 100), LineSpec("platform:revenue", -100)],
    ).id


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_journalline SET amount_fen = amount_fen * 2 WHERE journal_id = %s",
        "DELETE FROM ledger_journalline WHERE journal_id = %s",
        "UPDATE ledger_journal SET reference = 'order:2' WHERE id = %s",
        "DELETE FROM ledger_journal WHERE id = %s",
    ],
    ids=["update-line", "delete-line", "update-journal", "delete-journal"],
)
def test_journals_and_lines_cannot_be_changed_or_deleted(posted, sql):
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        execute(sql, [posted])

    assert "append-only" in str(info.value)
    assert list(
        JournalLine.objects.filter(journal_id=posted)
        .order_by("amount_fen")
        .values_list("amount_fen", flat=True)
    ) == [-100, 100]
    assert Journal.objects.get(pk=posted).reference == "order:1"


@pytest.fixture
def committed_journal(committed_accounts) -> int:
    return journal_post(
        idempotency_key="k",
        kind="order.paid",
        reference="order:1",
        lines=[LineSpec("clearing:alipay", 100), LineSpec("platform:revenue", -100)],
    ).id


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE ledger_journalline",
        "TRUNCATE ledger_journal CASCADE",
        "TRUNCATE ledger_ledgeraccount CASCADE",
    ],
    ids=["lines", "journals", "accounts-cascading"],
)
def test_tables_with_rows_cannot_be_truncated(committed_journal, sql):
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        execute(sql)

    assert "TRUNCATE on ledger_journal" in str(info.value)
    assert JournalLine.objects.filter(journal_id=committed_journal).count() == 2


def test_the_orm_cannot_change_a_line_either(posted):
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalLine.objects.filter(journal_id=posted).update(amount_fen=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Journal.objects.filter(pk=posted).delete()

    assert Journal.objects.filter(pk=posted).exists()


def test_a_zero_amount_line_is_refused(accounts):
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        raw_journal("raw", [(accounts["clearing:alipay"], 0), (accounts["platform:revenue"], 0)])

    assert "ledger_line_amount_nonzero" in str(info.value)
    assert not Journal.objects.filter(idempotency_key="raw").exists()


def test_an_accounts_code_and_unit_cannot_change(accounts):
    alipay = accounts["clearing:alipay"]
    for sql in [
        "UPDATE ledger_ledgeraccount SET unit = 'POINTS' WHERE id = %s",
        "UPDATE ledger_ledgeraccount SET code = 'clearing:other' WHERE id = %s",
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            execute(sql, [alipay])
    execute("UPDATE ledger_ledgeraccount SET name = '支付宝' WHERE id = %s", [alipay])

    account = LedgerAccount.objects.get(pk=alipay)
    assert (account.code, account.unit, account.name) == ("clearing:alipay", "CNY", "支付宝")


def test_a_reversal_must_name_its_original(posted):
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(
            "INSERT INTO ledger_journal (idempotency_key, kind, reference, description,"
            " content_hash, created_at) VALUES ('r', 'reversal', 'order:1', '', '', now())"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(
            "INSERT INTO ledger_journal (idempotency_key, kind, reference, description,"
            " content_hash, reversal_of_id, created_at)"
            " VALUES ('r', 'order.paid', 'order:1', '', '', %s, now())",
            [posted],
        )

    assert Journal.objects.count() == 1


@pytest.mark.django_db
def test_migrations_create_the_standard_accounts_with_balance_rows():
    rows = dict(LedgerAccount.objects.filter(balance__balance_fen=0).values_list("code", "unit"))

    assert rows == {
        "platform:revenue": "CNY",
        "platform:points_expense": "CNY",
        "clearing:alipay": "CNY",
        "clearing:wechat": "CNY",
        "clearing:unionpay": "CNY",
        "clearing:carrier_billing": "CNY",
        "refunds:payable": "CNY",
        "points:issued": "POINTS",
        "points:redeemed": "POINTS",
        "points:expired": "POINTS",
    }
