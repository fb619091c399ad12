# ruff: noqa: S608 - the SQL is built from model table names and fixed columns; values are parameters.
"""The raw reads behind the rollups: one SQL statement per figure family over a day's window.

This is the one module that reads other apps' tables directly (a departure listed in
docs/architecture.md): a rollup over a million orders is a handful of set-based queries, which
per-object selectors cannot be. Table names come from the models' ``_meta`` so a renamed table
follows; every query is bounded by an indexed time column (``paid_at``, ``created_at``,
``delivered_at``, ``hour``) so a day's rollup reads that day only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from apps.catalog.models import Category, Product
from apps.fulfilment.models import Delivery
from apps.gateway.models import Partner, UsageHourly
from apps.gateway.selectors import latency_percentile
from apps.marketing.models import Channel, ChannelOrder
from apps.orders.models import Cart, CartLine, Order, OrderLine
from apps.payments.models import PaymentIntent, Refund
from apps.service.models import Ticket

ORDER_PURPOSE = "order"  # the orders app's payment purpose (apps.orders.services.state)
PAID = tuple(PaymentIntent.PAID)
GAVE_UP = ("failed", "cancelled", "expired")


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _rows(sql: str, params: list[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass(frozen=True)
class DimensionRow:
    dimension: str
    value: str
    label: str
    orders: int
    gmv_fen: int


@dataclass(frozen=True)
class Sales:
    orders: int
    gmv_fen: int
    by_dimension: list[DimensionRow]
    hourly: list[tuple[datetime, int, int]]


_DAY_LINES = "analytics_day_lines"

# (dimension, the column of the day's lines, SQL for the label given that column as v)
_DIMENSIONS: list[tuple[str, str, str]] = [
    ("kind", "kind", "''"),
    ("category", "category_id::text",
     f"(SELECT name FROM {_t(Category)} WHERE id::text = v)"),
    ("channel", "channel", f"(SELECT name FROM {_t(Channel)} WHERE id::text = v)"),
    ("cp", "COALESCE(owner_id::text, '')",
     f"(SELECT COALESCE(NULLIF(nickname, ''), phone) FROM {_t(get_user_model())} WHERE id::text = v)"),
    ("province", "province", "''"),
    ("method", "method", "''"),
]  # fmt: skip


def sales(start: datetime, end: datetime) -> Sales:
    """The lines of orders paid in [start, end), counted by each dimension, and per hour.

    GMV is the goods value of the lines (before points). An order's method is its settling
    payment's (a provider's before points when both paid a part). An order's channel is the one
    marketing attributed it to (``ChannelOrder``, by order number); "" for the shop's own.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_DAY_LINES}")
        cursor.execute(
            f"""
            CREATE TEMP TABLE {_DAY_LINES} AS
            SELECT l.order_id, o.paid_at, l.kind, COALESCE(p.category_id::text, '') AS category_id,
                   p.owner_id, COALESCE(co.channel_id::text, '') AS channel,
                   COALESCE(o.shipping->>'province', '') AS province,
                   COALESCE(pay.method, '') AS method, l.total_fen
            FROM {_t(OrderLine)} l
            JOIN {_t(Order)} o ON o.id = l.order_id
            LEFT JOIN {_t(Product)} p ON p.id = l.product_id
            LEFT JOIN {_t(ChannelOrder)} co ON co.order_number = o.number
            LEFT JOIN LATERAL (
                SELECT method FROM {_t(PaymentIntent)} i
                WHERE i.purpose = %s AND i.reference = o.number AND i.settles
                ORDER BY (i.method = 'points'), i.amount_fen DESC LIMIT 1
            ) pay ON TRUE
            WHERE o.paid_at >= %s AND o.paid_at < %s
            """,
            [ORDER_PURPOSE, start, end],
        )
        cursor.execute(
            f"SELECT COUNT(DISTINCT order_id), COALESCE(SUM(total_fen), 0) FROM {_DAY_LINES}"
        )
        orders, gmv = cursor.fetchone()
        rows: list[DimensionRow] = []
        for dimension, column, label in _DIMENSIONS:
            cursor.execute(
                f"""
                SELECT v, COALESCE({label}, ''), n, gmv FROM (
                    SELECT {column} AS v, COUNT(DISTINCT order_id) AS n, SUM(total_fen) AS gmv
                    FROM {_DAY_LINES} GROUP BY 1
                ) d ORDER BY v
                """
            )
            rows += [DimensionRow(dimension, v, lbl, n, g) for v, lbl, n, g in cursor.fetchall()]
        cursor.execute(
            f"""
            SELECT date_trunc('hour', paid_at AT TIME ZONE %s) AT TIME ZONE %s,
                   COUNT(DISTINCT order_id), SUM(total_fen)
            FROM {_DAY_LINES} GROUP BY 1 ORDER BY 1
            """,
            [connection.timezone_name, connection.timezone_name],
        )
        hourly = [(hour, n, g) for hour, n, g in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {_DAY_LINES}")
    return Sales(orders=orders, gmv_fen=gmv, by_dimension=rows, hourly=hourly)


@dataclass(frozen=True)
class PaymentRow:
    method: str
    attempts: int
    succeeded: int
    failed: int
    amount_fen: int


def payments(start: datetime, end: datetime) -> list[PaymentRow]:
    """Payment intents started in [start, end) by method, whatever they pay for."""
    return [
        PaymentRow(*row)
        for row in _rows(
            f"""
            SELECT method, COUNT(*),
                   COUNT(*) FILTER (WHERE status = ANY(%s)),
                   COUNT(*) FILTER (WHERE status = ANY(%s)),
                   COALESCE(SUM(amount_fen) FILTER (WHERE status = ANY(%s)), 0)
            FROM {_t(PaymentIntent)} WHERE created_at >= %s AND created_at < %s
            GROUP BY method ORDER BY method
            """,
            [list(PAID), list(GAVE_UP), list(PAID), start, end],
        )
    ]


@dataclass(frozen=True)
class FulfilmentRow:
    kind: str
    delivered: int
    failed: int
    p50_s: int | None
    p95_s: int | None


@dataclass(frozen=True)
class Fulfilment:
    by_kind: list[FulfilmentRow]
    p50_s: int | None
    p95_s: int | None


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def fulfilment(start: datetime, end: datetime) -> Fulfilment:
    """Lines delivered in [start, end) by kind, with pay-to-delivery percentiles (per kind and
    overall), and lines that failed (status failed, last changed in the window)."""
    delivered = _rows(
        f"""
        SELECT d.kind, COUNT(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM d.delivered_at - o.paid_at)),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM d.delivered_at - o.paid_at))
        FROM {_t(Delivery)} d JOIN {_t(Order)} o ON o.number = d.order_number
        WHERE d.delivered_at >= %s AND d.delivered_at < %s
        GROUP BY GROUPING SETS ((d.kind), ())
        """,
        [start, end],
    )  # fmt: skip
    failed = dict(
        _rows(
            f"""
            SELECT kind, COUNT(*) FROM {_t(Delivery)}
            WHERE status = 'failed' AND updated_at >= %s AND updated_at < %s GROUP BY kind
            """,
            [start, end],
        )
    )
    overall = next((row for row in delivered if row[0] is None), None)
    per_kind = {row[0]: row for row in delivered if row[0] is not None}
    rows = [
        FulfilmentRow(
            kind=kind,
            delivered=per_kind[kind][1] if kind in per_kind else 0,
            failed=failed.get(kind, 0),
            p50_s=_seconds(per_kind[kind][2]) if kind in per_kind else None,
            p95_s=_seconds(per_kind[kind][3]) if kind in per_kind else None,
        )
        for kind in sorted(set(per_kind) | set(failed))
    ]
    return Fulfilment(
        by_kind=rows,
        p50_s=_seconds(overall[2]) if overall else None,
        p95_s=_seconds(overall[3]) if overall else None,
    )


@dataclass(frozen=True)
class GatewayRow:
    capability: str
    partner_id: int
    partner_name: str
    calls: int
    errors: int
    latency_avg_ms: float
    latency_p95_ms: int | None


def gateway(start: datetime, end: datetime) -> list[GatewayRow]:
    """Capability calls in [start, end) per capability and partner, from the gateway's hourly
    usage (its own recount of the raw call records), latency p95 from the summed histograms."""
    calls: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    buckets: dict[tuple[str, int], list[int]] = {}
    for row in UsageHourly.objects.filter(hour__gte=start, hour__lt=end).values_list(
        "capability", "partner_id", "calls", "errors", "latency_sum_us", "latency_buckets"
    ):
        key = (row[0], row[1])
        totals = calls[key]
        totals[0] += row[2]
        totals[1] += row[3]
        totals[2] += row[4]
        summed = buckets.setdefault(key, [0] * len(row[5]))
        for index, count in enumerate(row[5]):
            summed[index] += count
    names = dict(
        Partner.objects.filter(pk__in={p for _, p in calls}).values_list("pk", "company_name")
    )
    result = []
    for (capability, partner_id), (n, errors, latency_us) in sorted(calls.items()):
        p95 = latency_percentile(buckets[(capability, partner_id)], 0.95)
        result.append(
            GatewayRow(
                capability=capability,
                partner_id=partner_id,
                partner_name=names.get(partner_id, ""),
                calls=n,
                errors=errors,
                latency_avg_ms=round(latency_us / n / 1000, 3) if n else 0.0,
                latency_p95_ms=None if p95 is None else round(p95),
            )
        )
    return result


@dataclass(frozen=True)
class Scalars:
    carts: int
    checkouts: int
    delivered_orders: int
    refunds: int
    refund_fen: int
    complaints: int
    new_users: int
    active_users: int
    buyers: int
    repeat_buyers: int


def scalars(start: datetime, end: datetime) -> Scalars:
    """The funnel's cart, checkout and delivered steps, refunds, complaints and users.

    Carts: the buyers who added to a cart in the window, counted from the cart lines still
    there and the orders placed (checkout empties the cart, and every order came from one).
    Active users: those who placed an order or signed in during the window.
    """
    order, user = _t(Order), _t(get_user_model())
    (row,) = _rows(
        f"""
        SELECT
          (SELECT COUNT(DISTINCT who) FROM (
              SELECT COALESCE('u' || c.user_id::text, 's' || c.session_key) AS who
              FROM {_t(CartLine)} cl JOIN {_t(Cart)} c ON c.id = cl.cart_id
              WHERE cl.added_at >= %(s)s AND cl.added_at < %(e)s
              UNION
              SELECT 'u' || user_id::text FROM {order} WHERE created_at >= %(s)s AND created_at < %(e)s
          ) w),
          (SELECT COUNT(*) FROM {order} WHERE created_at >= %(s)s AND created_at < %(e)s),
          (SELECT COUNT(DISTINCT order_number) FROM {_t(Delivery)}
             WHERE delivered_at >= %(s)s AND delivered_at < %(e)s),
          (SELECT COUNT(*) FROM {_t(Refund)}
             WHERE created_at >= %(s)s AND created_at < %(e)s AND status <> 'rejected'),
          (SELECT COALESCE(SUM(amount_fen), 0) FROM {_t(Refund)}
             WHERE created_at >= %(s)s AND created_at < %(e)s AND status = 'succeeded'),
          (SELECT COUNT(*) FROM {_t(Ticket)} WHERE created_at >= %(s)s AND created_at < %(e)s
             AND (kind = 'complaint' OR is_charge_complaint)),
          (SELECT COUNT(*) FROM {user} WHERE date_joined >= %(s)s AND date_joined < %(e)s),
          (SELECT COUNT(*) FROM (
              SELECT user_id FROM {order} WHERE created_at >= %(s)s AND created_at < %(e)s
              UNION
              SELECT id FROM {user} WHERE last_login >= %(s)s AND last_login < %(e)s
          ) a),
          (SELECT COUNT(DISTINCT user_id) FROM {order} WHERE paid_at >= %(s)s AND paid_at < %(e)s),
          (SELECT COUNT(DISTINCT o.user_id) FROM {order} o
             WHERE o.paid_at >= %(s)s AND o.paid_at < %(e)s AND EXISTS (
               SELECT 1 FROM {order} b WHERE b.user_id = o.user_id AND b.paid_at < %(s)s))
        """,
        {"s": start, "e": end},
    )  # fmt: skip
    return Scalars(*row)
