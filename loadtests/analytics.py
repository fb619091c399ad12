"""Analytics and workbench benchmark: a day's rollup, the chart pages over a year of rollups,
and the workbench's product list on the 1 M-product catalog.

``python -m loadtests.analytics [--orders 100000] [--products 1000000] [--runs 3] [--requests 20]``

1. Rollup: ``--orders`` paid orders on one day (1.3 lines each, one settling payment and
   one failed attempt in ten, one delivery per line) are written with ``generate_series``,
   then ``day_rollup`` of that day is timed ``--runs`` times (median; target 60 s at 1 M).
2. Chart pages: 365 days of rollup rows (about 150 per day), then each analytics page for
   the whole year, ``--requests`` times, in process (Django's test client): p50/p95
   (target p95 500 ms).
3. Workbench lists on the catalog of ``--products`` products (``loadtests.database.prepare``
   generates what is missing): the product list plain, searched, filtered, date-filtered and
   on page 50, the SKU list; and the order, payment and delivery lists over the orders the
   rollup step wrote: p95 (target 1 s).

The database is ``ANALYTICS_BENCH_DATABASE_URL`` (default: ``ch_analytics_bench`` on the local
PostgreSQL), so the shared benchmark database is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date, timedelta
from typing import Any

from loadtests.stats import median, percentile

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ch_analytics_bench"
BENCH_DAY = date(2026, 1, 15)
TARGET_ROLLUP_1M_S = 60.0
TARGET_PAGE_P95_MS = 500.0
TARGET_LIST_P95_MS = 1000.0


def _setup(products: int) -> dict[str, Any]:
    """Migrate the bench database; fill the catalog (``loadtests.database.prepare``: seed and
    ``gen_catalog``) only when it holds fewer than ``products`` products."""
    from loadtests.database import BENCH_SECRET_KEY, manage, prepare

    url = os.environ.get("ANALYTICS_BENCH_DATABASE_URL", DEFAULT_URL)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": url,
           "DJANGO_SECRET_KEY": BENCH_SECRET_KEY, "CELERY_BROKER_URL": "", "DJANGO_DEBUG": "false",
           "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "")}  # fmt: skip
    manage("migrate", "--noinput", "-v", "0", env=env)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM catalog_product")
        have = c.fetchone()[0]
        c.execute("SHOW server_version")
        version = c.fetchone()[0]
    if have < products:
        connection.close()
        prepare(products=products, url=url)
        have = products
    return {"database": url.rsplit("/", 1)[-1], "products": have, "postgres_version": version}


def _orders(n: int) -> float:
    """Write ``n`` paid orders on BENCH_DAY (replacing the previous run's); seconds taken."""
    from django.db import connection

    started = time.monotonic()
    day = BENCH_DAY.isoformat()
    with connection.cursor() as c:
        c.execute("DELETE FROM fulfilment_delivery WHERE order_number LIKE 'BN%%'", [])
        c.execute("DELETE FROM payments_paymentintent WHERE reference LIKE 'BN%%'", [])
        c.execute(
            "DELETE FROM orders_orderline WHERE order_id IN (SELECT id FROM orders_order WHERE number LIKE 'BN%%')",
            [],
        )
        c.execute("DELETE FROM orders_order WHERE number LIKE 'BN%%'", [])
        users = max(n // 5, 1)
        c.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, phone, nickname, is_staff, is_active, date_joined)
            SELECT '!', false, '+86139' || lpad(g::text, 8, '0'), '', false, true,
                   %s::date - (g %% 400) * interval '1 day'
            FROM generate_series(1, %s) g
            ON CONFLICT (phone) DO NOTHING
            """,
            [day, users],
        )
        c.execute(
            "CREATE TEMP TABLE bench_users AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS k "
            "FROM accounts_user WHERE phone LIKE '+86139%%' ORDER BY id LIMIT %s",
            [users],
        )
        c.execute("CREATE UNIQUE INDEX ON bench_users (k)", [])
        c.execute(
            "CREATE TEMP TABLE bench_skus AS SELECT s.id, s.product_id, s.price_fen, p.kind, row_number() OVER () AS k FROM catalog_sku s JOIN catalog_product p ON p.id = s.product_id WHERE s.id IN (SELECT id FROM catalog_sku WHERE price_fen > 0 ORDER BY id LIMIT 2000)"
        )
        c.execute(
            """
            INSERT INTO orders_order (number, checkout_key, status, goods_fen, points_fen, payable_fen,
                refunded_fen, shipping, expires_at, created_at, updated_at, paid_at, user_id)
            SELECT 'BN' || lpad(g::text, 10, '0'), 'bn' || g, 'paid', 0, 0, 0, 0,
                   jsonb_build_object('province', (ARRAY['广东','北京','浙江','江苏','四川','上海'])[1 + g %% 6]),
                   t + interval '30 minutes', t, t, t + interval '1 minute', u.id
            FROM (SELECT g, %s::timestamptz + (g %% 86000) * interval '1 second' AS t
                  FROM generate_series(1, %s) g) s
            JOIN bench_users u ON u.k = s.g %% %s
            """,
            [f"{day} 00:00:00+08", n, users],
        )
        c.execute(
            """
            INSERT INTO orders_orderline (order_id, sku_id, product_id, product_name, sku_name, kind,
                unit_price_fen, quantity, total_fen, recipient_msisdn, fulfilment, refund_note)
            SELECT o.id, s.id, s.product_id, 'p', 's', s.kind, s.price_fen, 1, s.price_fen, '', 'delivered', ''
            FROM orders_order o
            CROSS JOIN LATERAL generate_series(1, CASE WHEN o.id %% 10 < 3 THEN 2 ELSE 1 END) x
            JOIN bench_skus s ON s.k = 1 + (o.id * 7 + x) %% 2000
            WHERE o.number LIKE 'BN%%'
            """,
            [],
        )
        c.execute(
            """
            UPDATE orders_order o SET goods_fen = l.t, payable_fen = l.t
            FROM (SELECT order_id, sum(total_fen) t FROM orders_orderline GROUP BY order_id) l
            WHERE l.order_id = o.id AND o.number LIKE 'BN%%'
            """,
            [],
        )
        c.execute(
            """
            INSERT INTO payments_paymentintent (public_id, purpose, reference, method, channel, amount_fen,
                currency, status, settles, refunded_fen, provider_trade_no, action, review_reason,
                idempotency_key, expires_at, created_at, updated_at, paid_at, user_id)
            SELECT 'BN' || o.id || '-' || x, 'order', o.number,
                   (ARRAY['alipay','wechat','unionpay','carrier_billing'])[1 + (o.id + x) %% 4], '', o.payable_fen, 'CNY',
                   CASE WHEN x = 1 THEN 'succeeded' ELSE 'failed' END, x = 1, 0, '', '{}', '',
                   'bn-' || o.id || '-' || x, o.expires_at, o.created_at, o.created_at,
                   CASE WHEN x = 1 THEN o.paid_at END, o.user_id
            FROM orders_order o CROSS JOIN LATERAL generate_series(1, CASE WHEN o.id %% 10 = 0 THEN 2 ELSE 1 END) x
            WHERE o.number LIKE 'BN%%'
            """,
            [],
        )
        c.execute(
            """
            INSERT INTO fulfilment_delivery (line_id, order_number, kind, msisdn, units, amount_fen, volume_mb,
                validity_days, refund_fen, status, attempts, delivered_units, last_error, created_at,
                updated_at, delivered_at, carrier_request_id, label, offer_code, points, attributes,
                detail, shipping, user_id)
            SELECT l.id, o.number, 'digital', '', 1, 0, 0, 0, l.total_fen, 'delivered', 1, 1, '',
                   o.paid_at, o.paid_at, o.paid_at + (l.id %% 600) * interval '1 second', '', '', '', 0,
                   '{}', '', '{}', o.user_id
            FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id WHERE o.number LIKE 'BN%%'
            """,
            [],
        )
        c.execute("DROP TABLE bench_skus")
        c.execute("DROP TABLE bench_users")
        for table in (
            "orders_order",
            "orders_orderline",
            "payments_paymentintent",
            "fulfilment_delivery",
            "accounts_user",
        ):
            c.execute(f"ANALYZE {table}")
    return round(time.monotonic() - started, 1)


def _rollup(runs: int) -> list[float]:
    from apps.analytics.rollups import day_rollup

    times = []
    for _ in range(runs):
        started = time.monotonic()
        metrics = day_rollup(day=BENCH_DAY)
        times.append(round(time.monotonic() - started, 2))
    print(f"  rolled up: {metrics.paid_orders:,} paid orders, GMV {metrics.gmv_fen:,} fen")
    return times


def _year_of_rollups() -> None:
    """365 days of rollup rows, ending the day before BENCH_DAY (replaced each run)."""
    from django.db import transaction
    from django.utils import timezone

    from apps.analytics.models import (
        DailyMetrics,
        FulfilmentDaily,
        GatewayDaily,
        PaymentDaily,
        SalesDaily,
    )

    first = BENCH_DAY - timedelta(days=365)
    days = [first + timedelta(days=i) for i in range(365)]
    now = timezone.now()
    with transaction.atomic():
        for model in (DailyMetrics, SalesDaily, PaymentDaily, FulfilmentDaily, GatewayDaily):
            model.objects.filter(day__gte=first, day__lt=BENCH_DAY).delete()
        DailyMetrics.objects.bulk_create(
            DailyMetrics(day=d, product_views=50_000 + i, carts=9_000, checkouts=6_000, paid_orders=5_000 + i,
                         delivered_orders=4_900, gmv_fen=30_000_000 + i * 1000, refunds=40, refund_fen=90_000,
                         complaints=7, deliveries=6_500, deliveries_failed=12, pay_to_delivery_p50_s=40,
                         pay_to_delivery_p95_s=600, new_users=800, active_users=12_000, buyers=4_000,
                         repeat_buyers=1_500, computed_at=now)
            for i, d in enumerate(days)
        )  # fmt: skip
        dims = [("kind", f"k{i}") for i in range(5)] + [("category", str(i)) for i in range(60)]
        dims += [("province", f"p{i}") for i in range(31)] + [
            ("method", m) for m in ("alipay", "wechat", "unionpay", "carrier_billing", "points")
        ]
        dims += [("cp", str(i)) for i in range(30)] + [("channel", "")]
        SalesDaily.objects.bulk_create(
            (SalesDaily(day=d, dimension=dim, value=v, label=v, orders=100, gmv_fen=600_000) for d in days for dim, v in dims),
            batch_size=5_000,
        )  # fmt: skip
        PaymentDaily.objects.bulk_create(
            PaymentDaily(day=d, method=m, attempts=1_500, succeeded=1_400, failed=100, amount_fen=8_000_000)
            for d in days for m in ("alipay", "wechat", "unionpay", "carrier_billing", "points")
        )  # fmt: skip
        FulfilmentDaily.objects.bulk_create(
            FulfilmentDaily(day=d, kind=k, delivered=700, failed=2, p50_s=40, p95_s=600)
            for d in days for k in ("airtime", "data_pack", "card", "plan_change", "addon", "points", "sim", "physical", "digital")
        )  # fmt: skip
        GatewayDaily.objects.bulk_create(
            GatewayDaily(day=d, capability=f"cap{c}", partner_id=p, partner_name=f"P{p}", calls=10_000,
                         errors=30, latency_avg_ms=12.5, latency_p95_ms=50)
            for d in days for c in range(8) for p in range(5)
        )  # fmt: skip


def _client(superuser: bool = True) -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.accounts.second_factor import second_factor_mark

    user, _ = get_user_model().objects.get_or_create(
        phone="+8613900099999", defaults={"is_staff": True, "is_superuser": superuser}
    )
    client = Client(SERVER_NAME="localhost", secure=True)
    client.force_login(user)
    session = client.session
    second_factor_mark(session)
    session.save()
    return client


def _timed_pages(client: Any, urls: dict[str, str], requests: int) -> dict[str, dict[str, float]]:
    result = {}
    for name, url in urls.items():
        first = client.get(url)
        if first.status_code != 200:
            raise RuntimeError(f"{url} answered {first.status_code}")
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        result[name] = {
            "p50_ms": round(median(times), 1),
            "p95_ms": round(percentile(times, 95), 1),
        }
        print(
            f"  {name:<24} p50 {result[name]['p50_ms']:>7} ms   p95 {result[name]['p95_ms']:>7} ms"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--reuse-orders", action="store_true", help="keep the last run's orders")
    parser.add_argument("--skip", default="", help="comma list of: rollup,pages,lists")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    report: dict[str, Any] = {"database": _setup(args.products)}
    if "rollup" not in skip:
        if args.reuse_orders:
            print(f"reusing the orders already written on {BENCH_DAY}")
        else:
            print(f"writing {args.orders:,} paid orders on {BENCH_DAY} ...")
            report["orders_written_s"] = _orders(args.orders)
        print(f"  rolling the day up {args.runs} times")
        times = _rollup(args.runs)
        report["rollup"] = {"orders": args.orders, "runs_s": times, "median_s": median(times),
                            "target_s_at_1M": TARGET_ROLLUP_1M_S}  # fmt: skip
        print(f"rollup of {args.orders:,} orders: median {median(times)} s {times} "
              f"(target {TARGET_ROLLUP_1M_S} s at 1,000,000)")  # fmt: skip
    client = _client()
    if "pages" not in skip:
        _year_of_rollups()
        span = f"?start={BENCH_DAY - timedelta(days=365)}&end={BENCH_DAY - timedelta(days=1)}"
        print(f"chart pages over a year of rollups (target p95 {TARGET_PAGE_P95_MS} ms):")
        slugs = ("overview", "sales", "funnel", "payments", "fulfilment", "gateway", "users")
        report["pages"] = _timed_pages(
            client, {s: f"/admin/analytics/{s}/{span}" for s in slugs}, args.requests
        )
        report["pages"]["home"] = _timed_pages(client, {"home": "/admin/"}, args.requests)["home"]
    if "lists" not in skip:
        print(
            f"workbench product list on {report['database']['products']:,} products (target p95 {TARGET_LIST_P95_MS} ms):"
        )
        lists = {
            "products": "/admin/catalog/product/",
            "products page 50": "/admin/catalog/product/?p=50",
            "products searched": "/admin/catalog/product/?q=%E6%B5%81%E9%87%8F",
            "products filtered": "/admin/catalog/product/?status__exact=published&kind__exact=digital",
            "products date range": "/admin/catalog/product/?created_at__range_start=2026-01-01&created_at__range_end=2026-12-31",
            "skus": "/admin/catalog/sku/",
            "orders": "/admin/orders/order/",
            "payment intents": "/admin/payments/paymentintent/",
            "deliveries": "/admin/fulfilment/delivery/",
        }
        report["lists"] = _timed_pages(client, lists, args.requests)
    print(json.dumps(report, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
