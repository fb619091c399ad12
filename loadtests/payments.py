"""Purchases per second end to end: cart, checkout, pay, and the signed Alipay notification that
pays the order and posts it to the ledger — over HTTP, against gunicorn and PostgreSQL.

``python -m loadtests.payments [--runs 3] [--duration 15] [--buyers 32]``

Each simulated buyer, with its own bearer token, repeats: add the video membership to the cart
(POST /api/v1/cart/lines/), check out (POST /api/v1/checkout/), start an Alipay payment
(POST /api/v1/orders/<n>/pay/), then delivers the asynchronous notification that Alipay would
send, signed with the sandbox's Alipay key exactly as the sandbox signs it (POST
/payments/notify/alipay/, verified by python-alipay-sdk on the platform). A purchase counts when
the platform answers ``success``. The buyers run in this process, on the same 2 cores as the
server, so the figures include the load generator's own cost (reported as its CPU share).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

from loadtests import servers
from loadtests.stats import median, percentile

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/carrierhub_paybench"


def _setup(database_url: str, buyers: int) -> tuple[dict[str, str], list[str], int]:
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
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    import subprocess

    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    os.environ.update(
        {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    )
    import django

    django.setup()
    from apps.accounts.models import User
    from apps.accounts.services import api_token_issue
    from apps.catalog.models import Sku

    tokens = []
    for n in range(buyers):
        user, _ = User.objects.get_or_create(phone=f"+86139{90000000 + n:08d}")
        tokens.append(api_token_issue(user_id=user.pk, name="bench")[0])
    sku = Sku.objects.get(code="VIDEO-1").pk  # 咪咕视频 VIP会员 月卡, no stock, no recipient
    return env, tokens, sku


def _signer() -> tuple[Any, str]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from django.conf import settings

    from config.devkeys import dev_rsa_private_pem

    key = serialization.load_pem_private_key(
        dev_rsa_private_pem("alipay-platform").encode(), password=None
    )
    assert isinstance(key, rsa.RSAPrivateKey)

    def sign(fields: dict[str, str]) -> str:
        message = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return base64.b64encode(
            key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
        ).decode()

    return sign, settings.ALIPAY_APP_ID


class Buyer(threading.Thread):
    def __init__(
        self, base: str, token: str, sku: int, stop_at: float, sign: Any, app_id: str, number: int
    ):
        super().__init__(daemon=True)
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.sku, self.stop_at, self.sign, self.app_id, self.number = (
            sku,
            stop_at,
            sign,
            app_id,
            number,
        )
        self.done = 0
        self.errors = 0
        self.latencies: list[float] = []

    def purchase(self, n: int) -> bool:
        started = time.perf_counter()
        if (
            self.http.post(
                "/api/v1/cart/lines/", json={"sku_id": self.sku, "quantity": 1}
            ).status_code
            != 201
        ):
            return False
        order = self.http.post(
            "/api/v1/checkout/", json={"checkout_key": f"b{self.number}-{n}-{time.time_ns()}"}
        )
        if order.status_code != 201:
            return False
        number = order.json()["number"]
        intent = self.http.post(
            f"/api/v1/orders/{number}/pay/",
            json={"method": "alipay", "channel": "page", "attempt_key": "a"},
        )
        if intent.status_code != 201:
            return False
        public_id, amount = intent.json()["public_id"], intent.json()["amount_fen"]
        fields = {
            "notify_time": datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"), "notify_type": "trade_status_sync",
            "notify_id": f"bench{time.time_ns()}{self.number}", "app_id": self.app_id, "charset": "utf-8",
            "version": "1.0", "trade_no": f"2026{time.time_ns()}", "out_trade_no": public_id,
            "trade_status": "TRADE_SUCCESS", "total_amount": f"{amount // 100}.{amount % 100:02d}",
            "receipt_amount": f"{amount // 100}.{amount % 100:02d}", "gmt_payment": datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            "subject": "bench", "buyer_id": "2088000000000000",
        }  # fmt: skip
        body = urlencode({**fields, "sign_type": "RSA2", "sign": self.sign(fields)})
        answer = self.http.post(
            "/payments/notify/alipay/",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.latencies.append(time.perf_counter() - started)
        return answer.text == "success"

    def run(self) -> None:
        n = 0
        while time.monotonic() < self.stop_at:
            n += 1
            try:
                if self.purchase(n):
                    self.done += 1
                else:
                    self.errors += 1
            except httpx.HTTPError:
                self.errors += 1


def measure(base: str, tokens: list[str], sku: int, duration: float) -> dict[str, float]:
    sign, app_id = _signer()
    stop_at = time.monotonic() + duration
    cpu_before = time.process_time()
    buyers = [Buyer(base, t, sku, stop_at, sign, app_id, i) for i, t in enumerate(tokens)]
    started = time.monotonic()
    for b in buyers:
        b.start()
    for b in buyers:
        b.join()
    elapsed = time.monotonic() - started
    latencies = [x for b in buyers for x in b.latencies]
    return {
        "purchases_per_s": sum(b.done for b in buyers) / elapsed,
        "errors": sum(b.errors for b in buyers),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "driver_cpu_share": (time.process_time() - cpu_before) / (elapsed * (os.cpu_count() or 1)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    env, tokens, sku = _setup(os.environ.get("BENCH_PAY_DATABASE_URL", DEFAULT_DB), args.buyers)
    config = servers.ServerConfig(
        name=f"gthread-{args.workers}x{args.threads}", label="gunicorn gthread", server="gunicorn",
        workers=args.workers, threads=args.threads, worker_class="gthread",
    )  # fmt: skip
    results = []
    with servers.running(config, env, ready_path="/api/v1/categories/") as server:
        measure(server.base_url, tokens[:4], sku, 2.0)  # warm up
        for run in range(args.runs):
            result = measure(server.base_url, tokens, sku, args.duration)
            results.append(result)
            print(f"run {run + 1}: {result['purchases_per_s']:.1f} purchases/s, p50 {result['p50_ms']:.0f} ms, "
                  f"p99 {result['p99_ms']:.0f} ms, errors {result['errors']:.0f}", flush=True)  # fmt: skip
    summary = {key: median(r[key] for r in results) for key in results[0]}
    print(
        json.dumps(
            {"server": config.name, "buyers": args.buyers, "runs": args.runs, "median": summary},
            indent=2,
        )
    )
    out = ROOT / "loadtests" / "results"
    out.mkdir(exist_ok=True)
    (out / f"payments-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps({"runs": results, "median": summary}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
