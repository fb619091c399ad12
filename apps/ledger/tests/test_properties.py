"""Property: whatever postings, repeats and reversals arrive, the book stays sound.

Hypothesis runs every example inside the one test transaction, so each example uses its own
key prefix and compares balances with where they stood when it began.
"""

import itertools
from collections import Counter

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apps.core.errors import IdempotencyConflict
from apps.ledger.errors import AlreadyReversed, InsufficientBalance
from apps.ledger.models import JournalLine
from apps.ledger.selectors import account_balance, account_balance_from_lines, ledger_check
from apps.ledger.services import LineSpec, journal_post, journal_reverse
from apps.ledger.tests.support import run_commit_checks

pytestmark = pytest.mark.django_db

CNY = ["clearing:alipay", "platform:revenue", "payable:cp:1", "refunds:payable"]
POINTS = ["points:issued", "points:user:1", "points:redeemed"]
HOLDING = "points:user:1"  # a points liability: its balance may never become a debit
examples = itertools.count()


@st.composite
def posting(draw):
    codes = draw(
        st.lists(
            st.sampled_from(draw(st.sampled_from([CNY, POINTS]))),
            min_size=2,
            max_size=4,
            unique=True,
        )
    )
    amounts = [draw(st.integers(-100_000, 100_000).filter(bool)) for _ in codes[:-1]]
    amounts.append(-sum(amounts))
    assume(amounts[-1] != 0)
    return ("post", draw(st.integers(0, 3)), tuple(zip(codes, amounts, strict=True)))


operations = st.lists(
    st.one_of(
        posting(),
        st.tuples(st.just("repeat"), st.integers(0, 20)),
        st.tuples(st.just("reverse"), st.integers(0, 20), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=12,
)


def overdraws(start: dict[str, int], expected: Counter[str], lines) -> bool:
    """Whether posting ``lines`` now would take the points holding below zero."""
    debit = sum(amount for code, amount in lines if code == HOLDING)
    return debit > 0 and start[HOLDING] + expected[HOLDING] + debit > 0


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=operations)
def test_the_book_stays_balanced_and_agrees_with_its_lines(accounts, operations):
    prefix = f"ex{next(examples)}"
    codes = CNY + POINTS
    start = {code: account_balance(code=code) for code in codes}
    expected: Counter[str] = Counter()
    by_key: dict[str, tuple[tuple[tuple[str, int], ...], int]] = {}  # key -> (lines, journal id)
    posts: list[tuple[str, tuple[tuple[str, int], ...]]] = []  # each successful post's key, lines
    reversal_keys: dict[str, int] = {}  # reversal key -> the journal it reversed
    reversed_ids: set[int] = set()

    for operation in operations:
        if operation[0] == "post":
            _, key_number, lines = operation
            key = f"{prefix}:p{key_number}"
        elif operation[0] == "repeat" and posts:
            key, lines = posts[operation[1] % len(posts)]
        elif operation[0] == "reverse" and posts:
            key, _ = posts[operation[1] % len(posts)]
            journal_id = by_key[key][1]
            reversal_key = f"{prefix}:r{operation[2]}"
            if reversal_keys.get(reversal_key, journal_id) != journal_id:
                with pytest.raises(IdempotencyConflict):
                    journal_reverse(journal_id=journal_id, idempotency_key=reversal_key, reason="x")
            elif journal_id in reversed_ids and reversal_key not in reversal_keys:
                with pytest.raises(AlreadyReversed):
                    journal_reverse(journal_id=journal_id, idempotency_key=reversal_key, reason="x")
            elif reversal_key not in reversal_keys and overdraws(
                start, expected, [(code, -amount) for code, amount in by_key[key][0]]
            ):
                with pytest.raises(InsufficientBalance):
                    journal_reverse(journal_id=journal_id, idempotency_key=reversal_key, reason="x")
            else:
                view = journal_reverse(
                    journal_id=journal_id, idempotency_key=reversal_key, reason="x"
                )
                assert view.reversal_of_id == journal_id
                if reversal_key not in reversal_keys:
                    for code, amount in by_key[key][0]:
                        expected[code] -= amount
                reversal_keys[reversal_key] = journal_id
                reversed_ids.add(journal_id)
            continue
        else:
            continue
        specs = [LineSpec(code, amount) for code, amount in lines]
        merged = tuple(sorted(lines))
        if key in by_key and by_key[key][0] != merged:
            with pytest.raises(IdempotencyConflict):
                journal_post(idempotency_key=key, kind="test", reference=key, lines=specs)
            continue
        if key not in by_key and overdraws(start, expected, lines):
            with pytest.raises(InsufficientBalance):
                journal_post(idempotency_key=key, kind="test", reference=key, lines=specs)
            continue
        view = journal_post(idempotency_key=key, kind="test", reference=key, lines=specs)
        if key in by_key:
            assert view.id == by_key[key][1]
        else:
            by_key[key] = (merged, view.id)
            posts.append((key, lines))
            for code, amount in lines:
                expected[code] += amount

    for code in codes:
        assert account_balance(code=code) - start[code] == expected[code]
        assert account_balance_from_lines(code=code) == account_balance(code=code)
    unbalanced = (
        JournalLine.objects.values("journal_id").annotate(total=Sum("amount_fen")).exclude(total=0)
    )
    assert not unbalanced.exists()
    assert ledger_check() == []
    run_commit_checks()
