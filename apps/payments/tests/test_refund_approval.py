"""Maker-checker: who asked for a refund does not approve it; large ones need two finance users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from apps.accounts.models import User
from apps.core.models import AuditEvent
from apps.ledger.models import Journal
from apps.payments import services
from apps.payments.errors import RefundSecondApproverNeeded, RefundSelfApproval
from apps.payments.models import PaymentIntent, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def _finance(phone: str) -> User:
    user = User.objects.create_user(phone, "pw", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="change_refund"),
        Permission.objects.get(codename="view_refund"),
    )
    return user


@pytest.fixture
def operator():
    return _finance("13800000001")


@pytest.fixture
def checker():
    return _finance("13800000002")


def _paid(buyer: User, amount: int, *, method: str = "alipay") -> PaymentIntent:
    return PaymentIntent.objects.create(
        public_id=f"PI{amount}{method}", purpose="order", reference=f"CH{amount}", method=method,
        channel="page" if method == "alipay" else "", amount_fen=amount, idempotency_key=f"k{amount}{method}",
        status="succeeded", settles=True, user_id=buyer.pk, expires_at=timezone.now() + timedelta(minutes=15),
    )  # fmt: skip


def _ask(intent: PaymentIntent, by: User, key: str = "r1") -> services.RefundView:
    return services.refund_request(
        intent_id=intent.pk, amount_fen=intent.amount_fen, reason="t", request_key=key,
        requested_by=by.pk,
    )  # fmt: skip


def _approved_journals() -> int:
    return Journal.objects.filter(kind="refund.approved").count()


def test_whoever_asked_for_a_refund_cannot_approve_it(buyer, operator, checker, settings):
    settings.REFUND_SECOND_APPROVAL_ABOVE_FEN = 100_000
    refund = _ask(_paid(buyer, 1500), operator)
    with pytest.raises(RefundSelfApproval):
        services.refund_decide(refund_id=refund.id, approve=True, actor_id=operator.pk)
    assert Refund.objects.get().status == "requested"
    assert _approved_journals() == 0
    assert services.refund_decide(
        refund_id=refund.id, approve=True, actor_id=checker.pk
    ).status == ("approved")
    assert _approved_journals() == 1


def test_a_refund_the_buyer_asked_for_is_approved_by_one_finance_user(buyer, checker, settings):
    settings.REFUND_SECOND_APPROVAL_ABOVE_FEN = 100_000
    refund = _ask(_paid(buyer, 1500), buyer)
    assert services.refund_decide(
        refund_id=refund.id, approve=True, actor_id=checker.pk
    ).status == ("approved")


def test_a_large_refund_needs_two_different_finance_users(buyer, operator, checker, settings):
    settings.REFUND_SECOND_APPROVAL_ABOVE_FEN = 50_000
    refund = _ask(_paid(buyer, 50_001), buyer)
    first = services.refund_decide(refund_id=refund.id, approve=True, actor_id=operator.pk)
    assert (first.status, first.first_approved_by_id) == ("requested", operator.pk)
    assert _approved_journals() == 0
    with pytest.raises(RefundSecondApproverNeeded):
        services.refund_decide(refund_id=refund.id, approve=True, actor_id=operator.pk)
    assert _approved_journals() == 0
    second = services.refund_decide(refund_id=refund.id, approve=True, actor_id=checker.pk)
    assert second.status == "approved"
    assert _approved_journals() == 1
    assert list(
        AuditEvent.objects.filter(object_type="refund")
        .order_by("pk")
        .values_list("action", "actor_id")
    ) == [
        ("refund.requested", buyer.pk),
        ("refund.first_approval", operator.pk),
        ("refund.approved", checker.pk),
    ]


def test_at_the_threshold_one_approval_is_enough(buyer, operator, settings):
    settings.REFUND_SECOND_APPROVAL_ABOVE_FEN = 50_000
    refund = _ask(_paid(buyer, 50_000), buyer)
    assert services.refund_decide(
        refund_id=refund.id, approve=True, actor_id=operator.pk
    ).status == ("approved")


def test_workbench_refuses_the_requesters_approval_and_counts_the_first_of_two(
    client, buyer, operator, checker, settings
):
    settings.REFUND_SECOND_APPROVAL_ABOVE_FEN = 50_000
    small = _ask(_paid(buyer, 1500), operator, key="small")
    large = _ask(_paid(buyer, 80_000), buyer, key="large")
    client.force_login(operator)
    page = client.post(
        "/admin/payments/refund/",
        {"action": "approve", "_selected_action": [small.id, large.id]},
        follow=True,
    )
    text = page.content.decode()
    assert "REFUND_SELF_APPROVAL" not in text  # the message is for people
    assert Refund.objects.get(pk=small.id).status == "requested"
    large_row = Refund.objects.get(pk=large.id)
    assert (large_row.status, large_row.first_approved_by_id) == ("requested", operator.pk)
    client.force_login(checker)
    client.post(
        "/admin/payments/refund/", {"action": "approve", "_selected_action": [small.id, large.id]}
    )
    assert set(Refund.objects.values_list("status", flat=True)) == {"approved"}


def test_api_decision_follows_the_same_rules(api_client, buyer, operator, checker, settings):
    settings.REFUND_SECOND_APPROVAL_ABOVE_FEN = 50_000
    refund = _ask(_paid(buyer, 1500), operator)
    api_client.force_authenticate(operator)
    refused = api_client.post(
        f"/api/v1/refunds/{refund.public_id}/decision/", {"approve": True}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "REFUND_SELF_APPROVAL")
    api_client.force_authenticate(buyer)
    forbidden = api_client.post(
        f"/api/v1/refunds/{refund.public_id}/decision/", {"approve": True}, format="json"
    )
    assert forbidden.status_code == 403
    assert Refund.objects.get().status == "requested"
    api_client.force_authenticate(checker)
    done = api_client.post(
        f"/api/v1/refunds/{refund.public_id}/decision/", {"approve": True}, format="json"
    )
    assert (done.status_code, done.json()["status"]) == (200, "approved")


def test_points_given_back_for_a_cancelled_order_need_no_second_approval(buyer, settings):
    settings.REFUND_SECOND_APPROVAL_ABOVE_FEN = 100
    refund = _ask(_paid(buyer, 5000, method="points"), buyer)
    assert services.refund_decide(refund_id=refund.id, approve=True, actor_id=buyer.pk).status == (
        "approved"
    )
