"""Gateway reads for the portal and the workbench: usage by app, capability, day or hour."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import QuerySet

from apps.gateway.models import (
    LATENCY_BUCKETS_MS,
    CallRecord,
    Environment,
    Subscription,
    UsageHourly,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class UsagePoint:
    """Calls in one bucket (an hour, or an Asia/Shanghai day) of one capability."""

    start: datetime
    capability: str
    calls: int
    errors: int
    throttled: int
    avg_latency_ms: float | None
    p95_latency_ms: float | None


def latency_percentile(buckets: list[int], fraction: float) -> float | None:
    """The latency (ms) under which ``fraction`` of calls fall, interpolated in its bucket.

    ``buckets`` are counts per ``LATENCY_BUCKETS_MS`` bound plus one overflow bucket; a
    percentile in the overflow bucket is reported as the last bound.
    """
    total = sum(buckets)
    if total == 0:
        return None
    rank = fraction * total
    seen = 0
    lower = 0.0
    for index, count in enumerate(buckets):
        if index >= len(LATENCY_BUCKETS_MS):
            return float(LATENCY_BUCKETS_MS[-1])
        upper = float(LATENCY_BUCKETS_MS[index])
        if count and seen + count >= rank:
            return round(lower + (upper - lower) * (rank - seen) / count, 3)
        seen += count
        lower = upper
    return float(LATENCY_BUCKETS_MS[-1])


def _rows(
    *,
    start: datetime,
    end: datetime,
    app_id: int | None,
    partner_id: int | None,
    capability: str | None,
    environment: str | None,
) -> QuerySet[UsageHourly]:
    rows = UsageHourly.objects.filter(hour__gte=start, hour__lt=end)
    if app_id is not None:
        rows = rows.filter(app_id=app_id)
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    if capability:
        rows = rows.filter(capability=capability)
    if environment:
        rows = rows.filter(environment=environment)
    return rows


def usage_series(
    *,
    start: datetime,
    end: datetime,
    granularity: Literal["hour", "day"] = "hour",
    app_id: int | None = None,
    partner_id: int | None = None,
    capability: str | None = None,
    environment: str | None = None,
) -> list[UsagePoint]:
    """Usage in ``[start, end)`` per bucket and capability, oldest first.

    Give ``app_id`` for one app or ``partner_id`` for all of a partner's apps. Days are
    Asia/Shanghai days; p95 comes from the summed latency histograms.
    """
    sums: dict[tuple[datetime, str], list[int]] = {}
    histograms: dict[tuple[datetime, str], list[int]] = defaultdict(
        lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1)
    )
    for row in _rows(
        start=start,
        end=end,
        app_id=app_id,
        partner_id=partner_id,
        capability=capability,
        environment=environment,
    ).order_by("hour"):
        bucket = row.hour.astimezone(SHANGHAI)
        if granularity == "day":
            bucket = bucket.replace(hour=0, minute=0, second=0, microsecond=0)
        key = (bucket, row.capability)
        total = sums.setdefault(key, [0, 0, 0, 0])
        total[0] += row.calls
        total[1] += row.errors
        total[2] += row.throttled
        total[3] += row.latency_sum_us
        histogram = histograms[key]
        for index, count in enumerate(row.latency_buckets):
            histogram[index] += count
    return [
        UsagePoint(
            start=bucket,
            capability=capability_code,
            calls=calls,
            errors=errors,
            throttled=throttled,
            avg_latency_ms=round(latency_us / calls / 1000, 3) if calls else None,
            p95_latency_ms=latency_percentile(histograms[(bucket, capability_code)], 0.95),
        )
        for (bucket, capability_code), (calls, errors, throttled, latency_us) in sorted(
            sums.items()
        )
    ]


@dataclass(frozen=True)
class CallView:
    at: datetime
    capability: str
    operation: str
    environment: str
    status_code: int
    error_code: str
    latency_ms: float
    correlator: str


def calls_recent(*, app_id: int, limit: int = 50) -> list[CallView]:
    """An app's latest metered calls, newest first (written once the minute's drain ran)."""
    rows = CallRecord.objects.filter(app_id=app_id).order_by("-created_at")[:limit]
    return [
        CallView(
            at=r.created_at,
            capability=r.capability,
            operation=r.operation,
            environment=r.environment,
            status_code=r.status_code,
            error_code=r.error_code,
            latency_ms=r.latency_us / 1000,
            correlator=r.correlator,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class BillableUsage:
    """A partner's production calls of one capability in a period, at one package's price."""

    partner_id: int
    app_id: int
    capability: str
    package_code: str
    calls: int
    price_per_call_fen: int


def billable_usage(*, start: datetime, end: datetime) -> list[BillableUsage]:
    """Production calls in ``[start, end)`` per partner, app, capability and the package that
    covered them (the app's subscription in force at the hour whose package includes the
    capability; the cheapest when several do). Sandbox calls are free, and calls no package
    covered are left out. For the partners' monthly invoices."""
    rows = list(
        _rows(
            start=start, end=end, app_id=None, partner_id=None, capability=None,
            environment=Environment.PRODUCTION,
        ).values_list("partner_id", "app_id", "capability", "hour", "calls")
    )  # fmt: skip
    subscriptions: dict[int, list[Subscription]] = defaultdict(list)
    for subscription in Subscription.objects.filter(
        app_id__in={row[1] for row in rows}
    ).select_related("package"):
        subscriptions[subscription.app_id].append(subscription)
    totals: dict[tuple[int, int, str, str, int], int] = defaultdict(int)
    for partner_id, app_id, capability, hour, calls in rows:
        covering = [
            s.package
            for s in subscriptions[app_id]
            if capability in s.package.capabilities
            and s.starts_at <= hour
            and (s.ends_at is None or hour < s.ends_at)
        ]
        if covering and calls:
            package = min(covering, key=lambda p: (p.price_per_call_fen, p.pk))
            key = (partner_id, app_id, capability, package.code, package.price_per_call_fen)
            totals[key] += calls
    return [
        BillableUsage(partner, app, capability, code, calls, price)
        for (partner, app, capability, code, price), calls in sorted(totals.items())
    ]
