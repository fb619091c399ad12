"""A day's rollups equal the figures worked out by hand, and recomputing a day changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from apps.analytics import rollups, views_counter
from apps.analytics.models import (
    DailyMetrics,
    FulfilmentDaily,
    PaymentDaily,
    ProductViewDaily,
    SalesDaily,
    SalesHourly,
)
from apps.analytics.tests.support import at, intent, order
from apps.catalog.tests.factories import small_catalog
from apps.marketing.models import Channel, ChannelOrder
from apps.payments.models import Refund
from apps.service.models import Ticket

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 3)
D = "2026-11-03"


@pytest.fixture
def day_of_business():
    """Given: on 3 Nov, A (a buyer since 2 Nov) pays 2 data packs and a video pass by Alipay
    in Guangdong at 10:15; B (new that day) pays an iPhone by WeChat in Beijing at 11:40,
    through a partner shop's channel; C places an order and does not pay (one Alipay attempt
    pending, one WeChat attempt failed);
    A gets a 15.00 refund and B complains. Orders of 2 and 4 Nov fall outside the day."""
    user_model = get_user_model()
    a = user_model.objects.create_user("13800000001")
    b = user_model.objects.create_user("13800000002")
    c = user_model.objects.create_user("13800000003")
    user_model.objects.filter(pk=a.pk).update(date_joined=at("2026-10-01", 9))
    user_model.objects.filter(pk=b.pk).update(date_joined=at(D, 8))
    user_model.objects.filter(pk=c.pk).update(date_joined=at("2026-10-02", 9))
    cat = small_catalog()
    order(a, [(cat["pack"], 1)], created=at("2026-11-02", 20), paid=at("2026-11-02", 20, 1))
    o1 = order(a, [(cat["pack"], 2), (cat["vip"], 1)], created=at(D, 10, 10), paid=at(D, 10, 15),
               method="alipay", province="广东", delivered_after=[60, 120])  # fmt: skip
    o2 = order(b, [(cat["iphone"], 1)], created=at(D, 11, 30), paid=at(D, 11, 40),
               method="wechat", province="北京", delivered_after=[3600])  # fmt: skip
    # B came through a partner shop's link: marketing attributed the order to its channel.
    cat["channel"] = Channel.objects.create(name="合作商城")
    ChannelOrder.objects.create(order_number=o2.number, channel=cat["channel"], code="shop",
                                user_id=b.pk)  # fmt: skip
    o4 = order(c, [(cat["vip"], 1)], created=at(D, 12))
    intent(o4.number, user=c, method="alipay", amount=1500, status="pending", created=at(D, 12, 1))
    intent(o4.number, user=c, method="wechat", amount=1500, status="failed", created=at(D, 12, 2))
    order(c, [(cat["vip"], 1)], created=at("2026-11-04", 0, 5), paid=at("2026-11-04", 0, 10))
    paid = o1.__class__.objects.get(pk=o1.pk)
    refund = Refund.objects.create(
        public_id="R1", intent=_settling(paid.number), amount_fen=1500, reason="x",
        status=Refund.Status.SUCCEEDED, request_key="r1",
    )  # fmt: skip
    Refund.objects.filter(pk=refund.pk).update(created_at=at(D, 15))
    ticket = Ticket.objects.create(user=b, kind=Ticket.Kind.COMPLAINT, subject="慢")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=at(D, 16))
    return cat


def _settling(reference: str):
    from apps.payments.models import PaymentIntent

    return PaymentIntent.objects.get(reference=reference, settles=True)


def _rows() -> dict[str, list[dict]]:
    skip = {"id", "computed_at"}
    return {
        model.__name__: sorted(
            ({k: v for k, v in model_to_dict(r).items() if k not in skip} for r in model.objects.all()),
            key=repr,
        )
        for model in (DailyMetrics, SalesDaily, SalesHourly, PaymentDaily, FulfilmentDaily)
    }  # fmt: skip


def test_day_rollup_equals_the_hand_computed_figures(day_of_business):
    cat = day_of_business
    # When the day is rolled up
    m = rollups.day_rollup(day=DAY)
    # Then: orders 2 (A: 2×30.00 + 15.00 = 75.00; B: 5999.00)
    assert (m.paid_orders, m.gmv_fen) == (2, 7_500 + 599_900)
    assert (m.checkouts, m.carts, m.delivered_orders) == (3, 3, 2)
    assert (m.deliveries, m.deliveries_failed) == (3, 0)
    # pay to delivery 60 s, 120 s, 3600 s: p50 120, p95 120 + 0.9 × 3480 = 3252
    assert (m.pay_to_delivery_p50_s, m.pay_to_delivery_p95_s) == (120, 3252)
    assert (m.refunds, m.refund_fen, m.complaints) == (1, 1500, 1)
    assert (m.new_users, m.active_users, m.buyers, m.repeat_buyers) == (1, 3, 2, 1)
    by = {(r.dimension, r.value): (r.orders, r.gmv_fen) for r in SalesDaily.objects.filter(day=DAY)}
    assert by[("kind", "electronic")] == (1, 6_000)
    assert by[("kind", "digital")] == (1, 1_500)
    assert by[("kind", "physical")] == (1, 599_900)
    assert by[("category", str(cat["data"].pk))] == (1, 6_000)
    assert by[("province", "广东")] == (1, 7_500)
    assert by[("province", "北京")] == (1, 599_900)
    assert by[("method", "alipay")] == (1, 7_500)
    assert by[("method", "wechat")] == (1, 599_900)
    channel = str(cat["channel"].pk)
    assert (by[("channel", "")], by[("channel", channel)]) == ((1, 7_500), (1, 599_900))
    assert SalesDaily.objects.get(day=DAY, dimension="channel", value=channel).label == "合作商城"
    assert by[("cp", "")] == (2, 607_400)
    assert (
        SalesDaily.objects.get(day=DAY, dimension="category", value=str(cat["data"].pk)).label
        == "流量包"
    )
    hours = [(h.hour, h.orders, h.gmv_fen) for h in SalesHourly.objects.order_by("hour")]
    assert hours == [(at(D, 10), 1, 7_500), (at(D, 11), 1, 599_900)]
    pays = {
        p.method: (p.attempts, p.succeeded, p.failed, p.amount_fen)
        for p in PaymentDaily.objects.all()
    }
    assert pays == {"alipay": (2, 1, 0, 7_500), "wechat": (2, 1, 1, 599_900)}
    (f,) = FulfilmentDaily.objects.all()
    assert (f.kind, f.delivered, f.failed, f.p50_s) == ("digital", 3, 0, 120)


def test_recomputing_a_day_gives_the_same_rows(day_of_business):
    rollups.day_rollup(day=DAY)
    first = _rows()
    rollups.day_rollup(day=DAY)
    assert _rows() == first
    assert DailyMetrics.objects.count() == 1


def test_an_empty_day_has_one_row_of_zeros_and_no_dimension_rows():
    m = rollups.day_rollup(day=DAY)
    assert (m.paid_orders, m.gmv_fen, m.pay_to_delivery_p50_s) == (0, 0, None)
    assert not SalesDaily.objects.exists()


def test_views_are_counted_in_redis_and_flushed_as_totals(day_of_business, settings):
    # Given 7 views of the data pack and 2 of the video pass today
    from django.utils import timezone

    from apps.core.redis import get_redis

    get_redis().delete(views_counter._key(timezone.localdate()))
    pack, vip = day_of_business["pack"], day_of_business["vip"]
    for _ in range(7):
        views_counter.view_count(product_id=pack.pk)
    for _ in range(2):
        views_counter.view_count(product_id=vip.pk)
    # When the counters are flushed twice
    views_counter.views_flush(day=timezone.localdate())
    views_counter.views_flush(day=timezone.localdate())
    # Then the rows hold the totals once
    rows = dict(ProductViewDaily.objects.values_list("product_id", "views"))
    assert rows == {pack.pk: 7, vip.pk: 2}
    assert rollups.day_rollup(day=timezone.localdate()).product_views == 9


def test_backfill_recomputes_each_day_of_the_range(day_of_business, capsys):
    call_command("analytics_backfill", "2026-11-02", "2026-11-04", "--no-progress")
    days = list(DailyMetrics.objects.order_by("day").values_list("day", "paid_orders"))
    assert days == [(DAY - timedelta(days=1), 1), (DAY, 2), (DAY + timedelta(days=1), 1)]
    assert "3 day(s) recomputed" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["2026-13-01"], ["2026-11-04", "2026-11-02"]])
def test_backfill_refuses_bad_dates_and_writes_nothing(args):
    with pytest.raises(CommandError):
        call_command("analytics_backfill", *args, "--no-progress")
    assert not DailyMetrics.objects.exists()


def test_gateway_calls_are_summed_per_capability_and_partner_with_p95_from_the_histograms():
    from apps.analytics.models import GatewayDaily
    from apps.gateway.models import UsageHourly

    # Given two hours of SMS calls of one partner's two apps: 100 calls in the 5 ms bucket and
    # 100 in the 50 ms bucket, 10 errors, 2.6 s of latency in all; and a call the next day
    def usage(app: int, hour: str, calls: int, errors: int, latency_us: int, at_5: int, at_50: int):
        buckets = [0] * 13
        buckets[2], buckets[5] = at_5, at_50
        UsageHourly.objects.create(app_id=app, partner_id=7, environment="production",
                                   capability="sms", hour=at(hour[:10], int(hour[11:])), calls=calls,
                                   errors=errors, throttled=0, latency_sum_us=latency_us,
                                   latency_buckets=buckets)  # fmt: skip

    usage(1, f"{D} 09", 100, 4, 600_000, 100, 0)
    usage(2, f"{D} 10", 100, 6, 2_000_000, 0, 100)
    usage(1, "2026-11-04 00", 50, 0, 100_000, 50, 0)
    # When the day is rolled up
    rollups.day_rollup(day=DAY)
    # Then one row: 200 calls, 10 errors, 13 ms on average, p95 in the 20-50 ms bucket
    (row,) = GatewayDaily.objects.all()
    assert (row.capability, row.partner_id, row.calls, row.errors) == ("sms", 7, 200, 10)
    assert row.latency_avg_ms == 13.0
    assert row.latency_p95_ms == 47  # 20 + 30 × (190 − 100) / 100


def test_the_beat_job_rolls_up_yesterday_and_today(day_of_business, settings):
    from django.utils import timezone

    from apps.analytics.tasks import rollup_recent_task

    today = timezone.localdate()
    assert rollup_recent_task.delay().get() == [
        (today - timedelta(days=1)).isoformat(),
        today.isoformat(),
    ]
    assert set(DailyMetrics.objects.values_list("day", flat=True)) == {
        today - timedelta(days=1),
        today,
    }
