"""The configuration snapshot: a change made anywhere is seen by the next decision."""

from __future__ import annotations

import pytest

from apps.core.redis import get_redis
from apps.risk import counters, services, snapshot
from apps.risk.events import Event, Kind
from apps.risk.models import Cap, ListEntry, Rule
from apps.risk.tests.support import active_rule, cap

pytestmark = pytest.mark.django_db


def _elsewhere_commits() -> None:
    """What another process's change does to this one: the tables change and, on commit,
    the generation moves. This process's snapshot is not told."""
    counters.generation_bump()


def test_a_rule_activated_by_another_process_decides_the_next_decision():
    draft = services.rule_create(code="no-big-checkouts", expression="amount_fen > 10000",
                                 outcome="block", reason_code="BIG", kinds=["checkout"],
                                 actor_id=None, why="test")  # fmt: skip
    event = Event(kind=Kind.CHECKOUT, amount_fen=20000)
    before = services.decide(event=event)

    Rule.objects.filter(pk=draft.pk).update(state=Rule.State.ACTIVE)
    _elsewhere_commits()
    after = services.decide(event=event)

    assert (before.outcome, after.outcome) == ("allow", "block")
    assert after.rules == ("no-big-checkouts@1",)


def test_a_rule_retired_by_another_process_stops_deciding_at_once():
    rule = active_rule("no-sign-in", "amount_fen >= 0", kinds=["sign_in"])
    assert services.decide(event=Event(kind=Kind.SIGN_IN)).outcome == "block"

    Rule.objects.filter(pk=rule.pk).update(state=Rule.State.RETIRED)
    _elsewhere_commits()

    assert services.decide(event=Event(kind=Kind.SIGN_IN)).outcome == "allow"


def test_a_list_entry_added_elsewhere_blocks_the_next_decision_which_counts_nothing():
    cap("otp-hour", kinds=["otp_request"], dimension="msisdn", window="hour", metric="count",
        limit=None)  # fmt: skip
    event = Event(kind=Kind.OTP_REQUEST, msisdn="13800000060")
    assert services.decide(event=event).totals == {"otp-hour": 1}

    ListEntry.objects.create(action="block", dimension="msisdn", value="13800000060", reason="x")
    _elsewhere_commits()
    blocked = services.decide(event=event)

    assert (blocked.outcome, blocked.reasons) == ("block", ("LIST_BLOCK_MSISDN",))
    assert blocked.counted == ()
    assert sum(int(v) for v in get_redis().hgetall("risk:c:otp-hour:13800000060").values()) == 1


def test_a_cap_lowered_elsewhere_applies_to_the_next_decision_counted_once():
    made = cap("bill-day", kinds=["phone_bill_charge"], dimension="user_id", window="day",
               metric="amount", limit=10_000)  # fmt: skip
    event = Event(kind=Kind.PHONE_BILL_CHARGE, user_id=61, amount_fen=3000)
    assert services.decide(event=event).outcome == "allow"

    Cap.objects.filter(pk=made.pk).update(limit=5000, version=2)
    _elsewhere_commits()
    refused = services.decide(event=event)
    allowed = services.decide(event=Event(kind=Kind.PHONE_BILL_CHARGE, user_id=61, amount_fen=2000))

    assert (refused.outcome, refused.rules) == ("block", ("cap:bill-day@2",))
    assert refused.totals["bill-day"] == 3000  # the stale try counted nothing
    assert (allowed.outcome, allowed.totals["bill-day"]) == ("allow", 5000)


def test_reloading_an_unchanged_configuration_parses_no_rule_again():
    for n in range(3):
        active_rule(f"r{n}", f"amount_fen > {n}")
    snapshot.load()
    parsed = snapshot.load()

    before = _parse_count()
    again = snapshot.load()

    assert _parse_count() == before
    assert (
        [r.label for r in again.active]
        == [r.label for r in parsed.active]
        == [
            "r0@1",
            "r1@1",
            "r2@1",
        ]
    )


def _parse_count() -> int:
    from apps.risk.engine import _parsed

    return _parsed.cache_info().misses
