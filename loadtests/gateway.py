"""Gateway calls per second: a signed SMS send accepted end to end, against a plain Django view.

``python -m loadtests.gateway [--runs 3] [--duration 10] [--connections 32]``

One server (granian 2 × 8 as ``make run`` by default, ``--server``; the platform's settings plus
two bench-only views, see ``gateway_urls.py``) on PostgreSQL, Redis and a Celery broker in Redis, measured with wrk in the
same run:

- ``plain``: a Django view returning a small JSON body (middleware, no database);
- ``noop``: a signed call through the whole gateway pipeline (HMAC signature, nonce, rate limit
  and quota in one Redis script, strict body, metering) whose capability does nothing;
- ``sms``: a signed ``POST /sms/v1/messages`` to one number, accepted with 201: the carrier
  message and the partner's message committed, the carrier submit enqueued on the broker.

Each case runs at ``--connections`` (throughput) and at 2 connections (latency with little
queueing): the gateway's own overhead is ``noop`` minus ``plain`` there. Signed requests are
signed just before each run, one fresh nonce each, and read by ``gateway_signed.lua``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from loadtests import cpu, servers, wrk
from loadtests.stats import median

ROOT = Path(__file__).resolve().parent.parent
SIGNED_LUA = Path(__file__).resolve().parent / "gateway_signed.lua"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/carrierhub_gwbench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
SECRET_KEY = "carrierhub-gateway-bench-only-not-secret"  # noqa: S105 - bench database only
SMS_BODY = json.dumps({"to": ["+8613800138000"], "message": "bench"}, separators=(",", ":"))


def _env(database_url: str, redis_base: str) -> dict[str, str]:
    base = redis_base.rsplit("/", 1)[0]
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_base,
        "CELERY_BROKER_URL": f"{base}/15",
        "DJANGO_SETTINGS_MODULE": "loadtests.gateway_settings",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }


def _setup(env: dict[str, str]) -> tuple[str, str]:
    """Create and migrate the bench database; return an approved app's client id and secret."""
    import psycopg

    from config.embedded import with_database_name

    database_url = env["DATABASE_URL"]
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(with_database_name(database_url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY")})
    os.environ["DJANGO_SETTINGS_MODULE"] = env["DJANGO_SETTINGS_MODULE"]
    import django

    django.setup()
    from apps.accounts.models import User
    from apps.gateway import services
    from apps.gateway.models import App, Package, Partner

    owner, _ = User.objects.get_or_create(phone="+8613999999990")
    partner, _ = Partner.objects.get_or_create(
        owner=owner, defaults={
            "company_name": "Bench Co", "contact_name": "Bench", "contact_phone": owner.phone,
            "contact_email": "bench@example.com", "licence_number": "911100000000000000",
            "status": Partner.Status.APPROVED,
        },
    )  # fmt: skip
    app, _ = App.objects.get_or_create(partner=partner, name=f"bench-{secrets.token_hex(4)}")
    package = Package.objects.create(
        code=f"bench-{secrets.token_hex(4)}", name="Bench", capabilities=["sms"],
        quota_calls=None, rate_per_second=1_000_000,
    )  # fmt: skip
    services.subscription_start(app_id=app.pk, package_id=package.pk)
    issued = services.credential_issue(app_id=app.pk, environment="sandbox")
    return issued.client_id, issued.secret


def _signed_file(
    *, client_id: str, secret: str, path: str, body: str, count: int, directory: str
) -> str:
    """``count`` requests signed now, one fresh nonce each (see gateway_signed.lua)."""
    from apps.gateway import signing

    date = str(int(time.time()))
    out = Path(directory) / f"signed-{secrets.token_hex(4)}.tsv"
    with out.open("w") as handle:
        for _ in range(count):
            nonce = secrets.token_hex(16)
            signature = signing.sign(
                secret=secret, date=date, nonce=nonce, method="POST", target=path,
                body=body.encode(),
            )  # fmt: skip
            auth = signing.authorization_header(client_id=client_id, signature=signature)
            handle.write(f"{date}\t{nonce}\t{auth}\t{body}\n")
    return str(out)


def _case(
    server: servers.RunningServer, case: str, *, client_id: str, secret: str, connections: int,
    duration: int, threads: int, rate_guess: float, directory: str, db_name: str,
) -> dict[str, Any]:  # fmt: skip
    """One wrk run, with the CPU each party used: on a busy shared machine the wall-clock
    rates fall with everyone else's load, the CPU milliseconds per call much less."""
    base = server.base_url
    file = ""
    if case != "plain":
        path = "/bench/noop" if case == "noop" else "/sms/v1/messages"
        body = "{}" if case == "noop" else SMS_BODY
        # Enough fresh nonces for the run at up to three times the rate guessed.
        count = int(max(2000, rate_guess * 3) * (duration + 2))
        file = _signed_file(
            client_id=client_id, secret=secret, path=path, body=body, count=count,
            directory=directory,
        )  # fmt: skip
    before = cpu.snapshot(server_pid=server.pid, db_name=db_name)
    if case == "plain":
        result = wrk.run(
            f"{base}/bench/plain", connections=connections, threads=threads, duration=duration
        )
    else:
        result = wrk.run(
            f"{base}{path}", connections=connections, threads=threads, duration=duration,
            script=SIGNED_LUA, script_args=(path, file, str(threads)),
        )  # fmt: skip
        os.unlink(file)
    after = cpu.snapshot(server_pid=server.pid, db_name=db_name)
    shares = cpu.usage(before, after, wrk_cpu_s=result.wrk_cpu_s)
    wall = after.at - before.at
    figures: dict[str, Any] = {
        k: getattr(result, k) for k in ("rps", "p50_ms", "p90_ms", "p99_ms", "non2xx")
    }
    figures["requests"] = result.requests
    figures["cores"] = shares
    per_call = 1000 * wall / max(1, result.requests)
    for group in ("server", "postgres_bench", "redis", "wrk", "softirq"):
        figures[f"{group}_cpu_ms"] = shares.get(group, 0.0) * per_call
    ours = ("server", "postgres_bench", "redis", "wrk", "softirq")
    figures["total_cpu_ms"] = sum(figures[f"{g}_cpu_ms"] for g in ours)
    # What two quiet cores would serve if every call cost what it cost here (wrk included).
    figures["quiet_2core_rps"] = 2000 / figures["total_cpu_ms"] if figures["total_cpu_ms"] else 0
    return figures


def _partner_sms_count() -> int:
    from apps.gateway.models import PartnerSms

    return PartnerSms.objects.count()


def _batch_count() -> int:
    """Group-commit batches written so far: one carrier batch task (one outbox event, one
    broker message) each."""
    from apps.core.models import OutboxEvent

    return OutboxEvent.objects.filter(payload__task__endswith="sms_submit_many_task").count()


def _drain_broker(env: dict[str, str]) -> None:
    """Throw away the queued carrier submits: no worker sends them during the bench."""
    import redis

    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--server", default="granian-2x8",
        help="a configuration of loadtests.servers by name (default: granian 2 × 8 as make run; "
        "'' for gunicorn sync × --workers); the SMS group commit batches within one process",
    )  # fmt: skip
    args = parser.parse_args(argv)
    env = _env(
        os.environ.get("BENCH_GW_DATABASE_URL", DEFAULT_DB),
        os.environ.get("BENCH_GW_REDIS_URL", DEFAULT_REDIS),
    )
    client_id, secret = _setup(env)
    config = servers.ServerConfig(
        name=f"sync-{args.workers}", label="gunicorn sync", server="gunicorn", workers=args.workers
    )
    if args.server:
        config = next(c for c in servers.CONFIGS if c.name == args.server)
    cases = ("plain", "noop", "sms")
    results: list[dict[str, Any]] = []
    with (
        servers.running(config, env, ready_path="/bench/plain") as server,
        tempfile.TemporaryDirectory() as directory,
    ):
        db_name = env["DATABASE_URL"].rsplit("/", 1)[1]
        common = {
            "client_id": client_id, "secret": secret, "directory": directory, "db_name": db_name,
        }  # fmt: skip
        _case(server, "noop", connections=4, duration=2, threads=1, rate_guess=500, **common)
        for run in range(args.runs):
            row: dict[str, Any] = {}
            for case in cases:
                before = _partner_sms_count() if case == "sms" else 0
                batches_before = _batch_count() if case == "sms" else 0
                row[case] = _case(
                    server, case, connections=args.connections, duration=args.duration,
                    threads=args.threads, rate_guess=1500, **common,
                )  # fmt: skip
                if case == "sms":
                    row[case]["accepted"] = _partner_sms_count() - before
                    row[case]["accepted_per_s"] = row[case]["accepted"] / args.duration
                    batches = _batch_count() - batches_before
                    row[case]["batches"] = batches
                    row[case]["rows_per_batch"] = row[case]["accepted"] / batches if batches else 0
                    _drain_broker(env)
                row[f"{case}_light"] = _case(
                    server, case, connections=2, duration=max(5, args.duration // 2),
                    threads=1, rate_guess=800, **common,
                )  # fmt: skip
                if case == "sms":
                    _drain_broker(env)
            row["overhead_p99_ms"] = row["noop_light"]["p99_ms"] - row["plain_light"]["p99_ms"]
            row["overhead_server_cpu_ms"] = (
                row["noop"]["server_cpu_ms"] - row["plain"]["server_cpu_ms"]
            )
            row["overhead_p50_ms"] = row["noop_light"]["p50_ms"] - row["plain_light"]["p50_ms"]
            results.append(row)
            print(
                f"run {run + 1}: plain {row['plain']['rps']:.0f}/s, noop {row['noop']['rps']:.0f}/s, "
                f"sms {row['sms']['rps']:.0f}/s ({row['sms']['accepted']} accepted, "
                f"{row['sms']['non2xx']} refused, {row['sms']['rows_per_batch']:.1f} per batch); overhead p50 {row['overhead_p50_ms']:.2f} ms, "
                f"p99 {row['overhead_p99_ms']:.2f} ms; CPU ms/call plain {row['plain']['total_cpu_ms']:.2f}, "
                f"noop {row['noop']['total_cpu_ms']:.2f}, sms {row['sms']['total_cpu_ms']:.2f} "
                f"(server {row['sms']['server_cpu_ms']:.2f}, pg {row['sms']['postgres_bench_cpu_ms']:.2f}); "
                f"foreign cores {row['sms']['cores'].get('foreign', 0):.2f}",
                flush=True,
            )
    summary = {
        "plain_rps": median(r["plain"]["rps"] for r in results),
        "noop_rps": median(r["noop"]["rps"] for r in results),
        "sms_rps": median(r["sms"]["rps"] for r in results),
        "sms_accepted_per_s": median(r["sms"]["accepted_per_s"] for r in results),
        "sms_rows_per_batch": median(r["sms"]["rows_per_batch"] for r in results),
        "plain_p99_ms": median(r["plain"]["p99_ms"] for r in results),
        "noop_p99_ms": median(r["noop"]["p99_ms"] for r in results),
        "sms_p99_ms": median(r["sms"]["p99_ms"] for r in results),
        "plain_light_p50_ms": median(r["plain_light"]["p50_ms"] for r in results),
        "plain_light_p99_ms": median(r["plain_light"]["p99_ms"] for r in results),
        "noop_light_p50_ms": median(r["noop_light"]["p50_ms"] for r in results),
        "noop_light_p99_ms": median(r["noop_light"]["p99_ms"] for r in results),
        "sms_light_p50_ms": median(r["sms_light"]["p50_ms"] for r in results),
        "sms_light_p99_ms": median(r["sms_light"]["p99_ms"] for r in results),
        "overhead_p50_ms": median(r["overhead_p50_ms"] for r in results),
        "overhead_p99_ms": median(r["overhead_p99_ms"] for r in results),
        "overhead_server_cpu_ms": median(r["overhead_server_cpu_ms"] for r in results),
    }
    for case in cases:
        for key in ("server_cpu_ms", "postgres_bench_cpu_ms", "redis_cpu_ms", "wrk_cpu_ms",
                    "softirq_cpu_ms", "total_cpu_ms", "quiet_2core_rps"):  # fmt: skip
            summary[f"{case}_{key}"] = median(r[case][key] for r in results)
        summary[f"{case}_foreign_cores"] = median(
            r[case]["cores"].get("foreign", 0) for r in results
        )
    print(json.dumps({"server": config.name, "connections": args.connections, "runs": args.runs,
                      "median": summary}, indent=2))  # fmt: skip
    print(
        f"accepted SMS/s {summary['sms_accepted_per_s']:.0f} (target ≥ 1,000), gateway overhead "
        f"p99 {summary['overhead_p99_ms']:.2f} ms (target ≤ 5), CPU ms per accepted call "
        f"{summary['sms_total_cpu_ms']:.2f} (two quiet cores: {summary['sms_quiet_2core_rps']:.0f}/s)"
    )
    out = ROOT / "loadtests" / "results"
    out.mkdir(exist_ok=True)
    (out / f"gateway-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps({"runs": results, "median": summary, "args": vars(args)}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
