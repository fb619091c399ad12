"""Purchases per second end to end, and payment notifications applied per second, over HTTP.

``python -m loadtests.payments [--runs 3] [--duration 15] [--buyers 32] [--notifications 2000]``
(``make bench-payments``)

Two rows, both driven by **locust** (``loadtests/locust_purchases.py``, headless, one process,
in a virtualenv of its own under ``var/locust-venv`` that this harness creates on first use):

- **purchase**: each buyer, with its own bearer token, repeats: add the video membership to the
  cart (POST /api/v1/cart/lines/), check out (POST /api/v1/checkout/), start an Alipay payment
  (POST /api/v1/orders/<n>/pay/), then deliver the asynchronous notification Alipay would send,
  signed with the sandbox's Alipay key (POST /payments/notify/alipay/, verified by
  python-alipay-sdk). A purchase counts when the platform answers ``success``. Target ≥ 200/s.
- **notify**: the notification alone (signed, verified, order paid, ledger posted), the seed's
  "payment purchase concurrent capacity". Orders with a pending Alipay payment are prepared
  in advance (one made through the services, the rest copied from it in bulk), their
  notifications signed in advance; locust posts each once. Target ≥ 500/s.

The server is granian 2 × 8 (as ``make run``) on the bench database, with a Redis broker and
no worker: the order_paid fact is queued for fulfilment (measured by ``make bench-deliveries``)
and thrown away after each run. Every row gives the CPU split (server, PostgreSQL, locust,
others) from ``/proc``, which is what to reason with on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from loadtests import cpu, servers
from loadtests.stats import median, percentile

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/carrierhub_paybench"
LOCUST_VENV = ROOT / "var" / "locust-venv"
LOCUST_REQUIREMENTS = ["locust==2.47.0", "cryptography==50.0.2"]
TARGETS = {"purchase": 200.0, "notify": 500.0}


def _locust() -> Path:
    """locust in its own virtualenv (it brings gevent, which the platform must not import)."""
    binary = LOCUST_VENV / "bin" / "locust"
    if not binary.exists():
        print(f"installing {', '.join(LOCUST_REQUIREMENTS)} into {LOCUST_VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LOCUST_VENV)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [str(LOCUST_VENV / "bin" / "pip"), "install", "-q", *LOCUST_REQUIREMENTS], check=True
        )
    return binary


def _setup(
    database_url: str, broker_url: str, buyers: int
) -> tuple[dict[str, str], list[str], int]:
    """Migrate and seed the bench database; return the server env, buyer tokens and a SKU id."""
    import psycopg

    from config.embedded import with_database_name

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(with_database_name(database_url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": "carrierhub-bench-only-not-secret",
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "LOG_LEVEL": "WARNING",
    }
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    os.environ.update(
        {
            k: env[k]
            for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "REDIS_URL")
        }
    )
    import django

    django.setup()
    from apps.accounts.models import User
    from apps.accounts.services import api_token_issue
    from apps.catalog.models import Sku

    tokens = []
    # Each purchase takes the next buyer of the pool (loadtests/locust_purchases.py): enough of
    # them that none passes the demo seed's checkout velocity rule (20 an hour) in a bench.
    for n in range(max(buyers, BUYER_POOL)):
        user, _ = User.objects.get_or_create(phone=f"+86139{90000000 + n:08d}")
        tokens.append(api_token_issue(user_id=user.pk, name="bench")[0])
    sku = Sku.objects.get(code="VIDEO-1").pk  # 咪咕视频 VIP会员 月卡, no stock, no recipient
    return env, tokens, sku


BUYER_POOL = 2_000


def _pending_payments(sku: int, count: int) -> list[tuple[str, int]]:
    """``count`` orders awaiting an Alipay payment: (intent public id, amount).

    One is made through the services (cart, checkout, payment start); the others are copies of
    its order, line and intent rows with fresh numbers and keys, written in bulk.
    """
    from apps.accounts.models import User
    from apps.orders import services as orders
    from apps.orders.models import Order, OrderLine
    from apps.payments.models import PaymentIntent
    from apps.payments.services.common import new_public_id

    buyer, _ = User.objects.get_or_create(phone="+8613899999999")
    orders.cart_add(owner=orders.CartOwner(user_id=buyer.pk), sku_id=sku, quantity=1)
    stamp = time.strftime("%H%M%S")
    number = orders.checkout_submit(
        user_id=buyer.pk, checkout_key=f"bench-template-{time.time_ns()}"
    ).number
    orders.order_pay(number=number, user_id=buyer.pk, method="alipay", channel="page",
                     client_ip="127.0.0.1", attempt_key="a", return_url="http://127.0.0.1/")  # fmt: skip
    order = Order.objects.get(number=number)
    lines = list(OrderLine.objects.filter(order=order))
    intent = PaymentIntent.objects.get(purpose="order", reference=number)
    made: list[tuple[str, int]] = []
    for start in range(0, count, 500):
        batch = range(start, min(count, start + 500))
        copies = []
        for n in batch:
            o = Order.objects.get(pk=order.pk)
            o.pk = None
            o.number = f"CHB{stamp}{n:07d}{time.time_ns() % 1000:03d}"[:24]
            o.checkout_key = f"bench-{o.number}"
            copies.append(o)
        Order.objects.bulk_create(copies)
        new_lines, new_intents = [], []
        for o in copies:
            for line in lines:
                copy = OrderLine.objects.get(pk=line.pk)
                copy.pk, copy.order_id = None, o.pk
                new_lines.append(copy)
            i = PaymentIntent.objects.get(pk=intent.pk)
            i.pk, i.public_id, i.reference = None, new_public_id("PI"), o.number
            i.idempotency_key = f"bench:{o.number}"
            new_intents.append(i)
        OrderLine.objects.bulk_create(new_lines)
        PaymentIntent.objects.bulk_create(new_intents)
        made.extend((i.public_id, i.amount_fen) for i in new_intents)
    return made


def _alipay_key_pem() -> str:
    from config.devkeys import dev_rsa_private_pem

    return dev_rsa_private_pem("alipay-platform")


def _run_locust(base: str, config: dict[str, Any], *, users: int, duration: float, db_name: str,
                server_pid: int) -> dict[str, Any]:  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        config_path, result_path = Path(tmp) / "config.json", Path(tmp) / "result.json"
        config_path.write_text(json.dumps(config))
        env = {
            **os.environ,
            "BENCH_PAY_CONFIG": str(config_path),
            "BENCH_PAY_RESULT": str(result_path),
        }
        user_class = "Buyer" if config["mode"] == "purchase" else "Notifier"
        argv = [str(_locust()), "-f", str(ROOT / "loadtests" / "locust_purchases.py"), user_class,
                "--headless", "--host", base, "--users", str(users), "--spawn-rate", str(users),
                "--run-time", f"{int(duration)}s", "--only-summary", "--loglevel", "WARNING"]  # fmt: skip
        before = cpu.snapshot(server_pid=server_pid, db_name=db_name)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
        locust_pid = process.pid
        output, _ = process.communicate(timeout=duration + 120)
        after = cpu.snapshot(server_pid=server_pid, db_name=db_name)
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        counted = json.loads(result_path.read_text()) if result_path.exists() else {}
    if not counted:
        raise RuntimeError(f"locust wrote no result:\n{output.decode(errors='replace')[-3000:]}")
    del locust_pid
    if counted.get("failures"):
        print("first failures:", *counted["failures"], sep="\n  ", flush=True)
    span = max(counted["last"] - counted["first"], 1e-9)
    shares = cpu.usage(before, after)
    wall = after.at - before.at
    locust_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    # locust was a short-lived child: /proc saw it as a foreign process; the kernel's account
    # of the waited child says what it used.
    shares["locust"] = round(locust_cpu / wall, 3)
    shares["foreign"] = round(max(0.0, shares.get("foreign", 0.0) - shares["locust"]), 3)
    latencies = counted["latencies"] or [0.0]
    done = counted["done"]
    return {
        "per_s": done / span,
        "done": done,
        "errors": counted["errors"],
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "server_cpu_ms": shares.get("server", 0) * wall / max(done, 1) * 1000,
        "postgres_cpu_ms": shares.get("postgres_bench", 0) * wall / max(done, 1) * 1000,
        "locust_cpu_ms": locust_cpu / max(done, 1) * 1000,
        "cores": shares,
    }


def _sign_all(payments: list[tuple[str, int]], path: Path) -> None:
    from django.conf import settings

    from loadtests.alipay_notify import load_key, signed_body

    key = load_key(_alipay_key_pem())
    stamp = time.time_ns()
    path.write_text("".join(
        signed_body(key=key, app_id=settings.ALIPAY_APP_ID, public_id=public_id,
                    amount_fen=amount, notify_id=f"n{stamp}{n}") + "\n"
        for n, (public_id, amount) in enumerate(payments)
    ))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per purchase run")
    parser.add_argument("--buyers", type=int, default=32, help="locust users")
    parser.add_argument("--notifications", type=int, default=2000, help="per notify run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--only", default="purchase,notify")
    args = parser.parse_args(argv)
    database_url = os.environ.get("BENCH_PAY_DATABASE_URL", DEFAULT_DB)
    broker = os.environ.get(
        "BENCH_PAY_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    _locust()
    env, tokens, sku = _setup(database_url, broker, args.buyers)
    db_name = database_url.rsplit("/", 1)[1]
    config = servers.ServerConfig(
        name=f"granian-{args.workers}x{args.threads}", label="granian WSGI", server="granian",
        workers=args.workers, threads=args.threads,
    )  # fmt: skip
    base_config = {"tokens": tokens, "sku": sku, "alipay_key_pem": _alipay_key_pem()}
    from django.conf import settings

    base_config["app_id"] = settings.ALIPAY_APP_ID
    from apps.core.redis import get_redis

    results: dict[str, list[dict[str, Any]]] = {}
    with servers.running(config, env, ready_path="/api/v1/categories/") as server:
        for mode in args.only.split(","):
            results[mode] = []
            for run in range(args.runs):
                cfg = {**base_config, "mode": mode}
                duration = args.duration
                if mode == "notify":
                    bodies = ROOT / "var" / f"bench-notify-{run}.txt"
                    _sign_all(_pending_payments(sku, args.notifications), bodies)
                    cfg["bodies"] = str(bodies)
                    duration = 120.0  # the users stop when every notification is posted
                result = _run_locust(server.base_url, cfg, users=args.buyers, duration=duration,
                                     db_name=db_name, server_pid=server.pid)  # fmt: skip
                get_redis().flushdb()  # the queued fulfilment work: not this benchmark's
                results[mode].append(result)
                print(f"{mode} run {run + 1}: {result['per_s']:.1f}/s, p50 {result['p50_ms']:.0f} ms, "
                      f"p99 {result['p99_ms']:.0f} ms, errors {result['errors']}, "
                      f"server {result['server_cpu_ms']:.1f} CPU ms, PostgreSQL {result['postgres_cpu_ms']:.1f} CPU ms "
                      f"each; cores {result['cores']}", flush=True)  # fmt: skip
    summary = {}
    print(
        f"\n{'row':<10} {'per second':>11} {'target':>8} {'p50 ms':>7} {'p99 ms':>7} {'server ms':>10} {'PG ms':>6}"
    )
    for mode, runs in results.items():
        m = {
            key: median(r[key] for r in runs)
            for key in ("per_s", "p50_ms", "p99_ms", "server_cpu_ms", "postgres_cpu_ms", "errors")
        }
        summary[mode] = m
        print(f"{mode:<10} {m['per_s']:>11.1f} {TARGETS[mode]:>8.0f} {m['p50_ms']:>7.0f} {m['p99_ms']:>7.0f} "
              f"{m['server_cpu_ms']:>10.2f} {m['postgres_cpu_ms']:>6.2f}")  # fmt: skip
    out = ROOT / "loadtests" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"payments-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"server": config.name, "buyers": args.buyers, "code": servers.code_version(),
                                "runs": results, "median": summary, "targets": TARGETS}, indent=2))  # fmt: skip
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
