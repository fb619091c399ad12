"""Settlement at volume: one month of CP sales settled into statements (wall time, peak RSS).

``python -m loadtests.settlement [--lines 1000000] [--parties 1000] [--runs 3]``

Fills a database of its own (``BENCH_SETTLEMENT_DATABASE_URL``, default: ``DATABASE_URL``'s
server, database ``<name>_settlebench``) with ``--lines`` journal lines on ``--parties`` CP
payables in October 2026 (each sale a balanced journal: Dr clearing:alipay / Cr cp:<id>:payable,
so the book holds twice as many lines), written with SQL in one transaction, then runs the
October batch in a fresh process per run (the batch as the Celery chunks run it: every
statement built, its lines copied, priced and tied out) and reports the median wall time and
the process's peak resident memory. The target beside the figure: a month of 1,000 CPs settled
in under 10 minutes on one worker, memory flat in the number of lines.
"""

from __future__ import annotations

import argparse
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
TARGET_SECONDS = 600


def _bench_url() -> str:
    url = os.environ.get("BENCH_SETTLEMENT_DATABASE_URL", "")
    if url:
        return url
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        raise SystemExit("needs DATABASE_URL (or BENCH_SETTLEMENT_DATABASE_URL)")
    name = urlsplit(base).path.lstrip("/") or "carrierhub"
    return base.rsplit("/", 1)[0] + f"/{name}_settlebench"


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def _fill(lines: int, parties: int) -> None:
    """Migrate, then write the month's journals with SQL (balanced by construction; the
    balance triggers, one check per line, are off for this one transaction only)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    journals = lines  # one CP line each (and its clearing line)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_journal WHERE kind = 'bench_sale'")
        if cursor.fetchone()[0] == journals:
            print(f"reusing {journals} journals")
            return
    from apps.ledger.tests.support import ledger_wipe

    ledger_wipe()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE settlement_statementline, settlement_statement, "
                       "settlement_settlementbatch CASCADE")  # fmt: skip
        cursor.execute(
            "INSERT INTO ledger_ledgeraccount (code, name, kind, unit, created_at) "
            "SELECT 'cp:' || p || ':payable', 'CP ' || p, 'liability', 'CNY', now() "
            "FROM generate_series(1, %s) p ON CONFLICT (code) DO NOTHING",
            [parties],
        )
        cursor.execute(
            "INSERT INTO ledger_accountbalance (account_id, balance_fen, updated_at) "
            "SELECT id, 0, now() FROM ledger_ledgeraccount ON CONFLICT DO NOTHING"
        )
        cursor.execute("ALTER TABLE ledger_journalline DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE ledger_journal DISABLE TRIGGER USER")
        cursor.execute(
            "INSERT INTO ledger_journal (idempotency_key, kind, reference, description, "
            "content_hash, created_at) SELECT 'bench:' || g, 'bench_sale', 'bench:' || g, '', '', "
            "timestamptz '2026-10-01 00:00+08' + (g - 1) * (interval '2592000 seconds' / %s) "
            "FROM generate_series(1, %s) g",
            [journals, journals],
        )
        cursor.execute(
            "INSERT INTO ledger_journalline (journal_id, account_id, amount_fen, created_at) "
            "SELECT j.id, a.id, s.sign * (100 + j.id %% 900), j.created_at "
            "FROM ledger_journal j "
            "CROSS JOIN (VALUES (1), (-1)) s(sign) "
            "JOIN ledger_ledgeraccount a ON a.code = CASE WHEN s.sign = 1 THEN 'clearing:alipay' "
            "ELSE 'cp:' || (1 + j.id %% %s) || ':payable' END "
            "WHERE j.kind = 'bench_sale'",
            [parties],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's deferred foreign keys
        cursor.execute("ALTER TABLE ledger_journal ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE ledger_journalline ENABLE TRIGGER USER")
        cursor.execute(
            "UPDATE ledger_accountbalance b SET balance_fen = s.total FROM "
            "(SELECT account_id, SUM(amount_fen) total FROM ledger_journalline GROUP BY 1) s "
            "WHERE b.account_id = s.account_id"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled {journals} journals, {journals * 2} lines, {parties} CPs")


def _child() -> None:
    """One measured run: the October batch from scratch, in this process."""
    import datetime as dt

    from django.db import connection

    from apps.settlement import services

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE settlement_statementline, settlement_statement, "
                       "settlement_settlementbatch CASCADE")  # fmt: skip
    started = time.perf_counter()
    batch_id = services.batch_run(
        kind="cp", period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 11, 1)
    )
    seconds = time.perf_counter() - started
    from apps.settlement.models import SettlementBatch, Statement

    batch = SettlementBatch.objects.get(pk=batch_id)
    lines = sum(Statement.objects.values_list("lines_count", flat=True))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "statements": batch.parties_done,
                      "lines": lines, "tie_out_failures": batch.tie_out_failures}))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.settlement")
    parser.add_argument("--lines", type=int, default=100_000,
                        help="journal lines in the month (1000000 for the docs figure)")  # fmt: skip
    parser.add_argument("--parties", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = _bench_url()
    if args.child:
        _django(url)
        _child()
        return
    from loadtests.database import _ensure_database

    _ensure_database(url)
    _django(url)
    _fill(args.lines, args.parties)
    results = []
    for run in range(args.runs):
        out = subprocess.run(
            [sys.executable, "-m", "loadtests.settlement", "--child"],
            cwd=ROOT, env={**os.environ, "BENCH_SETTLEMENT_DATABASE_URL": url}, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"run {run + 1}: {result}")
        results.append(result)
    seconds = median([r["seconds"] for r in results])
    peak = median([r["peak_mb"] for r in results])
    lines = results[0]["lines"]
    print(f"\n| settlement | CPs | statement lines | wall time | "
          f"lines/s | peak RSS | target |\n|---|---|---|---|---|---|---|\n"
          f"| cp, one month | {results[0]['statements']} | {lines} | {seconds:.1f} s | "
          f"{lines / seconds:,.0f} | {peak:.0f} MB | < {TARGET_SECONDS} s, flat memory |")  # fmt: skip


if __name__ == "__main__":
    main()
