"""Recharges delivered per second by a real Celery worker on Redis, against the carrier sandbox
answering in 50 ms, and how that grows with the worker's pool and concurrency.

``python -m loadtests.deliveries [--runs 3] [--jobs 1500] [--pools threads:8,threads:32] [--path orders|bulk] [--mode chunk|single]``

``--mode single`` publishes each job's task with ``chunk=False`` (one ``job_deliver`` per task,
the path before issue #18's chunks), for a before/after on the same machine.

``orders`` (the default): a paid airtime order line per job, one ``job_deliver_task`` each, as
checkout enqueues them; each delivery is a top-up at the carrier plus the recipient's SMS (a
second task and a second carrier call). ``bulk``: one bulk-distribution batch of data packs,
chunked 25 rows per task, no SMS. The jobs are written and their tasks published to the broker
first; then the worker starts, and the rate is taken from the database's own timestamps of the
first and last delivery, so the worker's start-up is not counted.

Isolated from anything else on the machine: an embedded PostgreSQL under ``var/bench`` for the
platform and the sandbox, the sandbox on a free port (2 gunicorn workers x 32 threads), and a
Redis database of its own as the broker (``BENCH_BROKER_URL``, default: ``REDIS_URL`` db 3).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from loadtests import servers
from loadtests.stats import median

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
LATENCY_MS = 50
SANDBOX_PID = 0  # the sandbox's process group leader, for its CPU per delivery
SANDBOX_WORKERS, SANDBOX_THREADS = 2, 32


def _database_urls() -> tuple[str, str]:
    os.environ["CARRIERHUB_VAR_DIR"] = str(VAR)
    from config.embedded import embedded_database_url, with_database_name

    main = embedded_database_url("carrierhub_delbench")
    return main, with_database_name(main, "carrierhub_delbench_sandbox")


def _broker_url() -> str:
    url = os.environ.get("BENCH_BROKER_URL") or os.environ.get("REDIS_URL", "")
    if not url:
        raise SystemExit("needs a Redis server: set REDIS_URL (or BENCH_BROKER_URL)")
    return url.rsplit("/", 1)[0] + "/3" if not os.environ.get("BENCH_BROKER_URL") else url


def _env(database_url: str, broker: str, sandbox_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": "carrierhub-bench-only-not-secret",
        "CELERY_BROKER_URL": broker,
        "CARRIER_BASE_URL": sandbox_url,
        "CARRIER_TIMEOUT_SECONDS": "5",
        # Delivery reports of the SMS go nowhere (nothing listens on port 9), not to a server
        # someone else may run on 8000.
        "CARRIER_CALLBACK_BASE_URL": "http://127.0.0.1:9",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # the cache and rate limits are not under test
    return env


def _start_sandbox(main_url: str, sandbox_db: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.sandbox", "DATABASE_URL": main_url,
           "SANDBOX_DATABASE_URL": sandbox_db, "LOG_LEVEL": "WARNING"}  # fmt: skip
    command = [sys.executable, "manage.py", "sandbox_serve", "--port", str(port),
               "--workers", str(SANDBOX_WORKERS), "--threads", str(SANDBOX_THREADS)]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("the sandbox did not start")


def _subscribers(sandbox_db: str, count: int) -> list[str]:
    """``count`` active subscribers spread over the 31 home provinces (each province's BOSS
    takes ``CARRIER_PROVINCE_MAX_IN_FLIGHT`` calls at a time), written straight into the
    sandbox's table."""
    import psycopg

    from apps.carrier.provinces import _segments

    firsts, _, codes = _segments()
    starts = list({code: first for first, code in zip(firsts, codes, strict=True)}.values())
    numbers = [f"+86{starts[n % len(starts)]}{n // len(starts):04d}" for n in range(count)]
    with psycopg.connect(sandbox_db) as conn:
        conn.execute(
            "INSERT INTO sandbox_subscriber (msisdn, operator, province, city, status, balance_fen, "
            "real_name_verified, created_at, updated_at) SELECT unnest(%s::text[]), 'CMCC', '北京', "
            "'北京', 'active', 0, true, now(), now() ON CONFLICT (msisdn) DO NOTHING",
            [numbers],
        )
    return numbers


def _setup_platform(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL",
                                           "CARRIER_BASE_URL", "DJANGO_SECRET_KEY")})  # fmt: skip
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def _catalog() -> tuple[int, int]:
    """An airtime SKU and a data-pack SKU (created once); returns their ids."""
    from apps.catalog.models import Category, ProductType, Sku
    from apps.catalog.services import SkuSpec, category_create, product_create

    cat = Category.objects.filter(slug="bench").first() or category_create(
        slug="bench", name="bench", name_en="bench", kind="electronic", parent_id=None
    )
    ids = []
    int_field = {"type": "int", "required": True}
    for code, ptype_code, attributes, price, schema in (
        ("BENCH-AIR-50", "airtime", {"face_value": 50}, 4980, [{"key": "face_value", "label": "面值", **int_field}]),
        ("BENCH-DATA-1G", "data_pack", {"volume": "1GB", "validity_days": 30}, 500,
         [{"key": "volume", "label": "流量", "type": "str", "required": True},
          {"key": "validity_days", "label": "有效期", **int_field}]),
    ):  # fmt: skip
        ptype, _ = ProductType.objects.update_or_create(
            code=ptype_code,
            defaults={"name": ptype_code, "kind": "electronic", "needs_recipient_number": True,
                      "attribute_schema": schema},
        )  # fmt: skip
        if not Sku.objects.filter(code=code).exists():
            product_create(category_id=cat.pk, product_type_id=ptype.pk, name=code, attributes=attributes,
                           skus=[SkuSpec(code, "default", price)])  # fmt: skip
        ids.append(Sku.objects.get(code=code).pk)
    return ids[0], ids[1]


def _make_jobs(numbers: list[str], sku_id: int, tag: str, chunk: bool) -> list[int]:
    """Paid orders with one airtime line and its job each, written in bulk (as checkout would
    leave them), and a ``job_deliver_task`` published per job (``chunk``: the chunk path, as
    checkout enqueues it; else the single path, ``job_deliver`` alone). Returns the job ids."""
    from django.db import transaction
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.fulfilment.models import Delivery
    from apps.fulfilment.tasks import job_deliver_task
    from apps.orders.models import Order, OrderLine

    user, _ = User.objects.get_or_create(phone="+8613999999999")
    now = timezone.now()
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            Order(number=f"{tag}{i:06d}", user=user, checkout_key=f"{tag}{i}", status="paid", goods_fen=4980,
                  payable_fen=4980, expires_at=now, paid_at=now)
            for i in range(len(numbers))
        )  # fmt: skip
        lines = OrderLine.objects.bulk_create(
            OrderLine(order=o, sku_id=sku_id, product_id=0, product_name="bench", sku_name="50", kind="electronic",
                      unit_price_fen=4980, quantity=1, total_fen=4980, recipient_msisdn=n, fulfilment="ready")
            for o, n in zip(orders, numbers, strict=True)
        )  # fmt: skip
        jobs = Delivery.objects.bulk_create(
            Delivery(line_id=line.pk, order_number=o.number, kind="airtime", msisdn=n, units=1,
                          amount_fen=5000, refund_fen=4980)
            for line, o, n in zip(lines, orders, numbers, strict=True)
        )  # fmt: skip
    for job in jobs:
        job_deliver_task.apply_async(args=[job.pk], kwargs={} if chunk else {"chunk": False})
    return [job.pk for job in jobs]


def _make_batch(numbers: list[str], sku_code: str, tag: str) -> str:
    """A bulk batch of one data pack per number, for a funded enterprise; its dispatch task is
    published on commit. Returns the batch number."""
    from django.contrib.auth.models import Group

    from apps.accounts.models import Role, User
    from apps.enterprise import billing, services

    owner, _ = User.objects.get_or_create(phone="+8613999999998")
    owner.groups.add(Group.objects.get_or_create(name=Role.ENTERPRISE)[0])
    billing.enterprise_topup(enterprise_id=owner.pk, amount_fen=500 * len(numbers), reference=f"BENCH-{tag}",
                             actor_id=None)  # fmt: skip
    content = "\n".join(
        ["number,pack", *[f"{n[3:]},{sku_code}" for n in numbers], f"# {tag}"]
    ).encode()
    return services.bulk_batch_create(
        owner_id=owner.pk, file_name=f"{tag}.csv", content=content
    ).batch_no


def _given_up(path: str, ref: Any) -> int:
    """Deliveries that ended without being delivered (the carrier stayed unavailable)."""
    from apps.enterprise.models import BulkRow
    from apps.fulfilment.models import Delivery

    if path == "orders":
        return Delivery.objects.filter(pk__in=ref, status__in=["failed", "refunded"]).count()
    return BulkRow.objects.filter(batch__batch_no=ref, status="failed").count()


def _finished(path: str, ref: Any) -> tuple[int, Any, Any]:
    """How many deliveries are done, and the first and last delivery's time."""
    from django.db.models import Count, Max, Min

    from apps.enterprise.models import BulkRow
    from apps.fulfilment.models import Delivery

    qs: Any = (
        Delivery.objects.filter(pk__in=ref, status="delivered")
        if path == "orders"
        else BulkRow.objects.filter(batch__batch_no=ref, status="delivered")
    )
    row = qs.aggregate(n=Count("pk"), first=Min("updated_at"), last=Max("updated_at"))
    return row["n"], row["first"], row["last"]


def _sms_done(numbers: list[str], since: Any) -> int:
    from apps.carrier.models import SmsMessage

    return (
        SmsMessage.objects.filter(msisdn__in=numbers, created_at__gte=since)
        .exclude(status="queued")
        .count()
    )


def _cpu_seconds(pid: int) -> float:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def measure(*, env: dict[str, str], pool: str, concurrency: int, path: str, numbers: list[str],
            sku: tuple[int, str], tag: str, wait_sms: bool, chunk: bool = True) -> dict[str, float]:  # fmt: skip
    import redis
    from django.utils import timezone

    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()  # SMS tasks left by the last run
    started_at = timezone.now()
    ref: Any = (
        _make_jobs(numbers, sku[0], tag, chunk)
        if path == "orders"
        else _make_batch(numbers, sku[1], tag)
    )
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", pool, "--concurrency",
               str(concurrency), "--loglevel", "WARNING", "-n", f"bench{tag}@%h", "--without-mingle",
               "--without-gossip", "--without-heartbeat"]  # fmt: skip
    worker = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    load_before = os.getloadavg()[0]
    try:
        deadline = time.monotonic() + 600
        done, base_done, base_cpu, base_sandbox = 0, -1, 0.0, 0.0
        while time.monotonic() < deadline:
            done, first, last = _finished(path, ref)
            if done and base_done < 0:
                # The worker's CPU from here on, not its start-up (Django and the app imports).
                base_done, base_cpu = done, _cpu_seconds(worker.pid)
                base_sandbox = _cpu_seconds(SANDBOX_PID)
            if done >= len(numbers) or done + _given_up(path, ref) >= len(numbers):
                break
            time.sleep(0.25)
        cpu = _cpu_seconds(worker.pid) - base_cpu
        sandbox_cpu = _cpu_seconds(SANDBOX_PID) - base_sandbox
        sms_seconds = float("nan")
        if path == "orders" and wait_sms:
            while time.monotonic() < deadline and _sms_done(numbers, started_at) < len(numbers):
                time.sleep(0.25)
            sms_seconds = (timezone.now() - first).total_seconds()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    span = (last - first).total_seconds() if done > 1 else float("nan")
    return {
        "deliveries": done,
        "given_up": _given_up(path, ref),
        "deliveries_per_s": (done - 1) / span if span else float("nan"),
        "with_sms_per_s": len(numbers) / sms_seconds,
        "worker_cpu_ms_per_delivery": 1000 * cpu / max(done - base_done, 1),
        # The carrier's share (on the same 2 cores): the top-up, and any SMS sent meanwhile.
        "sandbox_cpu_ms_per_delivery": 1000 * sandbox_cpu / max(done - base_done, 1),
        "load_avg_1m_at_start": load_before,
        "load_avg_1m_at_end": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1500)
    # The chunk path needs few threads (each drain keeps up to 32 carrier calls in flight).
    parser.add_argument("--pools", default="threads:8")
    parser.add_argument("--path", choices=["orders", "bulk"], default="orders")
    parser.add_argument("--wait-sms", action="store_true", help="also time until every SMS is sent")
    parser.add_argument("--mode", choices=["chunk", "single"], default="chunk",
                        help="orders: the chunk path (default) or one job_deliver per task (before #18)")  # fmt: skip
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the worker and the sandbox (own process groups) stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main_url, sandbox_db = _database_urls()
    port = servers.free_port()
    sandbox = _start_sandbox(main_url, sandbox_db, port)
    global SANDBOX_PID
    SANDBOX_PID = sandbox.pid
    try:
        sandbox_url = f"http://127.0.0.1:{port}"
        httpx.put(f"{sandbox_url}/sandbox/knobs", json={"latency_ms": LATENCY_MS},
                  headers={"X-Api-Key": os.environ.get("CARRIER_API_KEY", "sandbox-key")}).raise_for_status()  # fmt: skip
        env = _env(main_url, _broker_url(), sandbox_url)
        _setup_platform(env)
        import redis

        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
        air, _ = _catalog()
        numbers = _subscribers(sandbox_db, args.jobs)
        report: dict[str, Any] = {
            "path": args.path,
            "mode": args.mode,
            "jobs": args.jobs,
            "latency_ms": LATENCY_MS,
            "pools": {},
        }
        for spec in args.pools.split(","):
            pool, concurrency = spec.split(":")
            results = []
            for run in range(args.runs):
                tag = f"D{time.time_ns() % 10**9}"
                result = measure(env=env, pool=pool, concurrency=int(concurrency), path=args.path,
                                 numbers=numbers, sku=(air, "BENCH-DATA-1G"), tag=tag, wait_sms=args.wait_sms,
                                 chunk=args.mode == "chunk")  # fmt: skip
                results.append(result)
                print(f"{spec} run {run + 1}: {result['deliveries_per_s']:.1f} deliveries/s, "
                      f"{result['with_sms_per_s']:.1f}/s with the SMS, worker CPU "
                      f"{result['worker_cpu_ms_per_delivery']:.1f} ms/delivery (sandbox "
                      f"{result['sandbox_cpu_ms_per_delivery']:.1f} ms), load {result['load_avg_1m_at_start']:.1f}"
                      f" → {result['load_avg_1m_at_end']:.1f}",
                      flush=True)  # fmt: skip
            report["pools"][spec] = {
                "runs": results,
                "median": {k: median(r[k] for r in results) for k in results[0]},
            }
        print(json.dumps({k: v["median"] for k, v in report["pools"].items()}, indent=2))
        out = ROOT / "loadtests" / "results"
        out.mkdir(exist_ok=True)
        (
            out / f"deliveries-{args.path}-{args.mode}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        ).write_text(json.dumps(report, indent=2))
    finally:
        os.killpg(sandbox.pid, signal.SIGTERM)
        sandbox.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
