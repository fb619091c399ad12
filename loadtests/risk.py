"""Risk decisions: how many per second in-process, and what they add to the money paths.

``python -m loadtests.risk [--runs 3] [--events 5000]`` (``make bench-risk``)

With the demo seed's rules (23 rules, 16 caps and counters, 3 list entries) against real
PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``; defaults: a ``carrierhub_riskbench``
database on 127.0.0.1:5432 and Redis database 13 on 127.0.0.1:6379), it measures

- ``decide`` called back to back in one thread over a mix of every event kind with varied
  subjects: decisions per second and the latency percentiles;
- what the checkout path adds: ``risk.enforce`` of a checkout event (``orders.checkout_submit``
  calls exactly that);
- what the phone-bill path adds: ``payments.risk_checks.intent_decide`` on an intent given the
  subscriber's number, as every caller of ``intent_start`` passes it (``enforce`` of a
  phone-bill charge with both phone-bill caps); and, beside it, the same when the number has
  to be read from PostgreSQL (``phone_bill_read_added_ms``: a caller that did not pass it);
- what a quiet process's checkout adds (``quiet_checkout_added_ms``): a web worker that sees a
  decision about once a second, where the calls above come back to back. Its time constants
  are scaled down 50 times so that a run takes seconds: decisions 20 ms apart, the record
  push delay 20 ms (1 s), the configuration reload periods 0.6 s (30 s) and 6 s (300 s).

Targets: p99 added ≤ 5 ms in both paths. Each run starts with empty counters and a flushed
record queue; the figure is the median of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/carrierhub_riskbench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
TARGET_P99_MS = 5.0


def _setup() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS)
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.setdefault("DJANGO_SECRET_KEY", "carrierhub-bench-only-not-secret")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    sys.path.insert(0, str(ROOT))
    import psycopg

    from config.embedded import with_database_name

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(with_database_name(url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.demo.risk_seed import seed_risk

    seed_risk()


def _percentiles(samples: list[float]) -> dict[str, float]:
    from loadtests.stats import percentile

    return {f"p{p}": round(percentile(samples, p) * 1000, 3) for p in (50, 95, 99)}


def _events(n: int) -> list[Any]:
    from apps.risk.events import Event, Kind

    rnd = random.Random(13)
    out = []
    kinds = list(Kind)
    for i in range(n):
        out.append(
            Event(
                kind=kinds[i % len(kinds)],
                user_id=rnd.randint(1_000_000, 1_002_000),
                msisdn=f"138{rnd.randint(0, 99_999_999):08d}",
                device_id=f"dev-{rnd.randint(1, 500)}",
                ip=f"10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
                cp_id=f"cp{rnd.randint(1, 40)}",
                partner_id=str(rnd.randint(1, 30)),
                product=f"p{rnd.randint(1, 300)}",
                amount_fen=rnd.choice([100, 500, 1500, 3000, 20000]),
                id_hash=f"h{rnd.randint(1, 1000)}",
                reference=f"R{i}",
            )
        )
    return out


def one_run(events: int) -> dict[str, object]:
    from apps.accounts.models import User
    from apps.core.redis import get_redis
    from apps.payments.models import PaymentIntent
    from apps.payments.services.risk_checks import intent_decide
    from apps.risk import recorder, snapshot
    from apps.risk import services as risk

    redis = get_redis()
    redis.flushdb()
    snapshot.invalidate()
    batch = _events(events)
    risk.decide(event=batch[0])  # the snapshot loads once, outside the timing
    timings = []
    started, cpu = time.perf_counter(), time.process_time()
    for event in batch:
        t = time.perf_counter()
        risk.decide(event=event)
        timings.append(time.perf_counter() - t)
    wall = time.perf_counter() - started
    # This process's own CPU per decision: what the machine's other load cannot inflate much.
    cpu_ms = (time.process_time() - cpu) / events * 1000
    mixed = {
        "decisions_per_s": round(events / wall),
        "cpu_ms": round(cpu_ms, 3),
        **_percentiles(timings),
    }

    checkout = []
    for i in range(2000):
        event = risk.Event(
            kind=risk.Kind.CHECKOUT,
            user_id=2_000_000 + i % 300,
            amount_fen=1500,
            reference=f"ck{i}",
        )
        t = time.perf_counter()
        risk.enforce(event=event, owner="orders", reference=f"ck{i}")
        checkout.append(time.perf_counter() - t)

    phones = [f"+86137{n:08d}" for n in range(500)]
    User.objects.bulk_create([User(phone=p) for p in phones], ignore_conflicts=True)
    numbers = dict(User.objects.filter(phone__in=phones).values_list("pk", "phone"))
    users = list(numbers)
    bill: list[float] = []
    bill_read: list[float] = []
    for i in range(3000):  # six charges per subscriber: under every seeded rule and cap
        intent = PaymentIntent(user_id=users[i % len(users)], method="carrier_billing", amount_fen=1, purpose="orders",
                               reference=f"O{i}", idempotency_key=f"bench:{i}")  # fmt: skip
        passed = i % 3 != 2  # a third of them without the number: it is read
        msisdn = numbers[users[i % len(users)]] if passed else ""
        t = time.perf_counter()
        intent_decide(intent, client_ip="127.0.0.1", challenge_passed=False, msisdn=msisdn)
        (bill if passed else bill_read).append(time.perf_counter() - t)
    quiet = _quiet_checkouts(300)
    t = time.perf_counter()
    written = len(recorder.decisions_flush())
    flush_ms = (time.perf_counter() - t) * 1000
    return {
        "mixed": mixed,
        "checkout_added_ms": _percentiles(checkout),
        "phone_bill_added_ms": _percentiles(bill),
        "phone_bill_read_added_ms": _percentiles(bill_read),
        "quiet_checkout_added_ms": _percentiles(quiet),
        "flush": {
            "rows": written,
            "ms": round(flush_ms),
            "rows_per_s": round(written / (flush_ms / 1000)),
        },
    }


QUIET_SCALE = 50


def _quiet_checkouts(n: int) -> list[float]:
    from apps.risk import recorder, snapshot
    from apps.risk import services as risk

    scaled = {
        (recorder, "PUSH_AFTER_SECONDS"): 1.0,
        (snapshot, "RELOAD_SECONDS"): 30.0,
        (snapshot, "MAX_AGE_SECONDS"): 300.0,
    }
    saved = {key: getattr(*key, None) for key in scaled}
    for (module, name), seconds in scaled.items():
        setattr(module, name, seconds / QUIET_SCALE)
    timings = []
    try:
        for i in range(n):
            time.sleep(1.0 / QUIET_SCALE)
            event = risk.Event(kind=risk.Kind.CHECKOUT, user_id=3_000_000 + i, amount_fen=1500,
                               reference=f"q{i}")  # fmt: skip
            t = time.perf_counter()
            risk.enforce(event=event, owner="orders", reference=f"q{i}")
            timings.append(time.perf_counter() - t)
    finally:
        for (module, name), value in saved.items():
            if value is not None:
                setattr(module, name, value)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    _setup()
    from apps.risk.models import Rule
    from loadtests.stats import median

    rules = Rule.objects.filter(state__in=["active", "shadow"]).count()
    load_before = os.getloadavg()
    runs = [one_run(args.events) for _ in range(args.runs)]
    load_after = os.getloadavg()
    for n, run in enumerate(runs, 1):
        print(f"run {n}: {json.dumps(run)}")
    summary = {
        "rules": rules,
        "decisions_per_s": median([r["mixed"]["decisions_per_s"] for r in runs]),  # type: ignore[index]
        "decide_p99_ms": median([r["mixed"]["p99"] for r in runs]),  # type: ignore[index]
        "decide_cpu_ms": median([r["mixed"]["cpu_ms"] for r in runs]),  # type: ignore[index]
        "checkout_added_p99_ms": median([r["checkout_added_ms"]["p99"] for r in runs]),  # type: ignore[index]
        "phone_bill_added_p99_ms": median([r["phone_bill_added_ms"]["p99"] for r in runs]),  # type: ignore[index]
        "phone_bill_read_added_p99_ms": median(
            [r["phone_bill_read_added_ms"]["p99"] for r in runs]  # type: ignore[index]
        ),
        "quiet_checkout_added_p99_ms": median([r["quiet_checkout_added_ms"]["p99"] for r in runs]),  # type: ignore[index]
        "flush_rows_per_s": median([r["flush"]["rows_per_s"] for r in runs]),  # type: ignore[index]
    }
    print(json.dumps(summary))
    loads = " / ".join(f"{a:.2f}" for a in (*load_before[:1], *load_after[:1]))
    print(
        f"\nAdded p99 latency, median of {args.runs} runs ({rules} rules; load average at start /"
        f" end: {loads}; the machine's other load inflates the tail):"
    )
    for key, label in (
        ("checkout_added_p99_ms", "checkout path (risk.enforce of a checkout)"),
        ("phone_bill_added_p99_ms", "phone-bill path (intent_decide, number passed)"),
        ("phone_bill_read_added_p99_ms", "phone-bill path, number read (caller passed none)"),
        ("quiet_checkout_added_p99_ms", "checkout path in a quiet process"),
    ):
        verdict = "met" if summary[key] <= TARGET_P99_MS else "MISSED"
        print(f"  {label:<52} {summary[key]:>7.3f} ms   target ≤ {TARGET_P99_MS} ms: {verdict}")
    print(f"  decide CPU per decision (this process): {summary['decide_cpu_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
