"""Recording decisions: no record is lost, a refusal is stored before decide returns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from apps.core.redis import get_redis
from apps.risk import recorder, services
from apps.risk.errors import RiskBlocked
from apps.risk.events import Event, Kind
from apps.risk.models import DecisionRecord
from apps.risk.tests.support import active_rule


def _queued_ids() -> list[str]:
    import json

    return [json.loads(raw)["id"] for raw in get_redis().lrange(recorder.QUEUE_KEY, 0, -1)]


@pytest.mark.django_db
def test_a_refusal_is_in_the_record_queue_when_decide_returns():
    services.list_entry_add(
        action="block", dimension="msisdn", value="13800000070", reason="fraud", actor_id=None
    )
    active_rule("review-big", "amount_fen > 10000", outcome="review", kinds=["checkout"])

    blocked = services.decide(event=Event(kind=Kind.SIGN_IN, msisdn="13800000070"))
    reviewed = services.decide(event=Event(kind=Kind.CHECKOUT, amount_fen=20000))

    # No later decision carried them and the writer has not run: they are stored already.
    assert _queued_ids() == [blocked.id, reviewed.id]
    assert (blocked.outcome, reviewed.outcome) == ("block", "review")


@pytest.mark.django_db
def test_an_allowed_decision_waits_for_the_writer_which_one_thread_serves(monkeypatch):
    monkeypatch.setattr(recorder, "PUSH_AFTER_SECONDS", 0.05)
    first = services.decide(event=Event(kind=Kind.SIGN_IN, msisdn="13800000071"))
    threads = threading.active_count()

    later = [services.decide(event=Event(kind=Kind.SIGN_IN)) for _ in range(5)]
    deadline = time.monotonic() + 3
    while len(_queued_ids()) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert sorted(_queued_ids()) == sorted([first.id, *(d.id for d in later)])
    assert threading.active_count() == threads  # no thread per decision


@pytest.mark.django_db(transaction=True)
def test_a_fail_closed_refusal_survives_the_rollback_of_the_callers_transaction(settings):
    services.decide(event=Event(kind=Kind.CHECKOUT, reference="before"))  # buffered, allowed
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # Redis goes away
    get_redis.cache_clear()
    try:
        with pytest.raises(RiskBlocked), transaction.atomic():
            services.enforce(
                event=Event(kind=Kind.PHONE_BILL_CHARGE, amount_fen=100, reference="O7")
            )
    finally:
        get_redis.cache_clear()

    rows = dict(DecisionRecord.objects.values_list("reference", "outcome"))
    assert rows == {"O7": "block", "before": "allow"}
    assert DecisionRecord.objects.get(reference="O7").reasons == ["RISK_UNAVAILABLE"]


def _waiting_inserts() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE 'INSERT INTO \"risk_decisionrecord\"%%'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_flusher_that_outlived_its_lock_trims_nothing_and_no_row_is_lost(monkeypatch):
    monkeypatch.setattr(recorder, "FLUSH_LOCK_SECONDS", 1)
    first = [services.decide(event=Event(kind=Kind.SIGN_IN, reference=f"a{n}")) for n in range(3)]
    recorder.push_pending()
    blocker = connections.create_connection("default")
    blocker.connect()
    blocker.set_autocommit(False)
    with blocker.cursor() as cursor:  # inserts wait: a slow database
        cursor.execute('LOCK TABLE "risk_decisionrecord" IN SHARE ROW EXCLUSIVE MODE')

    def flush() -> None:
        recorder.decisions_flush()
        connection.close()

    slow = threading.Thread(target=flush)
    slow.start()
    _wait_for(lambda: _waiting_inserts() == 1)
    time.sleep(1.2)  # its lock expires
    second = [services.decide(event=Event(kind=Kind.SIGN_IN, reference=f"b{n}")) for n in range(2)]
    recorder.push_pending()
    next_ = threading.Thread(target=flush)
    next_.start()
    _wait_for(lambda: _waiting_inserts() == 2)
    third = [services.decide(event=Event(kind=Kind.SIGN_IN, reference=f"c{n}")) for n in range(3)]
    recorder.push_pending()  # arrive while both are writing
    blocker.commit()
    blocker.close()
    slow.join()
    next_.join()

    recorder.decisions_flush()

    made = {d.id for d in [*first, *second, *third]}
    assert {str(i) for i in DecisionRecord.objects.values_list("id", flat=True)} == made
    assert _queued_ids() == []
    assert get_redis().get(recorder.FLUSH_LOCK_KEY) is None


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
