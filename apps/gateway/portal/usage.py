"""Usage charts: an app's calls, errors and latency per hour or per day, from the hourly rollup.

gwcore's ``selectors.usage_series`` answers per capability; the charts also need every
capability of a bucket together, with one p95 from the summed histograms, so this sums the
rollup rows itself and takes gwcore's percentile rule.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.gateway.capabilities_catalog import Capability
from apps.gateway.models import LATENCY_BUCKETS_MS, UsageHourly
from apps.gateway.selectors import latency_percentile

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
GRANULARITIES = ("hour", "day")
MAX_HOURS = 24 * 7
MAX_DAYS = 90


@dataclass
class _Sum:
    calls: int = 0
    errors: int = 0
    throttled: int = 0
    latency_sum_us: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))

    def add(self, row: UsageHourly) -> None:
        self.calls += row.calls
        self.errors += row.errors
        self.throttled += row.throttled
        self.latency_sum_us += row.latency_sum_us
        for i, count in enumerate(row.latency_buckets[: len(self.buckets)]):
            self.buckets[i] += count

    @property
    def avg_latency_ms(self) -> float | None:
        return round(self.latency_sum_us / self.calls / 1000, 2) if self.calls else None

    @property
    def p95_latency_ms(self) -> float | None:
        """Interpolated in the histogram bucket that holds it (gwcore's rule, as in the API)."""
        return latency_percentile(self.buckets, 0.95)


@dataclass(frozen=True)
class UsagePoint:
    start: datetime  # Asia/Shanghai
    label: str
    calls: int
    errors: int
    throttled: int
    avg_latency_ms: float | None
    p95_latency_ms: float | None


@dataclass(frozen=True)
class CapabilityTotal:
    capability: str
    label: str
    calls: int
    errors: int
    avg_latency_ms: float | None
    p95_latency_ms: float | None


@dataclass(frozen=True)
class UsageReport:
    granularity: str
    start: datetime
    end: datetime
    capability: str | None
    environment: str | None
    points: list[UsagePoint]
    by_capability: list[CapabilityTotal]
    calls: int
    errors: int

    def chart(self) -> dict[str, object]:
        """The shape ``static/js/usage-charts.js`` draws: bars of calls and errors, latency lines."""
        return {
            "labels": [p.label for p in self.points],
            "datasets": [
                {"label": _("Calls"), "data": [p.calls for p in self.points], "kind": "bar"},
                {"label": _("Errors"), "data": [p.errors for p in self.points], "kind": "bar"},
                {
                    "label": _("Average latency (ms)"),
                    "data": [p.avg_latency_ms for p in self.points],
                    "kind": "line",
                    "axis": "ms",
                },
                {
                    "label": _("p95 latency (ms)"),
                    "data": [p.p95_latency_ms for p in self.points],
                    "kind": "line",
                    "axis": "ms",
                },
            ],
        }


def _floor(moment: datetime, granularity: str) -> datetime:
    local = moment.astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0) if granularity == "day" else local


def _step(granularity: str) -> timedelta:
    # Arithmetic on Asia/Shanghai wall-clock times; the zone has no daylight saving time.
    return timedelta(hours=1) if granularity == "hour" else timedelta(days=1)


def usage_report(
    *,
    app_ids: list[int] | None,
    granularity: str = "day",
    periods: int = 7,
    capability: str | None = None,
    environment: str | None = None,
    now: datetime | None = None,
) -> UsageReport:
    """Calls, errors and latency of these apps (``None``: all) over the last ``periods`` hours
    or days.

    Buckets are Asia/Shanghai hours or days, the current one included, each present even
    without calls (zeros), oldest first. Latency is the platform's own time: the average from
    the rollup's sum, the 95th percentile from its histogram (a bucket bound).
    """
    if granularity not in GRANULARITIES:
        raise ValueError(granularity)
    periods = max(1, min(periods, MAX_HOURS if granularity == "hour" else MAX_DAYS))
    now = now or timezone.now()
    step = _step(granularity)
    last = _floor(now, granularity)
    first = last - step * (periods - 1)
    end = last + step
    rows = UsageHourly.objects.filter(hour__gte=first, hour__lt=end)
    if app_ids is not None:
        rows = rows.filter(app_id__in=app_ids)
    if capability:
        rows = rows.filter(capability=capability)
    if environment:
        rows = rows.filter(environment=environment)
    per_bucket: dict[datetime, _Sum] = {}
    per_capability: dict[str, _Sum] = {}
    for row in rows.only(
        "capability", "hour", "calls", "errors", "throttled", "latency_sum_us", "latency_buckets"
    ):
        per_bucket.setdefault(_floor(row.hour, granularity), _Sum()).add(row)
        per_capability.setdefault(row.capability, _Sum()).add(row)
    points = []
    cursor = first
    while cursor < end:
        total = per_bucket.get(cursor, _Sum())
        label = f"{cursor:%m-%d %H:00}" if granularity == "hour" else f"{cursor:%Y-%m-%d}"
        points.append(
            UsagePoint(
                start=cursor,
                label=label,
                calls=total.calls,
                errors=total.errors,
                throttled=total.throttled,
                avg_latency_ms=total.avg_latency_ms,
                p95_latency_ms=total.p95_latency_ms,
            )
        )
        cursor += step
    labels = dict(Capability.choices)
    by_capability = [
        CapabilityTotal(
            code, str(labels.get(code, code)), s.calls, s.errors, s.avg_latency_ms, s.p95_latency_ms
        )
        for code, s in sorted(per_capability.items(), key=lambda item: (-item[1].calls, item[0]))
    ]
    return UsageReport(
        granularity=granularity,
        start=first,
        end=end,
        capability=capability,
        environment=environment,
        points=points,
        by_capability=by_capability,
        calls=sum(p.calls for p in points),
        errors=sum(p.errors for p in points),
    )
