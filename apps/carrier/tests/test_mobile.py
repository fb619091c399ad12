"""The mobile-business adapter over real HTTP: typed reads, and plan changes/add-ons exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.carrier import mobile
from apps.carrier.errors import CarrierRejected, CarrierUnavailable
from tests.fixtures.sandbox_support import unique_key, unique_msisdn


@pytest.fixture
def line(carrier_sandbox, settings):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    settings.CARRIER_MAX_ATTEMPTS = 2
    msisdn = unique_msisdn("158")
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000, plan="5G-58")
    return msisdn


def _next_month_first():
    return (timezone.localdate().replace(day=28) + timedelta(days=4)).replace(day=1)


def test_usage_plan_offers_and_bill_are_typed(carrier_sandbox, line):
    usage = mobile.subscriber_usage(line)
    plan = mobile.subscriber_plan(line)
    offers = mobile.plans_available(line)
    bill = mobile.subscriber_bill(line, f"{timezone.localdate():%Y-%m}")

    assert [(b.kind, b.total_mb, b.remaining_mb) for b in usage.buckets] == [("plan", 30720, 30720)]
    assert (usage.total_mb, usage.used_mb, usage.overage_fen) == (30720, 0, 0)
    assert plan.plan is not None and (plan.plan.code, plan.plan.fee_fen) == ("5G-58", 5800)
    assert (plan.since, plan.pending) == (timezone.localdate().replace(day=1), None)
    assert [a.code for a in offers.addons] == [
        "ADD-5GB",
        "ADD-10GB",
        "ADD-5G-10GB",
        "VRBT",
        "CALLER-ID",
        "VOICE-100",
        "ROAM-DAY",
        "CLOUD-200",
    ]
    assert [(i.kind, i.amount_fen) for i in bill.items] == [("plan_fee", 5800)]
    assert (bill.plan_code, bill.charges_fen, bill.balance_fen) == ("5G-58", 5800, 10_000)


def test_a_bill_out_of_range_is_rejected_with_the_carriers_code(carrier_sandbox, line):
    with pytest.raises(CarrierRejected) as info:
        mobile.subscriber_bill(line, "2000-01")

    assert info.value.carrier_code == "BILL_NOT_AVAILABLE"


def test_a_plan_change_under_a_lost_answer_is_applied_once(carrier_sandbox, line):
    key = unique_key()
    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    with pytest.raises(CarrierUnavailable):
        mobile.plan_change_once(msisdn=line, plan_code="5G-128", idempotency_key=key)
    carrier_sandbox.set_knobs(lost_response_rate=0.0)

    applied = mobile.plan_change_once(msisdn=line, plan_code="5G-128", idempotency_key=key)

    assert (applied.kind, applied.offer_code, applied.effective_from) == (
        "plan_change",
        "5G-128",
        _next_month_first(),
    )
    assert mobile.offer_applied_by_key(key) == applied
    plan = mobile.subscriber_plan(line)
    assert plan.pending is not None and plan.pending.request_id == applied.request_id


def test_an_add_on_under_a_timeout_is_applied_once(carrier_sandbox, line):
    key = unique_key()
    carrier_sandbox.set_knobs(timeout_rate=1.0, hang_ms=1000)
    with pytest.raises(CarrierUnavailable):
        mobile.addon_once(
            msisdn=line, addon_code="ADD-5GB", charge_balance=True, idempotency_key=key
        )
    assert carrier_sandbox.reset_knobs()["timeout_rate"] == 0.0
    assert mobile.offer_applied_by_key(key) is None

    first = mobile.addon_once(
        msisdn=line, addon_code="ADD-5GB", charge_balance=True, idempotency_key=key
    )
    again = mobile.addon_once(
        msisdn=line, addon_code="ADD-5GB", charge_balance=True, idempotency_key=key
    )

    assert first == again
    assert first.fee_fen == 1000
    usage = mobile.subscriber_usage(line)
    assert sorted(b.kind for b in usage.buckets) == ["addon", "plan"]
    assert mobile.subscriber_bill(line, f"{timezone.localdate():%Y-%m}").balance_fen == 9000


def test_a_refused_plan_change_raises_the_carriers_reason(carrier_sandbox, line):
    with pytest.raises(CarrierRejected) as info:
        mobile.plan_change_once(msisdn=line, plan_code="5G-58", idempotency_key=unique_key())

    assert info.value.carrier_code == "SAME_PLAN"
    assert mobile.subscriber_plan(line).pending is None
