"""Flash sale (秒杀): 10,000 buyers race for 100 units.

``python -m loadtests.flash [--runs 3] [--buyers 10000] [--units 100] [--threads 32]``

Each run opens a new flash sale of the video membership (¥15.00 at ¥1.00, 100 units, one per
buyer) and hands the 10,000 buyers, in random order, to ``--threads`` threads that call
``orders.services.flash_buy`` (the claim: paying the ¥1.00 with points when the order is
placed) as fast as they can. A request is timed from the call to its answer: the units won (a
``reserved`` claim, its placement task sent to the broker), or a refusal (sold out). Then the
winners' orders are placed as the Celery workers place them: ``--workers`` threads run the
placement tasks the claims queued (read from the outbox, each run through the task itself and
acknowledged), timed from the first to the last order. After that the run checks, from the
database: paid orders of the sale, units per buyer (none above the limit), slots all distinct.

In process, not over HTTP: the figure is the service's own cost (Redis script, and for the
winners the claim and its task's outbox row in PostgreSQL and the message to the broker; then
the worker's checkout and points payment), with the threads of the load generator on the same
2 shared cores as PostgreSQL and Redis. What the paid order hands on (the ``orders.order_paid``
fact and its deliveries) is sent to a Celery broker (``REDIS_URL``'s database 5) that no worker
reads during the run; the broker database is emptied at the end. Needs ``REDIS_URL`` (databases
4 and 5) and a PostgreSQL (``DATABASE_URL``'s server, database ``<name>_flashbench``).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from loadtests.stats import median, percentile

ROOT = Path(__file__).resolve().parent.parent
TARGET_P99_MS = 100.0


def _setup() -> None:
    base = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        raise SystemExit("needs a Redis server: set REDIS_URL")
    from config.embedded import embedded_database_url, with_database_name

    if base:
        name = base.rsplit("/", 1)[1] + "_flashbench"
        url = with_database_name(base, name)
        import psycopg

        with psycopg.connect(with_database_name(base, "postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    else:
        url = embedded_database_url("carrierhub_flashbench")
    # Work handed on (the order_paid fact, deliveries) goes to a broker no worker reads in the
    # run, as a web request hands it to Celery in production; the database is the truth.
    server = redis_url.rsplit("/", 1)[0]
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": f"{server}/4", "CELERY_BROKER_URL": f"{server}/5",
           "DJANGO_SETTINGS_MODULE": "config.settings.base",
           "DJANGO_SECRET_KEY": "carrierhub-bench-only-not-secret", "LOG_LEVEL": "WARNING"}  # fmt: skip
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    os.environ.update(env)
    import django
    import redis

    # The bench's Redis databases are its own: a sale id of another bench database must not
    # meet the keys (buyers, slots) an earlier run left under the same id.
    for db in (4, 5):
        redis.Redis.from_url(f"{server}/{db}").flushdb()
    django.setup()


def _buyers(count: int, points_each: int) -> tuple[list[int], int]:
    """``count`` buyers holding ``points_each`` points, and the video membership's SKU id."""
    from apps.accounts.models import User
    from apps.catalog.models import Sku
    from apps.ledger.services import LineSpec, journal_post
    from apps.payments.services import points_account

    if not Sku.objects.filter(code__startswith="FLASHBENCH").exists():
        from apps.catalog.tests.factories import category, product, product_type

        video = category("flashbench", kind="digital", name="秒杀")
        item = product(
            video, product_type("flashbench", kind="digital"), "视频会员 月卡（秒杀）", price=1500
        )
        Sku.objects.filter(product=item).update(code="FLASHBENCH-VIP")
    sku_id = Sku.objects.get(code="FLASHBENCH-VIP").pk
    phones = [f"+86135{n:08d}" for n in range(count)]
    User.objects.bulk_create(
        [User(phone=p) for p in phones], ignore_conflicts=True, batch_size=2000
    )
    ids = list(User.objects.filter(phone__in=phones).order_by("pk").values_list("pk", flat=True))
    from apps.ledger.selectors import account_balance

    short = [uid for uid in ids if -account_balance(code=points_account(uid)) < points_each]
    for start in range(0, len(short), 1000):
        chunk = short[start : start + 1000]
        journal_post(
            idempotency_key=f"flashbench:points:{chunk[0]}:{time.time_ns()}", kind="points.granted",
            reference="flashbench",
            lines=[LineSpec("points:issued", points_each * len(chunk))]
            + [LineSpec(points_account(uid), -points_each) for uid in chunk],
        )  # fmt: skip
    return ids, sku_id


def _place_orders(sale_id: int, *, workers: int) -> tuple[float, int]:
    """Run the placement tasks the sale's claims queued, as ``workers`` Celery workers would:
    each through the task, then acknowledged in the outbox. Returns (seconds, tasks run)."""
    from django.db import connection

    from apps.core.models import OutboxEvent
    from apps.core.outbox import event_mark_done
    from apps.marketing.models import FlashClaim
    from apps.orders.tasks import flash_order_place_task

    claims = set(FlashClaim.objects.filter(sale_id=sale_id).values_list("pk", flat=True))
    pending = [
        (e.pk, e.payload)
        for e in OutboxEvent.objects.filter(topic="core.task", status="pending")
        if e.payload["task"] == flash_order_place_task.name and e.payload["args"][0] in claims
    ]
    lock = threading.Lock()

    def worker() -> None:
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    event_id, payload = pending.pop(0)
                flash_order_place_task.apply(
                    args=payload["args"], kwargs=payload["kwargs"], task_id=str(event_id)
                ).get()
                event_mark_done(event_id=event_id)
        finally:
            connection.close()

    count = len(pending)
    began = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(workers)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - began, count


def _run(
    buyers: list[int], sku_id: int, *, units: int, threads: int, workers: int, run: int
) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from apps.marketing.errors import FlashSoldOut
    from apps.marketing.models import FlashClaim, FlashSale, FlashUnit, Redemption
    from apps.orders import services
    from apps.orders.models import Order

    now = timezone.now()
    sale = FlashSale.objects.create(
        name=f"bench {run}", sku_id=sku_id, price_fen=100, stock=units, per_user_limit=1,
        starts_at=now - timedelta(seconds=1), ends_at=now + timedelta(hours=1),
    )  # fmt: skip
    queue = list(buyers)
    random.shuffle(queue)
    lock, latencies, wins, errors = threading.Lock(), [], [0], []
    win_latencies: list[float] = []
    start = threading.Barrier(threads + 1)

    def worker() -> None:
        start.wait()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    uid = queue.pop()
                began = time.perf_counter()
                won = False
                try:
                    services.flash_buy(user_id=uid, sale_id=sale.pk, points=100)
                    won = True
                except FlashSoldOut:
                    pass
                except Exception as exc:
                    errors.append(repr(exc))
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    if won:
                        wins[0] += 1
                        win_latencies.append(took)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began
    placing_s, placed = _place_orders(sale.pk, workers=workers)
    numbers = Redemption.objects.filter(flash_sale=sale).values_list("order_number", flat=True)
    paid = Order.objects.filter(number__in=list(numbers), status__in=["paid", "completed"]).count()
    per_user = FlashClaim.objects.filter(sale=sale).values_list("quantity", flat=True)
    slots = list(FlashUnit.objects.filter(sale=sale).values_list("slot", flat=True))
    return {
        "requests": len(latencies), "errors": len(errors), "winners": wins[0], "paid_orders": paid,
        "max_units_per_buyer": max(per_user, default=0), "distinct_slots": len(set(slots)), "slots": len(slots),
        "elapsed_s": elapsed, "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
        "winner_p99_ms": percentile(win_latencies, 99) * 1000, "first_error": errors[0] if errors else "",
        "placing_s": placing_s, "placed": placed,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="threads placing the orders")
    args = parser.parse_args(argv)
    _setup()
    buyers, sku_id = _buyers(args.buyers, points_each=100 * args.runs)
    results = []
    for run in range(1, args.runs + 1):
        r = _run(
            buyers, sku_id, units=args.units, threads=args.threads, workers=args.workers, run=run
        )
        results.append(r)
        print(f"run {run}: {r['requests']} requests in {r['elapsed_s']:.1f} s ({r['rps']:.0f}/s), "
              f"paid orders {r['paid_orders']} (target {args.units}), max units per buyer "
              f"{r['max_units_per_buyer']} (limit 1), slots {r['distinct_slots']}/{r['slots']} distinct, "
              f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms (target ≤ {TARGET_P99_MS:.0f} ms), "
              f"winners' p99 {r['winner_p99_ms']:.1f} ms, errors {r['errors']} {r['first_error']}; "
              f"{r['placed']} orders placed by {args.workers} workers in {r['placing_s']:.1f} s")  # fmt: skip
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()  # the messages no worker read
    ok = all(
        r["paid_orders"] == args.units and r["max_units_per_buyer"] <= 1 and not r["errors"]
        for r in results
    )
    print(f"median of {args.runs}: p99 {median(r['p99_ms'] for r in results):.1f} ms (target ≤ {TARGET_P99_MS:.0f} ms), "
          f"p50 {median(r['p50_ms'] for r in results):.1f} ms, {median(r['rps'] for r in results):.0f} requests/s, "
          f"winners' p99 {median(r['winner_p99_ms'] for r in results):.1f} ms, "
          f"orders placed in {median(r['placing_s'] for r in results):.1f} s; "
          f"exactly {args.units} paid orders and no buyer above the limit: {'yes' if ok else 'NO'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
