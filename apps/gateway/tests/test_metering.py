"""Metering: buffered records, batched writes, an idempotent hourly rollup, charts, /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apps.core.redis import get_redis
from apps.gateway import metering
from apps.gateway.models import CallRecord, UsageHourly
from apps.gateway.partitions import callrecord_partitions_ensure
from apps.gateway.selectors import calls_recent, latency_percentile, usage_series
from apps.gateway.tests.support import SignedClient, gateway_app_create

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.gateway.tests.urls")]

CHECK = "/test-sim-swap/v1/check"


def test_calls_are_buffered_then_written_and_rolled_up_once():
    app = gateway_app_create(quota_calls=100)
    client = SignedClient(app)
    for _ in range(3):
        assert client.post(CHECK, {"phoneNumber": "+8613800000000"}).status_code == 200
    assert client.post(CHECK, {"phoneNumber": "+86", "maxAge": 0}).status_code == 400
    # Nothing reaches the database during the calls.
    assert CallRecord.objects.count() == 0
    metering.meter_flush()  # the background thread may have pushed some already
    assert get_redis().llen(metering.METER_KEY) == 4
    raw = get_redis().lrange(metering.METER_KEY, 0, -1)
    assert metering.meter_drain() == 4
    assert get_redis().llen(metering.METER_KEY) == 0
    usage = UsageHourly.objects.get(app_id=app.app_id)
    assert (usage.calls, usage.errors, usage.throttled) == (4, 1, 0)
    assert sum(usage.latency_buckets) == 4
    assert usage.latency_sum_us == sum(CallRecord.objects.values_list("latency_us", flat=True))
    # A crash after the commit but before LTRIM: the same batch is drained again.
    get_redis().rpush(metering.METER_KEY, *raw)
    assert metering.meter_drain() == 4
    assert CallRecord.objects.count() == 4
    usage.refresh_from_db()
    assert (usage.calls, usage.errors) == (4, 1)
    statuses = sorted(CallRecord.objects.values_list("status_code", flat=True))
    assert statuses == [200, 200, 200, 400]
    record = CallRecord.objects.filter(status_code=400).get()
    assert record.error_code == "INVALID_ARGUMENT"
    assert record.capability == "sim-swap"
    assert record.client_id == app.client_id


def test_a_second_drainer_waits_for_the_first():
    get_redis().set(metering.DRAIN_LOCK_KEY, "someone", ex=60)
    get_redis().rpush(metering.METER_KEY, "[]")
    assert metering.meter_drain() == 0
    assert get_redis().llen(metering.METER_KEY) == 1


def _usage(app_id, hour, calls, errors, latency_sum_us, buckets):
    UsageHourly.objects.create(
        app_id=app_id,
        partner_id=1,
        environment="sandbox",
        capability="sms",
        hour=hour,
        calls=calls,
        errors=errors,
        latency_sum_us=latency_sum_us,
        latency_buckets=buckets,
    )


def test_usage_series_by_hour_and_by_shanghai_day():
    # 15:00 and 16:00 UTC on 1 Nov are 23:00 on 1 Nov and 00:00 on 2 Nov in Shanghai.
    h1 = datetime(2026, 11, 1, 15, tzinfo=UTC)
    h2 = h1 + timedelta(hours=1)
    h3 = h1 + timedelta(hours=2)
    _usage(7, h1, 10, 1, 50_000, [10] + [0] * 12)
    _usage(7, h2, 20, 0, 200_000, [0, 0, 0, 20] + [0] * 9)
    _usage(7, h3, 20, 2, 100_000, [0, 0, 20] + [0] * 10)
    _usage(8, h1, 99, 0, 1, [99] + [0] * 12)
    hours = usage_series(app_id=7, start=h1, end=h3 + timedelta(hours=1))
    assert [(p.calls, p.errors, p.avg_latency_ms) for p in hours] == [
        (10, 1, 5.0),
        (20, 0, 10.0),
        (20, 2, 5.0),
    ]
    days = usage_series(app_id=7, start=h1, end=h3 + timedelta(hours=1), granularity="day")
    assert [(p.start.day, p.calls, p.errors) for p in days] == [(1, 10, 1), (2, 40, 2)]
    # Day 2: 20 calls at 2–5 ms and 20 at 5–10 ms; the 38th call is 90 % into the last bucket.
    assert days[1].p95_latency_ms == 9.5


def test_latency_percentile_interpolates_within_the_bucket():
    assert latency_percentile([0] * 13, 0.95) is None
    assert latency_percentile([100] + [0] * 12, 0.5) == 0.5
    assert latency_percentile([0] * 12 + [5], 0.95) == 5000.0


def test_calls_recent_newest_first():
    app = gateway_app_create()
    client = SignedClient(app)
    client.post(CHECK, {"phoneNumber": "+8613800000000"})
    client.post(CHECK, {"phoneNumber": "+8613900000404"})
    metering.meter_flush()
    metering.meter_drain()
    calls = calls_recent(app_id=app.app_id)
    assert [(c.status_code, c.error_code) for c in calls] == [
        (404, "IDENTIFIER_NOT_FOUND"),
        (200, ""),
    ]


def test_metrics_count_per_capability_without_app_labels(client, settings):
    settings.METRICS_OPEN = True
    app = gateway_app_create()
    SignedClient(app).post(CHECK, {"phoneNumber": "+8613800000000"})
    text = client.get("/metrics").content.decode()
    assert 'gateway_calls_total{capability="sim-swap",status_class="2xx"}' in text
    assert 'gateway_call_duration_seconds_bucket{capability="sim-swap",le="0.001"}' in text
    labels = {
        part.split("=")[0]
        for line in text.splitlines()
        if line.startswith("gateway_") and "{" in line
        for part in line.split("{")[1].split("}")[0].split(",")
    }
    assert labels == {"capability", "status_class", "le"}


def test_metrics_token_is_required_when_set(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200


def test_metrics_are_closed_without_a_token_outside_development(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_OPEN = False
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    settings.METRICS_OPEN = True
    assert client.get("/metrics").status_code == 200


def _partition_of(created_at):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM gateway_callrecord WHERE created_at = %s",
            [created_at],
        )
        return cursor.fetchone()[0]


def test_partitions_are_made_ahead_and_rows_moved_out_of_the_default():
    from django.utils import timezone

    now = timezone.now()
    CallRecord.objects.create(
        created_at=now,
        app_id=1,
        partner_id=1,
        environment="sandbox",
        capability="sms",
        operation="x",
        status_code=200,
        latency_us=5,
        client_id="c",
    )
    assert _partition_of(now) == "gateway_callrecord_default"
    made = callrecord_partitions_ensure(months_ahead=1)
    assert len(made) == 2
    assert _partition_of(now) == made[0]
    assert callrecord_partitions_ensure(months_ahead=1) == []
    assert CallRecord.objects.count() == 1
