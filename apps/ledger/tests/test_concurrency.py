"""Posting under real concurrency: threads with their own connections to PostgreSQL (the
standard accounts are spread over balance slots, so these run on the slotted path too)."""

import random
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from apps.core.models import AuditEvent
from apps.ledger.errors import AlreadyReversed, InsufficientBalance
from apps.ledger.models import Journal, JournalLine
from apps.ledger.selectors import account_balance, account_balance_from_lines, ledger_check
from apps.ledger.services import LineSpec, journal_post, journal_reverse

pytestmark = pytest.mark.django_db(transaction=True)

SHARED = [
    "clearing:alipay",
    "clearing:wechat",
    "platform:revenue",
    "payable:cp:1",
    "payable:cp:2",
    "payable:channel:1",
]


def run_in_threads(jobs: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    """Start every job at once, each on its own connection; return results and errors."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            result = job()
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def random_lines(rng: random.Random, codes: list[str]) -> list[LineSpec]:
    """Non-zero amounts on ``codes`` that sum to zero."""
    while True:
        amounts = [rng.randint(-10_000, 10_000) for _ in codes[:-1]]
        amounts.append(-sum(amounts))
        if all(amounts):
            return [LineSpec(code, amount) for code, amount in zip(codes, amounts, strict=True)]


def test_ten_concurrent_posts_under_one_key_make_one_journal(committed_accounts):
    def post():
        return journal_post(
            idempotency_key="order:1:paid",
            kind="order.paid",
            reference="order:1",
            lines=[LineSpec("clearing:alipay", 2500), LineSpec("platform:revenue", -2500)],
        ).id

    results, errors = run_in_threads([post] * 10)

    assert errors == []
    assert len(results) == 10
    assert len(set(results)) == 1
    assert Journal.objects.count() == 1
    assert JournalLine.objects.count() == 2
    assert account_balance(code="clearing:alipay") == 2500
    assert AuditEvent.objects.filter(action="ledger.journal_posted").count() == 1


def test_concurrent_reversals_under_two_keys_make_one(committed_accounts):
    original = journal_post(
        idempotency_key="k",
        kind="order.paid",
        reference="order:1",
        lines=[LineSpec("clearing:alipay", 2500), LineSpec("platform:revenue", -2500)],
    ).id

    results, errors = run_in_threads(
        [
            lambda key=key: journal_reverse(journal_id=original, idempotency_key=key, reason="撤销")
            for key in ["rev-a", "rev-b", "rev-a", "rev-b"]
        ]
    )

    assert Journal.objects.filter(reversal_of_id=original).count() == 1
    winner = Journal.objects.get(reversal_of_id=original).idempotency_key
    assert sorted(view.idempotency_key for view in results) == [winner, winner]
    assert [type(error) for error in errors] == [AlreadyReversed, AlreadyReversed]
    assert account_balance(code="clearing:alipay") == 0


def test_eight_threads_posting_across_shared_accounts_keep_every_balance(committed_accounts):
    rng = random.Random(20261127)
    expected = dict.fromkeys(SHARED, 0)
    batches: list[list[tuple[str, list[LineSpec]]]] = []
    for thread in range(8):
        batch = []
        for number in range(25):
            lines = random_lines(rng, rng.sample(SHARED, rng.randint(2, 4)))
            rng.shuffle(lines)
            for line in lines:
                expected[line.account_code] += line.amount_fen
            batch.append((f"t{thread}:{number}", lines))
        batches.append(batch)

    def post_all(batch):
        def job():
            for key, lines in batch:
                journal_post(idempotency_key=key, kind="test", reference=key, lines=lines)

        return job

    _, errors = run_in_threads([post_all(batch) for batch in batches])

    assert errors == []  # no deadlock, no lost update
    assert Journal.objects.count() == 200
    for code in SHARED:
        assert account_balance(code=code) == expected[code]
        assert account_balance_from_lines(code=code) == expected[code]
    assert ledger_check() == []


def test_concurrent_spends_never_take_more_points_than_held(committed_accounts):
    journal_post(
        idempotency_key="grant", kind="points.granted", reference="user:1",
        lines=[LineSpec("points:issued", 1000), LineSpec("points:user:1", -1000)],
    )  # fmt: skip

    def spend(n: int) -> int:
        return journal_post(
            idempotency_key=f"spend:{n}", kind="points.redeemed", reference=f"order:{n}",
            lines=[LineSpec("points:user:1", 300), LineSpec("points:redeemed", -300)],
        ).id  # fmt: skip

    results, errors = run_in_threads([lambda n=n: spend(n) for n in range(6)])

    assert len(results) == 3
    assert [type(error) for error in errors] == [InsufficientBalance] * 3
    assert account_balance(code="points:user:1") == -100
    assert account_balance(code="points:redeemed") == -900
    assert Journal.objects.filter(kind="points.redeemed").count() == 3
    assert ledger_check() == []
