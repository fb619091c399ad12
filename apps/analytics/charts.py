"""The chart pages' data: each page is a list of charts read from the rollup tables only.

A chart is a category axis (days, methods, kinds...) and one or more series over it; the same
structure feeds ECharts (as JSON) and the CSV/XLSX download (one column per series).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Sum
from django.db.models.functions import ExtractHour
from django.utils.translation import gettext_lazy as _

from apps.analytics.models import (
    DailyMetrics,
    FulfilmentDaily,
    GatewayDaily,
    PaymentDaily,
    RiskDecisionDaily,
    SalesDaily,
    SalesHourly,
)
from apps.analytics.rollups import day_window, days_between
from apps.catalog.models import Kind
from apps.fulfilment.models import Delivery
from apps.payments.models import Method
from apps.risk.models import KIND_CHOICES as RISK_KINDS
from apps.risk.models import OUTCOME_CHOICES as RISK_OUTCOMES


@dataclass(frozen=True)
class Series:
    name: Any
    values: Sequence[float | int | None]
    money: bool = False  # values in fen: shown and downloaded in yuan


@dataclass(frozen=True)
class Chart:
    key: str
    title: Any
    type: str  # line | bar | pie | funnel
    x: list[str]
    series: list[Series] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(v for s in self.series for v in s.values)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": str(self.title),
            "type": self.type,
            "x": self.x,
            "series": [
                {
                    "name": str(s.name),
                    "money": s.money,
                    "values": [_yuan(v) if s.money else v for v in s.values],
                }
                for s in self.series
            ],
        }

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """Header and rows for a download: the category, then one column per series."""
        header = [str(_("Item")), *(str(s.name) + (" (¥)" if s.money else "") for s in self.series)]
        rows = [
            [x, *((_yuan(s.values[i]) if s.money else s.values[i]) for s in self.series)]
            for i, x in enumerate(self.x)
        ]
        return header, rows


def _yuan(fen: float | int | None) -> float | None:
    # Display only (charts and downloads): the fen integers stay in the tables.
    return None if fen is None else round(fen / 100, 2)


def _daily(
    first: date, last: date, rows: Iterable[dict[str, Any]], fields: list[str]
) -> dict[str, list[int | None]]:
    by_day = {row["day"]: row for row in rows}
    return {
        f: [by_day[d][f] if d in by_day else None for d in days_between(first, last)]
        for f in fields
    }


def _days(first: date, last: date) -> list[str]:
    return [d.isoformat() for d in days_between(first, last)]


def _metrics(first: date, last: date, fields: list[str]) -> dict[str, list[int | None]]:
    rows = DailyMetrics.objects.filter(day__gte=first, day__lte=last).values("day", *fields)
    return _daily(first, last, rows, fields)


def _rate(part: list[int | None], whole: list[int | None]) -> list[float | None]:
    return [
        round(100 * p / w, 2) if p is not None and w else None
        for p, w in zip(part, whole, strict=True)
    ]


def overview(first: date, last: date) -> list[Chart]:
    m = _metrics(first, last, ["gmv_fen", "paid_orders", "checkouts", "refunds", "complaints"])
    x = _days(first, last)
    return [
        Chart("gmv", _("GMV per day"), "line", x, [Series(_("GMV"), m["gmv_fen"], money=True)]),
        Chart("orders", _("Orders per day"), "bar", x, [
            Series(_("Orders placed"), m["checkouts"]), Series(_("Orders paid"), m["paid_orders"]),
        ]),
        Chart("rates", _("Refund and complaint rates (% of paid orders)"), "line", x, [
            Series(_("Refund rate"), _rate(m["refunds"], m["paid_orders"])),
            Series(_("Complaint rate"), _rate(m["complaints"], m["paid_orders"])),
        ]),
    ]  # fmt: skip


_DIMENSION_LABELS: dict[str, Callable[[str], str]] = {
    SalesDaily.Dimension.KIND: lambda v: str(dict(Kind.choices).get(v, v)),
    SalesDaily.Dimension.METHOD: lambda v: str(dict(Method.choices).get(v, v)),
}


def _by_dimension(first: date, last: date, dimension: str) -> Chart:
    rows = (
        SalesDaily.objects.filter(day__gte=first, day__lte=last, dimension=dimension)
        .values("value", "label")
        .annotate(orders=Sum("orders"), gmv=Sum("gmv_fen"))
        .order_by("-gmv", "value")
    )
    named = _DIMENSION_LABELS.get(dimension, lambda v: v)
    x = [
        row["label"] or (named(row["value"]) if row["value"] else str(_("Not set"))) for row in rows
    ]
    title = _("GMV by %(dimension)s") % {"dimension": SalesDaily.Dimension(dimension).label}
    return Chart(f"sales-{dimension}", title, "bar", x, [
        Series(_("GMV"), [row["gmv"] for row in rows], money=True),
        Series(_("Orders paid"), [row["orders"] for row in rows]),
    ])  # fmt: skip


def _by_hour(first: date, last: date) -> Chart:
    """Paid orders and GMV by hour of the day (Asia/Shanghai), over the range."""
    rows = {
        row["h"]: row
        for row in SalesHourly.objects.filter(
            hour__gte=day_window(first).start, hour__lt=day_window(last).end
        )
        .annotate(h=ExtractHour("hour"))
        .values("h")
        .annotate(orders=Sum("orders"), gmv=Sum("gmv_fen"))
    }
    hours = range(24)
    return Chart("sales-hours", _("Sales by hour of the day"), "bar", [f"{h:02d}:00" for h in hours], [
        Series(_("GMV"), [rows[h]["gmv"] if h in rows else 0 for h in hours], money=True),
        Series(_("Orders paid"), [rows[h]["orders"] if h in rows else 0 for h in hours]),
    ])  # fmt: skip


def sales(first: date, last: date) -> list[Chart]:
    return [
        _by_hour(first, last),
        *(_by_dimension(first, last, d) for d in SalesDaily.Dimension.values),
    ]


def funnel(first: date, last: date) -> list[Chart]:
    steps = ["product_views", "carts", "checkouts", "paid_orders", "delivered_orders"]
    names = [_("Product views"), _("Carts"), _("Checkouts"), _("Paid"), _("Delivered")]
    totals = DailyMetrics.objects.filter(day__gte=first, day__lte=last).aggregate(
        **{s: Sum(s) for s in steps}
    )
    m = _metrics(first, last, steps)
    x = _days(first, last)
    return [
        Chart("funnel", _("Conversion funnel"), "funnel", [str(n) for n in names],
              [Series(_("Count"), [totals[s] or 0 for s in steps])]),
        Chart("funnel-daily", _("Funnel steps per day"), "line", x,
              [Series(n, m[s]) for s, n in zip(steps, names, strict=True)]),
    ]  # fmt: skip


def payments(first: date, last: date) -> list[Chart]:
    rows = list(
        PaymentDaily.objects.filter(day__gte=first, day__lte=last)
        .values("method")
        .annotate(
            attempts=Sum("attempts"),
            ok=Sum("succeeded"),
            failed=Sum("failed"),
            amount=Sum("amount_fen"),
        )
        .order_by("method")
    )
    x = [str(dict(Method.choices).get(r["method"], r["method"])) for r in rows]
    per_day: dict[str, dict[date, float | None]] = defaultdict(dict)
    for r in PaymentDaily.objects.filter(day__gte=first, day__lte=last).values(
        "day", "method", "attempts", "succeeded"
    ):
        rate = round(100 * r["succeeded"] / r["attempts"], 2) if r["attempts"] else None
        per_day[r["method"]][r["day"]] = rate
    days = days_between(first, last)
    return [
        Chart("payments-methods", _("Payments by method"), "bar", x, [
            Series(_("Attempts"), [r["attempts"] for r in rows]),
            Series(_("Paid"), [r["ok"] for r in rows]),
            Series(_("Failed or abandoned"), [r["failed"] for r in rows]),
        ]),
        Chart("payments-amount", _("Amount paid by method"), "pie", x,
              [Series(_("Paid"), [r["amount"] for r in rows], money=True)]),
        Chart("payments-success", _("Payment success rate per day (%)"), "line", _days(first, last), [
            Series(dict(Method.choices).get(method, method), [rates.get(d) for d in days])
            for method, rates in sorted(per_day.items())
        ]),
    ]  # fmt: skip


def fulfilment(first: date, last: date) -> list[Chart]:
    rows = list(
        FulfilmentDaily.objects.filter(day__gte=first, day__lte=last)
        .values("kind")
        .annotate(delivered=Sum("delivered"), failed=Sum("failed"))
        .order_by("kind")
    )
    m = _metrics(first, last, ["pay_to_delivery_p50_s", "pay_to_delivery_p95_s"])
    kinds = dict(Delivery.Kind.choices)
    return [
        Chart("fulfilment-kinds", _("Lines delivered and failed by kind"), "bar",
              [str(kinds.get(r["kind"], r["kind"])) for r in rows], [
                  Series(_("Delivered"), [r["delivered"] for r in rows]),
                  Series(_("Failed"), [r["failed"] for r in rows]),
              ]),
        Chart("fulfilment-time", _("Pay to delivery (seconds)"), "line", _days(first, last), [
            Series("p50", m["pay_to_delivery_p50_s"]), Series("p95", m["pay_to_delivery_p95_s"]),
        ]),
    ]  # fmt: skip


def gateway(first: date, last: date) -> list[Chart]:
    by_capability = list(
        GatewayDaily.objects.filter(day__gte=first, day__lte=last)
        .values("capability")
        .annotate(calls=Sum("calls"), errors=Sum("errors"))
        .order_by("-calls", "capability")
    )
    by_partner = list(
        GatewayDaily.objects.filter(day__gte=first, day__lte=last)
        .values("partner_id", "partner_name")
        .annotate(calls=Sum("calls"), errors=Sum("errors"))
        .order_by("-calls", "partner_id")[:20]
    )
    latency: dict[date, list[tuple[int, float, int | None]]] = defaultdict(list)
    for r in GatewayDaily.objects.filter(day__gte=first, day__lte=last).values(
        "day", "calls", "latency_avg_ms", "latency_p95_ms"
    ):
        latency[r["day"]].append((r["calls"], r["latency_avg_ms"], r["latency_p95_ms"]))
    days = days_between(first, last)

    def avg(d: date) -> float | None:
        rows = latency.get(d)
        calls = sum(c for c, _a, _p in rows or [])
        return round(sum(c * a for c, a, _p in rows or []) / calls, 3) if calls else None

    def worst_p95(d: date) -> int | None:
        values = [p for _c, _a, p in latency.get(d, []) if p is not None]
        return max(values) if values else None

    return [
        Chart("gateway-capabilities", _("Calls and errors by capability"), "bar",
              [r["capability"] for r in by_capability], [
                  Series(_("Calls"), [r["calls"] for r in by_capability]),
                  Series(_("Errors"), [r["errors"] for r in by_capability]),
              ]),
        Chart("gateway-partners", _("Calls by partner (top 20)"), "bar",
              [r["partner_name"] or f"#{r['partner_id']}" for r in by_partner], [
                  Series(_("Calls"), [r["calls"] for r in by_partner]),
                  Series(_("Errors"), [r["errors"] for r in by_partner]),
              ]),
        Chart("gateway-latency", _("Latency (ms)"), "line", _days(first, last), [
            Series(_("Average"), [avg(d) for d in days]),
            Series(_("Worst p95 of a capability"), [worst_p95(d) for d in days]),
        ]),
    ]  # fmt: skip


def users(first: date, last: date) -> list[Chart]:
    m = _metrics(first, last, ["new_users", "active_users", "buyers", "repeat_buyers"])
    x = _days(first, last)
    return [
        Chart("users", _("New and active users"), "line", x, [
            Series(_("New users"), m["new_users"]), Series(_("Active users"), m["active_users"]),
        ]),
        Chart("buyers", _("Buyers and repeat buyers"), "bar", x, [
            Series(_("Buyers"), m["buyers"]), Series(_("Repeat buyers"), m["repeat_buyers"]),
        ]),
    ]  # fmt: skip


def risk(first: date, last: date) -> list[Chart]:
    """Risk decisions per day by outcome, and per kind by outcome over the range."""
    rows = list(
        RiskDecisionDaily.objects.filter(day__gte=first, day__lte=last).values_list(
            "day", "kind", "outcome", "decisions"
        )
    )
    # In order of severity: allow, challenge, review, block.
    outcome_names = {o: _(label) for o, label in RISK_OUTCOMES}
    outcomes = [o for o in outcome_names if any(r[2] == o for r in rows)]
    per_day: dict[tuple[date, str], int] = defaultdict(int)
    per_kind: dict[tuple[str, str], int] = defaultdict(int)
    for day, kind, outcome, n in rows:
        per_day[(day, outcome)] += n
        per_kind[(kind, outcome)] += n
    days = days_between(first, last)
    kinds = sorted({r[1] for r in rows})
    names = dict(RISK_KINDS)
    return [
        Chart("risk-days", _("Risk decisions per day by outcome"), "bar", _days(first, last), [
            Series(outcome_names[o], [per_day.get((d, o)) for d in days])
            for o in outcomes
        ]),
        Chart("risk-kinds", _("Risk decisions by kind and outcome"), "bar",
              [str(names.get(k, k)) for k in kinds], [
            Series(outcome_names[o], [per_kind.get((k, o), 0) for k in kinds])
            for o in outcomes
        ]),
    ]  # fmt: skip


@dataclass(frozen=True)
class Page:
    slug: str
    title: Any
    roles: frozenset[str]
    charts: Callable[[date, date], list[Chart]]


PAGES: dict[str, Page] = {
    p.slug: p
    for p in [
        Page("overview", _("Business overview"), frozenset({"operator", "finance"}), overview),
        Page("sales", _("Sales"), frozenset({"operator", "finance"}), sales),
        Page("funnel", _("Conversion funnel"), frozenset({"operator"}), funnel),
        Page("payments", _("Payments"), frozenset({"operator", "finance", "risk"}), payments),
        Page("fulfilment", _("Fulfilment"), frozenset({"operator"}), fulfilment),
        Page(
            "gateway", _("Capability gateway"), frozenset({"operator", "partner_reviewer"}), gateway
        ),
        Page("users", _("Users"), frozenset({"operator", "risk"}), users),
        Page("risk", _("Risk decisions"), frozenset({"operator", "risk"}), risk),
    ]
}
