"""Reconciliation at volume: one day's Alipay bill of ``--rows`` rows matched with as many
platform payments (rows/s, peak RSS).

``python -m loadtests.reconciliation [--rows 1000000] [--runs 3]``

Fills a database of its own (``BENCH_RECON_DATABASE_URL``, default: ``DATABASE_URL``'s server,
database ``<name>_reconbench``) with ``--rows`` paid Alipay intents on 2026-11-20 and their
day's clearing journal, written with SQL; writes the day's bill once, in Alipay's format
(GBK, ``#`` preface and ``合计`` footer), with 0.1 % of the rows' amounts changed; then
reconciles it in a fresh process per run (parse the whole file, match every row, record the
differences, tie out) and reports the median rows/s and the process's peak resident memory.
The target beside the figure: a day of 1,000,000 rows reconciled in under 10 minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from loadtests.stats import median

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 20)
TARGET_SECONDS = 600


def _bench_url() -> str:
    url = os.environ.get("BENCH_RECON_DATABASE_URL", "")
    if url:
        return url
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        raise SystemExit("needs DATABASE_URL (or BENCH_RECON_DATABASE_URL)")
    name = urlsplit(base).path.lstrip("/") or "carrierhub"
    return base.rsplit("/", 1)[0] + f"/{name}_reconbench"


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def _bill_path(rows: int) -> Path:
    return ROOT / "var" / "bench" / f"alipay-{DAY:%Y%m%d}-{rows}.csv"


def _fill(rows: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM payments_paymentintent WHERE purpose = 'bench'")
        have = cursor.fetchone()[0]
    if have != rows:
        from apps.ledger.services import LineSpec, journal_post
        from apps.ledger.tests.support import ledger_wipe
        from apps.settlement.tests.support import dated

        ledger_wipe()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE payments_paymentintent CASCADE")
            cursor.execute(
                "INSERT INTO payments_paymentintent (public_id, purpose, reference, method, "
                "channel, amount_fen, currency, status, settles, refunded_fen, provider_trade_no, "
                "action, review_reason, idempotency_key, expires_at, paid_at, created_at, "
                "updated_at) SELECT 'PB' || lpad(g::text, 12, '0'), 'bench', 'bench:' || g, "
                "'alipay', 'page', 100 + g %% 9900, 'CNY', 'succeeded', false, 0, "
                "'2026112022' || lpad(g::text, 18, '0'), '{}', '', 'bench:' || g, "
                "timestamptz '2026-11-20 00:00+08', "
                "timestamptz '2026-11-20 00:00+08' + (g - 1) * (interval '86399 seconds' / %s), "
                "now(), now() FROM generate_series(1, %s) g",
                [rows, rows],
            )
            cursor.execute(
                "SELECT COALESCE(SUM(amount_fen), 0) FROM payments_paymentintent "
                "WHERE purpose = 'bench'"
            )
            total = int(cursor.fetchone()[0])
        start = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.timezone(dt.timedelta(hours=8)))
        with dated(start):
            journal_post(idempotency_key=f"bench:day:{rows}", kind="payment", reference="bench",
                         lines=[LineSpec("clearing:alipay", total),
                                LineSpec("platform:revenue", -total)])  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE payments_paymentintent")
        print(f"filled {rows} paid intents")
    path = _bill_path(rows)
    if not path.exists():
        _write_bill(rows, path)


def _write_bill(rows: int, path: Path) -> None:
    """The bill as Alipay writes it, from the intents (every 1000th amount off by a fen)."""
    from decimal import Decimal

    from apps.core.money import apply_rate
    from apps.payments.models import PaymentIntent
    from apps.settlement.reconciliation import formats
    from apps.settlement.reconciliation.formats import Bill, BillRow
    from apps.settlement.reconciliation.services import merchant_id

    bill = Bill("alipay", merchant_id("alipay"), DAY)
    start = dt.datetime.combine(DAY, dt.time.min, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    intents = PaymentIntent.objects.filter(purpose="bench").order_by("pk")
    for number, (public_id, trade_no, amount, paid_at) in enumerate(
        intents.values_list("public_id", "provider_trade_no", "amount_fen", "paid_at").iterator(
            chunk_size=10_000
        )
    ):
        amount += 1 if number % 1000 == 0 else 0
        bill.rows.append(BillRow("payment", public_id, trade_no, "", amount,
                                 apply_rate(amount, Decimal("0.006")), "success", paid_at or start))  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(formats.write(bill))
    print(f"wrote {path} ({path.stat().st_size // 1_000_000} MB)")


def _child(rows: int) -> None:
    from apps.settlement.models import ReconBatch, ReconDifference
    from apps.settlement.reconciliation import services as recon

    ReconDifference.objects.all().delete()
    ReconBatch.objects.all().delete()
    data = _bill_path(rows).read_bytes()
    started = time.perf_counter()
    batch_id = recon.recon_run(provider="alipay", bill_date=DAY, data=data)
    seconds = time.perf_counter() - started
    batch = ReconBatch.objects.get(pk=batch_id)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": batch.rows,
                      "counts": {k: v for k, v in batch.counts.items() if v}}))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.reconciliation")
    parser.add_argument("--rows", type=int, default=100_000,
                        help="bill rows (1000000 for the docs figure)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = _bench_url()
    if args.child:
        _django(url)
        _child(args.rows)
        return
    from loadtests.database import _ensure_database

    _ensure_database(url)
    _django(url)
    _fill(args.rows)
    results = []
    for run in range(args.runs):
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "loadtests.reconciliation", "--child", "--rows", str(args.rows)],
            cwd=ROOT, env={**os.environ, "BENCH_RECON_DATABASE_URL": url}, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"run {run + 1}: {result}")
        results.append(result)
    seconds = median([r["seconds"] for r in results])
    peak = median([r["peak_mb"] for r in results])
    rows = results[0]["rows"]
    print(f"\n| reconciliation | bill rows | wall time | rows/s | peak RSS | target |\n"
          f"|---|---|---|---|---|---|\n| alipay, one day | {rows} | {seconds:.1f} s | "
          f"{rows / seconds:,.0f} | {peak:.0f} MB | < {TARGET_SECONDS} s |")  # fmt: skip


if __name__ == "__main__":
    main()
