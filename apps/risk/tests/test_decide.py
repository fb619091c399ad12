"""decide(): lists, caps, rules, shadow rules, adaptation per kind, recording, Redis down."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.http import Origin, origin_bound
from apps.core.models import AuditEvent
from apps.risk import recorder, services
from apps.risk.events import Event, Kind
from apps.risk.models import DecisionRecord
from apps.risk.tests.support import active_rule, cap

pytestmark = pytest.mark.django_db


def test_an_event_nothing_objects_to_is_allowed_and_recorded_in_the_partitioned_table():
    decision = services.decide(
        event=Event(
            kind=Kind.CHECKOUT, user_id=7, msisdn="13800000001", amount_fen=500, reference="O1"
        )
    )

    assert (decision.outcome, decision.reasons, decision.rules) == ("allow", (), ())
    assert DecisionRecord.objects.count() == 0  # queued, not yet written
    assert recorder.decisions_flush() == [decision.id]
    row = DecisionRecord.objects.get()
    assert (row.kind, row.outcome, row.reference, row.amount_fen, row.msisdn) == (
        "checkout",
        "allow",
        "O1",
        500,
        "13800000001",
    )
    assert row.context["msisdn_prefix"] == "138"
    assert recorder.decisions_flush() == []


def test_block_lists_match_number_prefix_and_cidr_and_expired_entries_do_not():
    services.list_entry_add(
        action="block", dimension="msisdn", value="13800000002", reason="fraud", actor_id=None
    )
    services.list_entry_add(
        action="block", dimension="prefix", value="170", reason="virtual operator", actor_id=None
    )
    services.list_entry_add(
        action="block", dimension="ip", value="10.9.0.0/16", reason="proxy farm", actor_id=None
    )
    services.list_entry_add(
        action="block", dimension="device", value="dev-old", reason="old", actor_id=None,
        expires_at=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip

    def outcome(**subject: object) -> tuple[str, tuple[str, ...]]:
        d = services.decide(event=Event(kind=Kind.SIGN_IN, **subject))  # type: ignore[arg-type]
        return d.outcome, d.reasons

    assert outcome(msisdn="13800000002") == ("block", ("LIST_BLOCK_MSISDN",))
    assert outcome(msisdn="17012345678") == ("block", ("LIST_BLOCK_PREFIX",))
    assert outcome(msisdn="13800000003", ip="10.9.3.4") == ("block", ("LIST_BLOCK_IP",))
    assert outcome(msisdn="13800000003", ip="10.8.3.4", device_id="dev-old") == ("allow", ())


def test_fifty_real_threads_at_a_cap_of_ten_let_exactly_ten_through():
    cap(
        "otp-msisdn-hour",
        kinds=["otp_request"],
        dimension="msisdn",
        window="hour",
        metric="count",
        limit=10,
    )
    services.decide(event=Event(kind=Kind.SIGN_IN))  # the snapshot is loaded before the race
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        d = services.decide(event=Event(kind=Kind.OTP_REQUEST, msisdn="13800000004"))
        with lock:
            outcomes.append(d.outcome)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count("allow") == 10
    assert outcomes.count("block") == 40


def test_an_amount_cap_counts_fen_and_a_released_decision_gives_them_back():
    cap(
        "bill-user-day",
        kinds=["phone_bill_charge"],
        dimension="user_id",
        window="day",
        metric="amount",
        limit=2000,
    )
    event = Event(kind=Kind.PHONE_BILL_CHARGE, user_id=5, amount_fen=1500)

    first = services.decide(event=event)
    second = services.decide(event=event)
    services.decision_release(decision=first)
    third = services.decide(event=event)

    assert (first.outcome, second.outcome, third.outcome) == ("allow", "block", "allow")
    assert second.reasons == ("CAP_BILL_USER_DAY",)
    assert second.rules == ("cap:bill-user-day@1",)


def test_rules_fire_with_their_version_and_a_shadow_rule_never_changes_the_decision():
    active_rule(
        "big-night", "amount_fen > 10000 and hour >= 0", outcome="review", kinds=["checkout"]
    )
    shadow = services.rule_create(code="any-checkout", expression="amount_fen > 0", outcome="block",
                                  reason_code="ANY", kinds=[], actor_id=None, why="try it")  # fmt: skip
    services.rule_transition(rule_id=shadow.pk, to="shadow", actor_id=None, why="watch it")

    small = services.decide(event=Event(kind=Kind.CHECKOUT, amount_fen=500))
    big = services.decide(event=Event(kind=Kind.CHECKOUT, amount_fen=20000))

    assert (small.outcome, small.rules, small.shadow_rules) == ("allow", (), ("any-checkout@1",))
    assert (big.outcome, big.reasons, big.rules) == ("review", ("BIG_NIGHT",), ("big-night@1",))
    assert big.shadow_rules == ("any-checkout@1",)
    recorder.decisions_flush()
    assert sorted(DecisionRecord.objects.values_list("outcome", "shadow_rules")) == [
        ("allow", ["any-checkout@1"]), ("review", ["any-checkout@1"]),
    ]  # fmt: skip


def test_an_outcome_the_path_cannot_carry_out_becomes_the_next_stricter_one():
    active_rule("challenge-all", "amount_fen >= 0", outcome="challenge")

    assert services.decide(event=Event(kind=Kind.PHONE_BILL_CHARGE)).outcome == "challenge"
    assert services.decide(event=Event(kind=Kind.CHECKOUT)).outcome == "review"
    assert services.decide(event=Event(kind=Kind.SIGN_IN)).outcome == "block"


def test_an_allow_list_entry_skips_the_rules_but_not_the_caps():
    services.list_entry_add(
        action="allow", dimension="msisdn", value="13800000005", reason="VIP", actor_id=None
    )
    active_rule("no-checkouts", "amount_fen >= 0", kinds=["checkout"])
    cap(
        "checkout-msisdn-min",
        kinds=["checkout"],
        dimension="msisdn",
        window="minute",
        metric="count",
        limit=1,
    )
    event = Event(kind=Kind.CHECKOUT, msisdn="13800000005")

    assert services.decide(event=event).outcome == "allow"
    assert services.decide(event=event).reasons == ("CAP_CHECKOUT_MSISDN_MIN",)


def test_rules_read_counters_and_watch_lists():
    cap(
        "otp-device-hour",
        kinds=["otp_request"],
        dimension="device_id",
        window="hour",
        metric="count",
        limit=None,
    )
    active_rule(
        "device-many-codes",
        'counters["otp-device-hour"] > 2 and "device" in watch',
        kinds=["otp_request"],
    )
    services.list_entry_add(
        action="watch", dimension="device", value="dev-1", reason="odd", actor_id=None
    )

    outcomes = [
        services.decide(event=Event(kind=Kind.OTP_REQUEST, device_id="dev-1")).outcome
        for _ in range(3)
    ]
    other = [
        services.decide(event=Event(kind=Kind.OTP_REQUEST, device_id="dev-2")).outcome
        for _ in range(3)
    ]

    assert outcomes == ["allow", "allow", "block"]
    assert other == ["allow", "allow", "allow"]


def test_redis_down_fails_open_or_closed_per_kind(redis_down, settings):
    open_ = services.decide(event=Event(kind=Kind.CHECKOUT, amount_fen=100, reference="O9"))
    closed = services.decide(event=Event(kind=Kind.PHONE_BILL_CHARGE, amount_fen=100))
    settings.RISK_FAIL_OPEN = ["phone_bill_charge"]
    reconfigured = services.decide(event=Event(kind=Kind.PHONE_BILL_CHARGE, amount_fen=100))

    assert (open_.outcome, open_.reasons, open_.degraded) == ("allow", ("RISK_DEGRADED",), True)
    assert (closed.outcome, closed.reasons) == ("block", ("RISK_UNAVAILABLE",))
    assert reconfigured.outcome == "allow"
    # Without Redis each decision is written at once.
    assert DecisionRecord.objects.filter(degraded=True).count() == 3


def test_every_rule_change_is_audited_with_who_and_why():
    rule = active_rule("audited", "amount_fen > 1")
    services.rule_transition(rule_id=rule.pk, to="retired", actor_id=None, why="no longer needed")

    actions = list(
        AuditEvent.objects.filter(object_type="risk_rule")
        .order_by("id")
        .values_list("action", "after")
    )
    assert [a for a, _ in actions] == ["risk.rule.created", "risk_rule.active", "risk_rule.retired"]
    assert actions[-1][1]["why"] == "no longer needed"


def test_the_requests_address_and_device_fill_what_the_caller_left_out():
    services.list_entry_add(
        action="block", dimension="device", value="emulator-01", reason="farm", actor_id=None
    )
    with origin_bound(Origin(ip="10.9.1.2", device_id="emulator-01")):
        blocked = services.decide(event=Event(kind=Kind.SIGN_IN, msisdn="13800000040"))
        named = services.decide(
            event=Event(
                kind=Kind.SIGN_IN, msisdn="13800000041", device_id="own-device", ip="10.0.0.1"
            )
        )
    outside = services.decide(event=Event(kind=Kind.SIGN_IN, msisdn="13800000042"))
    recorder.decisions_flush()

    assert (blocked.outcome, blocked.reasons) == ("block", ("LIST_BLOCK_DEVICE",))
    assert named.outcome == outside.outcome == "allow"
    recorded = dict(DecisionRecord.objects.values_list("msisdn", "device_id"))
    assert recorded == {
        "13800000040": "emulator-01",
        "13800000041": "own-device",
        "13800000042": "",
    }
    assert DecisionRecord.objects.get(msisdn="13800000040").ip == "10.9.1.2"


def test_a_device_on_the_block_list_cannot_ask_for_a_sign_in_code(client, carrier_sandbox):
    services.list_entry_add(
        action="block", dimension="device", value="emulator-02", reason="farm", actor_id=None
    )
    body = {"phone": "13800000043"}

    refused = client.post("/api/v1/auth/otp/", body, content_type="application/json",
                          headers={"X-Device-Id": "emulator-02"})  # fmt: skip
    other = client.post("/api/v1/auth/otp/", body, content_type="application/json",
                        headers={"X-Device-Id": "phone-000001"})  # fmt: skip

    assert (refused.status_code, refused.json()["code"]) == (403, "RISK_BLOCKED")
    assert other.status_code < 400, other.content
