"""Payment postings per second on the two hot accounts, single balance row against slots.

``python -m loadtests.ledger_hot [--threads 16] [--postings 40] [--runs 3] [--slots 32]``
with ``BENCH_PAY_DATABASE_URL`` (default: the payments bench database, migrated).

Each thread, on its own connection, posts what a paid notification posts (debit
``clearing:alipay``, credit ``platform:revenue``), one journal per transaction, each under a
fresh key. Runs alternate between the two layouts of the same code on the same database:
``single`` (``balance_slots = 1``: every posting locks the same two balance rows until COMMIT,
the layout before the slots) and ``slots`` (``balance_slots = --slots``). It isolates the
ledger's share of the notification path; ``make bench-payments`` measures the whole path.
The postings stay in the bench database's book (balanced, as any others).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

HOT = ("clearing:alipay", "platform:revenue")


def _run(threads: int, postings: int, tag: str) -> float:
    from django.db import connection

    from apps.ledger.services import LineSpec, journal_post

    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        barrier.wait()
        try:
            for i in range(postings):
                key = f"bench-hot:{tag}:{n}:{i}"
                journal_post(
                    idempotency_key=key, kind="bench.hot", reference=key,
                    lines=[LineSpec(HOT[0], 100), LineSpec(HOT[1], -100)],
                )  # fmt: skip
        except BaseException as exc:  # reported after the run
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} postings failed: {errors[0]!r}")
    return threads * postings / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--postings", type=int, default=40, help="per thread and run")
    parser.add_argument("--runs", type=int, default=3, help="per layout, interleaved")
    parser.add_argument("--slots", type=int, default=32)
    args = parser.parse_args(argv)
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_PAY_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carrierhub_paybench"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DJANGO_SECRET_KEY", "carrierhub-bench-only-not-secret")
    import django

    django.setup()
    from apps.ledger import services
    from apps.ledger.models import LedgerAccount
    from apps.ledger.selectors import ledger_check

    stamp = time.strftime("%Y%m%d%H%M%S")
    rates: dict[str, list[float]] = {"single": [], "slots": []}
    for run in range(args.runs):
        for layout in ("single", "slots"):
            slots = 1 if layout == "single" else args.slots
            LedgerAccount.objects.filter(code__in=HOT).update(balance_slots=slots)
            services._account_cache.clear()  # this process's copy of the setting
            rate = _run(args.threads, args.postings, f"{stamp}:{layout}:{run}")
            rates[layout].append(rate)
            print(f"run {run + 1} {layout:>6}: {rate:7.1f} postings/s", flush=True)
    LedgerAccount.objects.filter(code__in=HOT).update(balance_slots=args.slots)
    single, slotted = (statistics.median(rates[k]) for k in ("single", "slots"))
    print(f"median: single row {single:.1f}/s, {args.slots} slots {slotted:.1f}/s, "
          f"ratio {slotted / single:.2f}x ({args.threads} threads)")  # fmt: skip
    problems = [p for p in ledger_check() if any(code in p for code in HOT)]
    print("ledger_check on the hot accounts:", problems or "clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
