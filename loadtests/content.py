"""Content billing: in-app charges per second end to end (signed create + SMS-code confirm over
the CP API), and subscription renewals per second by a real Celery worker.

``python -m loadtests.content [--runs 3] [--charges 300] [--clients 8] [--renewals 600] [--pool threads:16]``

Isolated like ``loadtests.deliveries`` (whose set-up it reuses): an embedded PostgreSQL under
``var/bench`` for the platform and the sandbox, the sandbox carrier on a free port answering at
once (no added latency), a Redis database of its own as the broker.

Charges: ``--clients`` threads in this process, each a CP server calling the platform's API
through Django's test client (signature checked, DRF, services): sign and POST a charge, read
the code the carrier texted (from the sandbox's table, as the subscriber would read the SMS),
sign and POST the confirm. A charge counts when the confirm answers ``succeeded``. The platform
and the load generator share the process and the 2 cores.

Renewals: ``--renewals`` subscriptions due now, one ``subscription_renew_task`` each published
first; then a worker starts and the rate is taken from the renewals' own timestamps.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import httpx

from loadtests import servers
from loadtests.deliveries import (
    ROOT,
    _broker_url,
    _database_urls,
    _env,
    _setup_platform,
    _start_sandbox,
)
from loadtests.stats import median

TARGET_CHARGES_PER_S = 500  # the seed's payments figure


def _subscribers(sandbox_db: str, prefix: int, count: int) -> list[str]:
    """``count`` subscribers with money on their bill, numbered under ``prefix`` (0-999)."""
    import psycopg

    numbers = [f"+86139{prefix % 1000:03d}{n:05d}" for n in range(count)]
    with psycopg.connect(sandbox_db) as conn:
        conn.execute(
            "INSERT INTO sandbox_subscriber (msisdn, operator, province, city, status, balance_fen, "
            "real_name_verified, created_at, updated_at) SELECT unnest(%s::text[]), 'CMCC', '北京', "
            "'北京', 'active', 100000000, true, now(), now() ON CONFLICT (msisdn) DO UPDATE SET balance_fen = 100000000",
            [numbers],
        )
    return numbers


def _cp() -> tuple[int, int, int, str, str]:
    """A CP with a one-off and a monthly product and a key; (cp, one-off, monthly, key, secret)."""
    from apps.accounts.models import User
    from apps.content import services

    member, _ = User.objects.get_or_create(phone=f"+86137{time.time_ns() % 10**8:08d}")
    operator, _ = User.objects.get_or_create(phone="+8613700000009")
    cp = services.cp_register(user_id=member.pk, name="bench", licence_number=f"BENCH-{time.time_ns()}",
                              bank_account="1", contact_name="b", contact_phone="1")  # fmt: skip
    services.cp_review(cp_id=cp.pk, decision="approve", actor_id=operator.pk)
    ids = []
    for mode in ("one_off", "monthly"):
        p = services.product_create(cp_id=cp.pk, actor_id=None, kind="game", title=f"bench {mode}", description="",
                                    price_fen=100, billing_mode=mode, billing_code=f"B-{mode}")  # fmt: skip
        services.product_review(product_id=p.pk, decision="approve", actor_id=operator.pk)
        ids.append(p.pk)
    key = services.cp_key_issue(cp_id=cp.pk, actor_id=None)
    return cp.pk, ids[0], ids[1], key.key_id, key.secret


def _signed(
    client: Any, key: tuple[str, str], method: str, target: str, payload: dict[str, Any] | None
) -> Any:
    import secrets

    from apps.core import signing

    body = json.dumps(payload).encode() if payload is not None else b""
    date, nonce = str(int(time.time())), secrets.token_hex(12)
    sig = signing.sign(
        secret=key[1], date=date, nonce=nonce, method=method, target=target, body=body
    )
    headers = {"Authorization": signing.authorization_header(client_id=key[0], signature=sig),
               "X-CH-Date": date, "X-CH-Nonce": nonce}  # fmt: skip
    if method == "POST":
        return client.post(target, body, content_type="application/json", headers=headers)
    return client.get(target, headers=headers)


def charges(
    *,
    sandbox_db: str,
    product_id: int,
    key: tuple[str, str],
    numbers: list[str],
    clients: int,
    tag: str,
) -> dict[str, float]:
    import psycopg
    from django.db import connection
    from django.test import Client

    done: list[int] = []
    errors: list[str] = []
    chunks = [numbers[i::clients] for i in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def run(chunk: list[str], n: int) -> None:
        client = Client(SERVER_NAME="localhost")
        with psycopg.connect(sandbox_db, autocommit=True) as sandbox:
            barrier.wait()
            for i, msisdn in enumerate(chunk):
                made = _signed(client, key, "POST", "/api/v1/content/charges/",
                               {"product_id": product_id, "phone_number": msisdn, "cp_order_id": f"{tag}-{n}-{i}"})  # fmt: skip
                if made.status_code != 201:
                    errors.append(made.content.decode()[:200])
                    continue
                row = sandbox.execute(
                    "SELECT code FROM sandbox_carrierpayment WHERE msisdn = %s ORDER BY created_at DESC LIMIT 1",
                    [msisdn],
                ).fetchone()
                charge_id = made.json()["charge_id"]
                ok = _signed(
                    client,
                    key,
                    "POST",
                    f"/api/v1/content/charges/{charge_id}/confirm/",
                    {"code": row[0] if row else ""},
                )
                if ok.status_code == 200 and ok.json()["status"] == "succeeded":
                    done.append(1)
                else:
                    errors.append(ok.content.decode()[:200])
        connection.close()

    threads = [threading.Thread(target=run, args=(chunk, n)) for n, chunk in enumerate(chunks)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        print(f"  {len(errors)} errors, first: {errors[0]}", flush=True)
    return {"charges": len(done), "charges_per_s": len(done) / elapsed, "errors": len(errors)}


def _due_subscriptions(cp_id: int, product_id: int, numbers: list[str]) -> list[int]:
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.services import user_ensure_for_phone
    from apps.content.models import Subscription

    now = timezone.now()
    rows = [
        Subscription(user_id=user_ensure_for_phone(phone=n), msisdn=n, cp_id=cp_id, product_id=product_id,
                     status="active", period_start=now - timedelta(days=30), period_end=now, next_try_at=now)
        for n in numbers
    ]  # fmt: skip
    return [s.pk for s in Subscription.objects.bulk_create(rows)]


def renewals(*, env: dict[str, str], pool: str, ids: list[int]) -> dict[str, float]:
    import redis
    from django.db.models import Count, Max, Min

    from apps.content.models import Renewal
    from apps.content.tasks import subscription_renew_task

    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
    for sub_id in ids:
        subscription_renew_task.apply_async(args=[sub_id])
    kind, concurrency = pool.split(":")
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", kind, "--concurrency", concurrency,
               "--loglevel", "WARNING", "-n", f"benchcontent{time.time_ns()}@%h", "--without-mingle", "--without-gossip",
               "--without-heartbeat"]  # fmt: skip
    worker = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            row = (
                Renewal.objects.filter(subscription_id__in=ids)
                .exclude(status="charging")
                .aggregate(n=Count("pk"), first=Min("updated_at"), last=Max("updated_at"))
            )
            if row["n"] >= len(ids):
                break
            time.sleep(0.25)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    paid = Renewal.objects.filter(subscription_id__in=ids, status="paid").count()
    span = (row["last"] - row["first"]).total_seconds() if row["n"] > 1 else float("nan")
    return {
        "renewals": paid,
        "failed": row["n"] - paid,
        "renewals_per_s": (row["n"] - 1) / span if span else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--charges", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--renewals", type=int, default=600)
    parser.add_argument("--pool", default="threads:16")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main_url, sandbox_db = _database_urls()
    port = servers.free_port()
    sandbox = _start_sandbox(main_url, sandbox_db, port)
    try:
        sandbox_url = f"http://127.0.0.1:{port}"
        httpx.put(f"{sandbox_url}/sandbox/knobs", json={"latency_ms": 0},
                  headers={"X-Api-Key": os.environ.get("CARRIER_API_KEY", "sandbox-key")}).raise_for_status()  # fmt: skip
        env = _env(main_url, _broker_url(), sandbox_url)
        _setup_platform(env)
        cp_id, one_off, monthly, key_id, secret = _cp()
        results: dict[str, list[dict[str, float]]] = {"charges": [], "renewals": []}
        for run in range(args.runs):
            tag = f"{time.time_ns() % 10**6:06d}"
            numbers = _subscribers(sandbox_db, int(tag[:3]), args.charges)
            got = charges(sandbox_db=sandbox_db, product_id=one_off, key=(key_id, secret), numbers=numbers,
                          clients=args.clients, tag=tag)  # fmt: skip
            results["charges"].append(got)
            print(f"run {run + 1}: {got['charges_per_s']:.1f} in-app charges/s (create + confirm; target "
                  f"{TARGET_CHARGES_PER_S}/s, the seed's payments figure)", flush=True)  # fmt: skip
            ids = _due_subscriptions(
                cp_id, monthly, _subscribers(sandbox_db, int(tag[:3]) + 500, args.renewals)
            )
            renewed = renewals(env=env, pool=args.pool, ids=ids)
            results["renewals"].append(renewed)
            print(f"run {run + 1}: {renewed['renewals_per_s']:.1f} renewals/s by a {args.pool} worker "
                  f"({renewed['renewals']} paid, {renewed['failed']} failed)", flush=True)  # fmt: skip
        summary = {
            k: {m: median(r[m] for r in rows) for m in rows[0]} for k, rows in results.items()
        }
        print(json.dumps({"target_charges_per_s": TARGET_CHARGES_PER_S, **summary}, indent=2))
        out = ROOT / "loadtests" / "results"
        out.mkdir(exist_ok=True)
        (out / f"content-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
            json.dumps(results, indent=2)
        )
    finally:
        os.killpg(sandbox.pid, signal.SIGTERM)
        sandbox.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
