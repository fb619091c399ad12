"""Compute one day's rollups from the raw tables and replace that day's rows.

Idempotent: a day is recomputed whole (its rows deleted and written again in one transaction,
under an advisory lock so that two runs of the same day queue), so running it twice, or
after late data arrived, leaves exactly the rows a single run over the same data would.

The raw reads live in ``sources`` (the one module that reads other apps' tables in bulk).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from apps.analytics import sources
from apps.analytics.models import (
    DailyMetrics,
    FulfilmentDaily,
    GatewayDaily,
    PaymentDaily,
    ProductViewDaily,
    RiskDecisionDaily,
    SalesDaily,
    SalesHourly,
)
from apps.risk import selectors as risk_selectors

ROLLUP_WORK_MEM = "64MB"  # per sort, for the rollup's transaction only


@dataclass(frozen=True)
class Window:
    """An Asia/Shanghai day as the half-open interval [start, end)."""

    day: date
    start: datetime
    end: datetime


def day_window(day: date) -> Window:
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return Window(day=day, start=start, end=end)


def _day_lock(day: date) -> None:
    key = zlib.crc32(f"analytics:day:{day.isoformat()}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def day_rollup(*, day: date) -> DailyMetrics:
    """Recompute every rollup of ``day`` (a date in Asia/Shanghai) and return its metrics.

    Takes a transaction-scoped advisory lock per day and raises ``work_mem`` for that
    transaction only; reads the raw tables once per table.
    """
    window = day_window(day)
    now = timezone.now()
    with transaction.atomic():
        _day_lock(day)
        with connection.cursor() as cursor:
            # The day's sorts (distinct orders per dimension, percentiles) stay in memory.
            cursor.execute(f"SET LOCAL work_mem = '{ROLLUP_WORK_MEM}'")
        sales = sources.sales(window.start, window.end)
        payments = sources.payments(window.start, window.end)
        fulfilment = sources.fulfilment(window.start, window.end)
        gateway = sources.gateway(window.start, window.end)
        scalars = sources.scalars(window.start, window.end)
        decisions = risk_selectors.decisions_counted(start=window.start, end=window.end)
        views = sum(
            ProductViewDaily.objects.filter(day=day).values_list("views", flat=True), start=0
        )

        SalesDaily.objects.filter(day=day).delete()
        SalesHourly.objects.filter(hour__gte=window.start, hour__lt=window.end).delete()
        PaymentDaily.objects.filter(day=day).delete()
        FulfilmentDaily.objects.filter(day=day).delete()
        GatewayDaily.objects.filter(day=day).delete()
        RiskDecisionDaily.objects.filter(day=day).delete()
        DailyMetrics.objects.filter(day=day).delete()

        SalesDaily.objects.bulk_create(
            SalesDaily(
                day=day,
                dimension=row.dimension,
                value=row.value,
                label=row.label,
                orders=row.orders,
                gmv_fen=row.gmv_fen,
            )
            for row in sales.by_dimension
        )
        SalesHourly.objects.bulk_create(
            SalesHourly(hour=hour, orders=orders, gmv_fen=gmv) for hour, orders, gmv in sales.hourly
        )
        PaymentDaily.objects.bulk_create(PaymentDaily(day=day, **row.__dict__) for row in payments)
        FulfilmentDaily.objects.bulk_create(
            FulfilmentDaily(day=day, **row.__dict__) for row in fulfilment.by_kind
        )
        GatewayDaily.objects.bulk_create(GatewayDaily(day=day, **row.__dict__) for row in gateway)
        RiskDecisionDaily.objects.bulk_create(
            RiskDecisionDaily(day=day, kind=kind, outcome=outcome, decisions=n)
            for kind, outcome, n in decisions
        )
        return DailyMetrics.objects.create(
            day=day,
            product_views=views,
            paid_orders=sales.orders,
            gmv_fen=sales.gmv_fen,
            deliveries=sum(row.delivered for row in fulfilment.by_kind),
            deliveries_failed=sum(row.failed for row in fulfilment.by_kind),
            pay_to_delivery_p50_s=fulfilment.p50_s,
            pay_to_delivery_p95_s=fulfilment.p95_s,
            computed_at=now,
            **scalars.__dict__,
        )


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
