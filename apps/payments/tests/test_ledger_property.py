"""Property: any sequence of points grants, points payments, refunds and grant reversals moves
every point and fen exactly once, never takes a user's points below zero, and leaves the book
balanced.

Hypothesis runs every example inside the one test transaction, so each example has its own user
and keys and compares the shared accounts with where they stood when it began. Every step is a
pure function of the drawn values (no random database ordering), so a failing example replays.

``reverse`` corrects a grant, the one journal an operator may reverse: a payment's journals are
corrected by its refunds, and reversing them as well would return the same points twice (which
is why no business code reverses them).
"""

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.ledger.errors import AlreadyReversed, InsufficientBalance
from apps.ledger.models import Journal
from apps.ledger.selectors import account_balance, account_balance_from_lines, ledger_check
from apps.ledger.services import journal_reverse
from apps.payments import services
from apps.payments.errors import InsufficientPoints, RefundNotAllowed
from apps.payments.handlers import PurposeHandler, purpose_register
from apps.payments.models import PaymentIntent

purpose_register("prop", PurposeHandler(on_succeeded=lambda fact: True))
GRANT = 8000  # the first grant: a few payments spend it, so refusals are reached too
SHARED = ["platform:revenue", "platform:points_expense", "refunds:payable", "points:redeemed",
          "points:issued"]  # fmt: skip
examples = itertools.count()
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(min_value=1, max_value=5000)),
        st.tuples(st.just("refund"), st.integers(min_value=1, max_value=6000)),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("grant"), st.integers(min_value=1, max_value=5000)),
    ),
    min_size=1,
    max_size=12,
)


@dataclass
class Paid:
    intent_id: int
    amount: int
    refunded: int = 0


@dataclass
class Granted:
    journal_id: int
    points: int
    reversed: bool = False


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
# The reported failure: pay, reverse the grant, pay. The reversal used to claw back all 8000
# points from a user holding 7999, leaving -1 (so the second payment met InsufficientPoints);
# now the reversal is refused whole and the second payment goes through.
@example(steps=[("pay", 1), ("reverse", 0), ("pay", 1)])
@example(steps=[("pay", 5000), ("reverse", 0), ("refund", 2999), ("reverse", 0), ("pay", 5000)])
@example(steps=[("grant", 300), ("pay", 8000), ("reverse", 1), ("reverse", 1), ("pay", 1)])
def test_points_payments_refunds_and_grant_reversals_move_everything_once(
    steps, django_capture_on_commit_callbacks
):
    n = next(examples)
    user = User.objects.create(phone=f"+8613900{n:06d}")
    start = {code: account_balance(code=code) for code in SHARED}
    holding, spent, returned = 0, 0, 0
    paid: list[Paid] = []
    grants: list[Granted] = []

    def grant(points: int, key: str) -> None:
        nonlocal holding
        services.points_grant(user_id=user.pk, points=points, key=key, reason="property test")
        grants.append(
            Granted(Journal.objects.get(idempotency_key=f"points:grant:{key}").pk, points)
        )
        holding += points

    grant(GRANT, f"prop{n}")
    for i, (action, value) in enumerate(steps):
        key = f"prop{n}:{i}"
        if action == "grant":
            grant(value, key)
        elif action == "pay":
            journals = Journal.objects.count()
            if value > holding:
                with pytest.raises(InsufficientPoints):
                    _pay(user_id=user.pk, key=key, amount=value)
                assert not PaymentIntent.objects.filter(idempotency_key=key).exists()
                assert Journal.objects.count() == journals
                continue
            intent = _pay(user_id=user.pk, key=key, amount=value)
            assert intent.status == "succeeded"
            paid.append(Paid(intent.id, value))
            holding -= value
            spent += value
        elif action == "refund" and paid:
            target = paid[value % len(paid)]
            amount = value % 3000 + 1
            if amount > target.amount - target.refunded:
                with pytest.raises(RefundNotAllowed):
                    _refund_request(target.intent_id, amount, key)
                continue
            refund = _refund_request(target.intent_id, amount, key)
            with django_capture_on_commit_callbacks(execute=True):
                services.refund_decide(refund_id=refund.id, approve=True, actor_id=user.pk)
            target.refunded += amount
            holding += amount
            returned += amount
        elif action == "reverse":
            target_grant = grants[value % len(grants)]
            if target_grant.reversed:
                with pytest.raises(AlreadyReversed):
                    _reverse(target_grant.journal_id, key)
            elif target_grant.points > holding:
                journals = Journal.objects.count()
                with pytest.raises(InsufficientBalance):
                    _reverse(target_grant.journal_id, key)
                assert Journal.objects.count() == journals
            else:
                _reverse(target_grant.journal_id, key)
                target_grant.reversed = True
                holding -= target_grant.points

    assert holding >= 0
    assert services.points_balance(user_id=user.pk) == holding
    for item in paid:
        intent = PaymentIntent.objects.get(pk=item.intent_id)
        assert (intent.amount_fen, intent.refunded_fen) == (item.amount, item.refunded)
    granted = sum(g.points for g in grants if not g.reversed)
    kept = spent - returned
    assert {code: account_balance(code=code) - start[code] for code in SHARED} == {
        "platform:revenue": -kept,
        "platform:points_expense": kept,
        "refunds:payable": 0,
        "points:redeemed": -kept,
        "points:issued": granted,
    }
    assert ledger_check() == []
    for code in [*SHARED, f"points:user:{user.pk}"]:
        assert account_balance(code=code) == account_balance_from_lines(code=code)


def _pay(*, user_id: int, key: str, amount: int) -> services.IntentView:
    return services.intent_start(
        purpose="prop", reference=key, user_id=user_id, method="points", channel="",
        amount_fen=amount, subject="p", client_ip="", idempotency_key=key,
        expires_at=timezone.now() + timedelta(minutes=5), return_url="",
    )  # fmt: skip


def _refund_request(intent_id: int, amount: int, key: str) -> services.RefundView:
    return services.refund_request(
        intent_id=intent_id, amount_fen=amount, reason="p", request_key=key, requested_by=None
    )


def _reverse(journal_id: int, key: str) -> None:
    journal_reverse(journal_id=journal_id, idempotency_key=f"rev:{key}", reason="property test")
