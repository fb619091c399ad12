"""Property: any sequence of payments, refunds and reversals leaves the book balanced and every
balance equal to the sum of its lines."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.ledger.selectors import account_balance, account_balance_from_lines, ledger_check
from apps.ledger.services import journal_reverse
from apps.payments import services
from apps.payments.errors import RefundNotAllowed
from apps.payments.handlers import PurposeHandler, purpose_register
from apps.payments.models import PaymentIntent

purpose_register("prop", PurposeHandler(on_succeeded=lambda fact: True))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(min_value=1, max_value=5000)),
        st.tuples(st.just("refund"), st.integers(min_value=1, max_value=6000)),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=20)),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_random_payments_refunds_and_reversals_keep_the_book_balanced(
    steps, django_capture_on_commit_callbacks
):
    user, _ = User.objects.get_or_create(phone="+8613800138999")
    run = timezone.now().timestamp()
    services.points_grant(
        user_id=user.pk, points=1_000_000, key=f"prop:{run}", reason="property test"
    )
    paid: list[services.IntentView] = []
    journals: list[int] = []
    for n, (action, amount) in enumerate(steps):
        key = f"{run}:{n}"
        if action == "pay":
            intent = services.intent_start(
                purpose="prop", reference=key, user_id=user.pk, method="points", channel="",
                amount_fen=amount, subject="p", client_ip="", idempotency_key=key,
                expires_at=timezone.now() + timedelta(minutes=5), return_url="",
            )  # fmt: skip
            paid.append(intent)
        elif action == "refund" and paid:
            intent = paid[amount % len(paid)]
            try:
                refund = services.refund_request(intent_id=intent.id, amount_fen=amount % 3000 + 1, reason="p",
                                                 request_key=key, requested_by=None)  # fmt: skip
            except RefundNotAllowed:
                continue
            with django_capture_on_commit_callbacks(execute=True):
                services.refund_decide(refund_id=refund.id, approve=True, actor_id=user.pk)
        elif action == "reverse":
            from apps.ledger.models import Journal

            candidate = (
                Journal.objects.filter(reversal_of__isnull=True, reversed_by__isnull=True)
                .exclude(kind="reversal")
                .order_by("?")
                .first()
            )
            if candidate is not None and candidate.pk not in journals:
                journals.append(candidate.pk)
                journal_reverse(
                    journal_id=candidate.pk, idempotency_key=f"rev:{key}", reason="property test"
                )
    assert ledger_check() == []
    for code in (
        "platform:revenue",
        "platform:points_expense",
        "refunds:payable",
        "points:redeemed",
        f"points:user:{user.pk}",
    ):
        assert account_balance(code=code) == account_balance_from_lines(code=code)
    for intent in PaymentIntent.objects.filter(purpose="prop"):
        assert 0 <= intent.refunded_fen <= intent.amount_fen
