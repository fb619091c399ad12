"""Ledger lines in monthly partitions: the book's triggers still guard every partition, and
the reads by account and period prune to the months they name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core import partitions
from apps.core.partitions import partition_name, period_start
from apps.core.tests.plans import scanned
from apps.ledger import selectors
from apps.ledger.models import JournalLine
from apps.ledger.services import LineSpec, journal_post
from apps.ledger.tests.support import run_commit_checks

pytestmark = pytest.mark.django_db


def _sql(query: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def _month(offset: int = 0) -> str:
    start = period_start("month", timezone.now(), offset)
    return partition_name("ledger_journalline", "month", start)


def _scanned(sql: str) -> set[str]:
    return scanned(sql, prefix="ledger_journalline")


@pytest.fixture
def months(accounts):
    partitions.partitions_make(partitions.LEDGER_LINES, since=timezone.now() - timedelta(days=70))
    return accounts


def _post(key: str = "k", amount: int = 100) -> int:
    return journal_post(
        idempotency_key=key,
        kind="order.paid",
        reference="order:1",
        lines=[LineSpec("clearing:alipay", amount), LineSpec("platform:revenue", -amount)],
    ).id


def _raw_journal(lines: list[tuple[int, int]], *, dated: tuple[str, ...] = ()) -> int:
    """A journal written past the services; ``dated[i]`` (SQL) dates line ``i`` instead of
    the transaction's ``now()``."""
    journal_id = _sql(
        "INSERT INTO ledger_journal (idempotency_key, kind, reference, description, content_hash,"
        " created_at) VALUES ('raw', 'raw', 'raw:1', '', '', now()) RETURNING id"
    )[0][0]
    for n, (account_id, amount) in enumerate(lines):
        at = dated[n] if n < len(dated) else "now()"
        _sql(
            "INSERT INTO ledger_journalline (journal_id, account_id, amount_fen, created_at)"  # noqa: S608
            f" VALUES (%s, %s, %s, {at})",
            [journal_id, account_id, amount],
        )
    return journal_id


def test_lines_are_partitioned_by_month_and_a_posting_lands_in_this_month(months):
    assert _sql(
        "SELECT partstrat FROM pg_partitioned_table "
        "WHERE partrelid = 'ledger_journalline'::regclass"
    ) == [("r",)]
    journal_id = _post()
    where = _sql(
        "SELECT DISTINCT tableoid::regclass::text FROM ledger_journalline WHERE journal_id = %s",
        [journal_id],
    )
    assert where == [(_month(0),)]
    run_commit_checks()


def test_an_unbalanced_journal_is_still_refused(months):
    _raw_journal([(months["clearing:alipay"], 100), (months["platform:revenue"], -50)])
    with pytest.raises(IntegrityError, match="is unbalanced: its lines sum to 50"):
        run_commit_checks()


def test_a_line_not_dated_as_its_journal_is_refused(months):
    # The balance check reads a journal's lines in its own partition only, so lines dated
    # elsewhere would escape it (here a balanced pair is dated as the journal, an unbalanced
    # one 40 days earlier): the check refuses such a line.
    earlier = "now() - interval '40 days'"
    _raw_journal(
        [
            (months["clearing:alipay"], 100),
            (months["platform:revenue"], -100),
            (months["clearing:alipay"], 70),
            (months["platform:revenue"], -20),
        ],
        dated=("now()", "now()", earlier, earlier),
    )
    with pytest.raises(IntegrityError, match="carries its journal's time"):
        run_commit_checks()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE {table} SET amount_fen = amount_fen * 2 WHERE journal_id = %s",
        "DELETE FROM {table} WHERE journal_id = %s",
    ],
    ids=["update", "delete"],
)
@pytest.mark.parametrize("through", ["parent", "partition"])
def test_a_line_cannot_be_updated_or_deleted_through_the_table_or_its_partition(
    months, sql, through
):
    journal_id = _post()
    table = "ledger_journalline" if through == "parent" else _month(0)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _sql(sql.format(table=table), [journal_id])
    assert JournalLine.objects.filter(journal_id=journal_id).count() == 2


@pytest.mark.parametrize("through", ["parent", "partition", "default"])
def test_truncate_is_refused_through_the_table_and_each_partition(months, through):
    """PostgreSQL does not clone statement-level triggers to partitions: the TRUNCATE guard
    is given to each partition (and the default one) explicitly."""
    journal_id = _post()
    table = {"parent": "ledger_journalline", "partition": _month(0),
             "default": "ledger_journalline_default"}[through]  # fmt: skip
    if through == "default":  # a line waiting there (its month not made in time)
        _sql("ALTER TABLE ledger_journalline DISABLE TRIGGER USER")
        _sql("INSERT INTO ledger_journalline (journal_id, account_id, amount_fen, created_at)"
             " SELECT journal_id, account_id, amount_fen, now() + interval '10 years'"
             " FROM ledger_journalline WHERE journal_id = %s", [journal_id])  # fmt: skip
        _sql("ALTER TABLE ledger_journalline ENABLE TRIGGER USER")
    _sql("SET CONSTRAINTS ALL IMMEDIATE")  # the journal's deferred balance check, run now
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _sql(f"TRUNCATE {table}")
    assert JournalLine.objects.filter(journal_id=journal_id).count() >= 2


def test_a_partition_made_later_carries_the_triggers(months):
    # Made ahead by the job, before any line is in it: the cloned triggers are there.
    triggers = _sql(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE 'ledger%%' ORDER BY tgname",
        [_month(2)],
    )
    assert triggers == [
        ("ledger_journalline_balanced",),
        ("ledger_journalline_immutable",),
        ("ledger_journalline_no_truncate",),
    ]


def test_the_period_reads_by_account_touch_only_the_months_they_name(months):
    _post()
    start = period_start("month", timezone.now())
    end = period_start("month", timezone.now(), 1)
    with CaptureQueriesContext(connection) as queries:
        list(selectors.account_period_lines(code="clearing:alipay", start=start, end=end))
        selectors.account_movement(code="clearing:alipay", start=start, end=end)
    reads = [q["sql"] for q in queries.captured_queries if "ledger_journalline" in q["sql"]]
    reads = [sql for sql in reads if not sql.startswith(("DECLARE", "FETCH", "CLOSE"))]
    assert reads
    for sql in reads:
        assert _scanned(sql) == {_month(0)}

    two_months = selectors.account_movement  # a range over two months prunes to both
    with CaptureQueriesContext(connection) as queries:
        two_months(code="clearing:alipay", start=period_start("month", timezone.now(), -1), end=end)
    (sql,) = [q["sql"] for q in queries.captured_queries if "ledger_journalline" in q["sql"]]
    assert _scanned(sql) == {_month(-1), _month(0)}
