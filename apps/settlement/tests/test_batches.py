"""Settlement batches on the real ledger: statements, tie-out, idempotency under concurrency."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from apps.ledger import selectors as ledger
from apps.settlement import services
from apps.settlement.models import SettlementBatch, SettlementRule, Statement, StatementLine
from apps.settlement.services import SHANGHAI, today
from apps.settlement.tests.support import post

pytestmark = pytest.mark.django_db

OCT, NOV, DEC = dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def rule(kind: str = "cp", party_id: int | None = None, **fields) -> SettlementRule:
    """A rule version as of any date (tests set up history; the service refuses past dates)."""
    fields.setdefault("method", "percentage")
    fields.setdefault("effective_from", dt.date(2026, 1, 1))
    return SettlementRule.objects.create(kind=kind, party_id=party_id, **fields)


def test_a_batch_builds_each_cp_statement_from_its_ledger_lines() -> None:
    rule(rate=Decimal("0.7"))
    post("cp", 1, 10_000, at=at(dt.date(2026, 10, 5)))
    post("cp", 1, 5_000, at=at(dt.date(2026, 10, 31), 23))
    post("cp", 1, -1_000, journal_kind="refund", at=at(dt.date(2026, 10, 20)))
    post("cp", 1, 99_999, at=at(NOV))  # the next month: not this statement's
    post("cp", 2, 2_000, at=at(dt.date(2026, 10, 9)))

    batch_id = services.batch_run(kind="cp", period_start=OCT, period_end=NOV)

    batch = SettlementBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.parties_total, batch.parties_done, batch.tie_out_failures) == (
        "done",
        2,
        2,
        0,
    )
    first = Statement.objects.get(party_id=1)
    assert first.account_code == "cp:1:payable"
    assert (first.lines_count, first.lines_total_fen) == (3, -14_000)
    assert first.ledger_movement_fen == -14_000 and first.tie_out_ok
    assert (first.volume_fen, first.units, first.refunds_fen) == (15_000, 2, 1_000)
    assert (first.share_fen, first.deductions_fen, first.party_fen) == (10_500, 700, 9_800)
    assert (first.commission_fen, first.payout_fen) == (4_200, 9_800)
    assert sorted(
        StatementLine.objects.filter(statement=first).values_list("category", flat=True)
    ) == [
        "refund",
        "sale",
        "sale",
    ]
    assert Statement.objects.get(party_id=2).party_fen == 1_400


def test_running_the_same_period_again_gives_the_same_statement() -> None:
    post("cp", 1, 10_000, at=at(dt.date(2026, 10, 5)))
    first = services.batch_run(kind="cp", period_start=OCT, period_end=NOV)
    statement = Statement.objects.get()

    again = services.batch_run(kind="cp", period_start=OCT, period_end=NOV)

    assert again == first
    assert SettlementBatch.objects.get().runs == 2
    assert list(Statement.objects.values_list("pk", "lines_count", "payout_fen")) == [
        (statement.pk, 1, 10_000)
    ]
    assert StatementLine.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_of_a_period_make_one_batch_and_one_statement_each() -> None:
    for party in (1, 2, 3):
        post("cp", party, 1_000 * party, at=at(dt.date(2026, 10, 5)))
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        from django.db import connection

        try:
            barrier.wait()
            results.append(services.batch_run(kind="cp", period_start=OCT, period_end=NOV))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    assert SettlementBatch.objects.count() == 1
    assert sorted(Statement.objects.values_list("party_id", "lines_count", "payout_fen")) == [
        (1, 1, 1_000),
        (2, 1, 2_000),
        (3, 1, 3_000),
    ]
    assert StatementLine.objects.count() == 3
    assert SettlementBatch.objects.get().status == "done"


def test_minimum_payout_carries_over_to_the_next_month() -> None:
    rule(party_id=1, rate=Decimal("0.5"), minimum_payout_fen=10_000)
    post("cp", 1, 8_000, at=at(dt.date(2026, 10, 5)))
    post("cp", 1, 16_000, at=at(dt.date(2026, 11, 5)))

    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)
    services.batch_run(kind="cp", period_start=NOV, period_end=DEC)

    october, november = Statement.objects.order_by("period_start")
    assert (october.payout_fen, october.carry_out_fen) == (0, 4_000)
    assert (november.carried_in_fen, november.payout_fen, november.carry_out_fen) == (
        4_000,
        12_000,
        0,
    )


def test_a_rule_version_prices_only_lines_from_its_date() -> None:
    rule(party_id=1, rate=Decimal("0.5"))
    rule(party_id=1, rate=Decimal("0.8"), effective_from=dt.date(2026, 10, 15))
    post("cp", 1, 1_000, at=at(dt.date(2026, 10, 14), 23))
    post("cp", 1, 1_000, at=at(dt.date(2026, 10, 15), 0))

    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)

    statement = Statement.objects.get()
    assert statement.share_fen == 500 + 800
    assert statement.rules_applied == ["2026-01-01", "2026-10-15"]


def test_a_party_rule_takes_over_from_the_kind_default_on_its_date() -> None:
    rule(rate=Decimal("0.5"))  # the default for every CP
    rule(party_id=1, rate=Decimal("0.9"), effective_from=dt.date(2026, 10, 20))
    post("cp", 1, 1_000, at=at(dt.date(2026, 10, 10)))
    post("cp", 1, 1_000, at=at(dt.date(2026, 10, 25)))

    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)

    assert Statement.objects.get().share_fen == 500 + 900


def test_a_channel_is_one_more_kind() -> None:
    rule(kind="channel", rate=Decimal("0.05"))
    post("channel", 7, 20_000, journal_kind="channel_commission", at=at(dt.date(2026, 10, 5)))
    post("cp", 7, 1_000, at=at(dt.date(2026, 10, 5)))

    services.batch_run(kind="channel", period_start=OCT, period_end=NOV)

    statement = Statement.objects.get()
    assert (statement.kind, statement.account_code, statement.party_fen) == (
        "channel",
        "channel:7:payable",
        1_000,
    )


def test_the_monthly_batch_settles_the_month_before() -> None:
    assert services.month_bounds(dt.date(2027, 1, 1)) == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert services.month_bounds(dt.date(2026, 3, 31)) == (dt.date(2026, 2, 1), dt.date(2026, 3, 1))


def test_statement_lines_sum_to_the_ledger_movement() -> None:
    for amount in (123, 4_567, -89):
        post(
            "cp",
            1,
            amount,
            journal_kind="content_sale" if amount > 0 else "refund",
            at=at(dt.date(2026, 10, 5)),
        )
    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)
    statement = Statement.objects.get()
    lines_sum = sum(
        StatementLine.objects.filter(statement=statement).values_list("amount_fen", flat=True)
    )
    assert (
        lines_sum
        == ledger.account_movement(
            code="cp:1:payable", start=services.day_start(OCT), end=services.day_start(NOV)
        )
        == -4_601
    )


def test_a_period_that_starts_in_the_future_is_refused() -> None:
    from apps.settlement.errors import InvalidPeriod

    tomorrow = today() + dt.timedelta(days=1)
    with pytest.raises(InvalidPeriod):
        services.batch_run(kind="cp", period_start=tomorrow, period_end=tomorrow)
    assert not SettlementBatch.objects.exists()


def test_the_batch_task_hands_counterparties_to_chunk_tasks(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from apps.core.models import OutboxEvent
    from apps.settlement import tasks

    monkeypatch.setattr(tasks, "CHUNK", 2)
    for party in range(1, 6):
        post("cp", party, 100 * party, at=at(dt.date(2026, 10, 5)))

    with django_capture_on_commit_callbacks(execute=True):
        batch_id = tasks.settlement_batch_task("cp", OCT.isoformat(), NOV.isoformat())

    chunks = OutboxEvent.objects.filter(payload__task__endswith="settlement_chunk_task")
    assert sorted(event.payload["args"][1] for event in chunks) == [[1, 2], [3, 4], [5]]
    batch = SettlementBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.parties_done, batch.parties_total, batch.progress_percent) == (
        "done",
        5,
        5,
        100,
    )
    assert Statement.objects.count() == 5
