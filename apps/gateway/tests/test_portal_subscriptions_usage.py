"""Subscriptions with their quota left, and the usage report behind the charts (exact numbers)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from apps.core.models import AuditEvent
from apps.gateway.context import context_load
from apps.gateway.limits import Outcome, limits_check
from apps.gateway.models import Package, Subscription, UsageHourly
from apps.gateway.portal.access import app_subscribe, app_unsubscribe
from apps.gateway.portal.errors import AppNotFound, PackageNotFound, SubscriptionNotFound
from apps.gateway.portal.selectors import subscriptions_of
from apps.gateway.portal.usage import usage_report
from apps.gateway.tests.portal_support import OTHER_LICENCE, approved_partner, partner_app

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _package(**overrides):
    fields = {
        "code": "sms-trial",
        "name": "短信试用",
        "capabilities": ["sms", "sim-swap"],
        "quota_calls": 3,
        "quota_period": "day",
        "rate_per_second": 5,
    }
    fields.update(overrides)
    return Package.objects.create(**fields)


def test_subscribe_count_quota_and_unsubscribe():
    _package()
    app = partner_app()
    owner = app.partner.owner_id
    sub_id = app_subscribe(user_id=owner, app_id=app.pk, package_code="sms-trial")
    # Subscribing twice is the same subscription.
    assert app_subscribe(user_id=owner, app_id=app.pk, package_code="sms-trial") == sub_id
    sub = Subscription.objects.get()
    context = context_load(app.pk)
    now = datetime.now(tz=SH)
    for n in range(4):
        decision = limits_check(
            context=context, environment="sandbox", capability="sms",
            subscriptions=context.subscriptions_for("sms", now), call_id=f"c{n}",
            nonce_key=None, now=now,
        )  # fmt: skip
        assert decision.outcome == (Outcome.COUNTED if n < 3 else Outcome.QUOTA_EXCEEDED)
    [row] = subscriptions_of(app_id=app.pk, now=now)
    assert (row.package_code, row.capabilities, row.quota_period) == (
        "sms-trial",
        ["sms", "sim-swap"],
        "day",
    )
    quota = {q.environment: (q.limit, q.used, q.remaining) for q in row.quota}
    assert quota == {"sandbox": (3, 3, 0), "production": (3, 0, 3)}

    app_unsubscribe(user_id=owner, app_id=app.pk, package_code="sms-trial")
    sub.refresh_from_db()
    assert sub.status == "cancelled"
    assert subscriptions_of(app_id=app.pk) == []
    with pytest.raises(SubscriptionNotFound):
        app_unsubscribe(user_id=owner, app_id=app.pk, package_code="sms-trial")
    actions = list(
        AuditEvent.objects.filter(object_type="gateway_subscription", object_id=str(sub.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["gateway_subscription.active", "gateway_subscription.cancelled"]
    # Subscribing again after a cancellation starts a new subscription.
    assert app_subscribe(user_id=owner, app_id=app.pk, package_code="sms-trial") != sub.pk


def test_unknown_inactive_or_foreign_subscriptions_are_refused():
    _package(is_active=False)
    app = partner_app()
    with pytest.raises(PackageNotFound):
        app_subscribe(user_id=app.partner.owner_id, app_id=app.pk, package_code="sms-trial")
    with pytest.raises(PackageNotFound):
        app_subscribe(user_id=app.partner.owner_id, app_id=app.pk, package_code="nope")
    Package.objects.filter(code="sms-trial").update(is_active=True)
    stranger = approved_partner(licence_number=OTHER_LICENCE)
    with pytest.raises(AppNotFound):
        app_subscribe(user_id=stranger.owner_id, app_id=app.pk, package_code="sms-trial")
    assert Subscription.objects.count() == 0


def test_unlimited_quota_has_no_remaining():
    _package(code="unlimited", quota_calls=None)
    app = partner_app()
    app_subscribe(user_id=app.partner.owner_id, app_id=app.pk, package_code="unlimited")
    [row] = subscriptions_of(app_id=app.pk)
    assert [(q.limit, q.used, q.remaining) for q in row.quota] == [(None, 0, None)] * 2


def test_quota_reads_none_when_redis_is_down(redis_down):
    _package()
    app = partner_app()
    app_subscribe(user_id=app.partner.owner_id, app_id=app.pk, package_code="sms-trial")
    [row] = subscriptions_of(app_id=app.pk)
    assert [(q.used, q.remaining) for q in row.quota] == [(None, None)] * 2


def _usage(app_id, capability, hour, calls, errors, latency_sum_us, buckets, environment="sandbox"):
    UsageHourly.objects.create(
        app_id=app_id, partner_id=1, environment=environment, capability=capability, hour=hour,
        calls=calls, errors=errors, throttled=0, latency_sum_us=latency_sum_us,
        latency_buckets=buckets,
    )  # fmt: skip


def _buckets(**by_bound):
    """A latency histogram from {"b5": 3, "over": 1}: counts per upper bound (ms)."""
    bounds = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    return [by_bound.get(f"b{b}", 0) for b in bounds] + [by_bound.get("over", 0)]


def test_usage_by_day_and_hour_exact_numbers():
    now = datetime(2026, 11, 27, 15, 30, tzinfo=SH)
    app_id, other_app = 41, 42
    _usage(app_id, "sms", datetime(2026, 11, 27, 9, tzinfo=SH), 10, 1, 30_000, _buckets(b2=9, b5=1))
    _usage(
        app_id, "sms", datetime(2026, 11, 27, 15, tzinfo=SH), 20, 0, 100_000, _buckets(b5=19, b10=1)
    )
    _usage(app_id, "sim-swap", datetime(2026, 11, 27, 15, tzinfo=SH), 4, 2, 8_000, _buckets(b2=4))
    _usage(app_id, "sms", datetime(2026, 11, 25, 0, tzinfo=SH), 6, 6, 60_000, _buckets(over=6))
    _usage(
        app_id, "sms", datetime(2026, 11, 20, 23, tzinfo=SH), 99, 0, 1, _buckets(b1=99)
    )  # too old
    _usage(other_app, "sms", datetime(2026, 11, 27, 15, tzinfo=SH), 1000, 0, 1, _buckets(b1=1000))
    _usage(
        app_id,
        "sms",
        datetime(2026, 11, 27, 15, tzinfo=SH),
        7,
        0,
        7_000,
        _buckets(b1=7),
        "production",
    )

    daily = usage_report(
        app_ids=[app_id], granularity="day", periods=3, now=now, environment="sandbox"
    )
    assert [(p.label, p.calls, p.errors) for p in daily.points] == [
        ("2026-11-25", 6, 6),
        ("2026-11-26", 0, 0),
        ("2026-11-27", 34, 3),
    ]
    assert (daily.calls, daily.errors) == (40, 9)
    today = daily.points[-1]
    # (30,000 + 100,000 + 8,000) µs over 34 calls. 95 % of 34 is 32.3: 13 calls are under
    # 2 ms, 20 in (2, 5] ms, so 2 + 3 x (32.3 - 13) / 20 = 4.895 ms.
    assert (today.avg_latency_ms, today.p95_latency_ms) == (4.06, 4.895)
    assert daily.points[0].p95_latency_ms == 5000.0  # all beyond the last bound
    assert (daily.points[1].avg_latency_ms, daily.points[1].p95_latency_ms) == (None, None)
    assert [(c.capability, c.calls, c.errors) for c in daily.by_capability] == [
        ("sms", 36, 7),
        ("sim-swap", 4, 2),
    ]

    hourly = usage_report(
        app_ids=[app_id], granularity="hour", periods=7, now=now, capability="sms"
    )
    assert [p.label for p in hourly.points] == [f"11-27 {h:02d}:00" for h in range(9, 16)]
    assert [p.calls for p in hourly.points] == [10, 0, 0, 0, 0, 0, 27]  # both environments
    assert hourly.points[-1].avg_latency_ms == round(107_000 / 27 / 1000, 2)
    with translation.override("en"):
        chart = hourly.chart()
    assert chart["labels"][-1] == "11-27 15:00"
    assert [d["label"] for d in chart["datasets"]] == [
        "Calls",
        "Errors",
        "Average latency (ms)",
        "p95 latency (ms)",
    ]
    assert chart["datasets"][0]["data"] == [10, 0, 0, 0, 0, 0, 27]
