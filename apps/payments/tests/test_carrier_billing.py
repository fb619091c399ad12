"""Paying by phone bill through the carrier sandbox: code, confirm, limits, refunds, ledger."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.carrier.errors import CarrierUnavailable
from apps.ledger.selectors import account_balance, ledger_check
from apps.payments import services
from apps.payments.errors import (
    CarrierBillingCodeExpired,
    CarrierBillingCodeInvalid,
    CarrierBillingDailyLimit,
    CarrierBillingMonthlyLimit,
)
from apps.payments.handlers import PurposeHandler, purpose_register
from apps.payments.models import PaymentIntent, Refund

pytestmark = pytest.mark.django_db
TAKEN: list[str] = []


def _take(fact) -> bool:
    TAKEN.append(fact.reference)
    return True


purpose_register("test", PurposeHandler(on_succeeded=_take))


@pytest.fixture
def buyer(carrier_sandbox):
    carrier_sandbox.put_subscriber("+8613800138555", status="active", balance_fen=10_000)
    return User.objects.create_user("13800138555")


def _start(user, amount, key="k"):
    return services.intent_start(
        purpose="test", reference=f"ref-{key}", user_id=user.pk, method="carrier_billing", channel="",
        amount_fen=amount, subject="视频会员", client_ip="127.0.0.1", idempotency_key=key,
        expires_at=timezone.now() + timedelta(minutes=15), return_url="",
    )  # fmt: skip


def _code(sandbox) -> str:
    text = sandbox.messages("+8613800138555", limit=1)[0]["text"]
    found = re.search(r"验证码(\d{6})", text)
    assert found is not None
    return found.group(1)


def test_prepare_confirm_with_the_texted_code(
    carrier_sandbox, buyer, django_capture_on_commit_callbacks
):
    intent = _start(buyer, 1500)
    assert (intent.status, intent.action["kind"]) == ("pending", "carrier_code")
    with pytest.raises(CarrierBillingCodeInvalid):
        services.carrier_billing_confirm(
            public_id=intent.public_id,
            user_id=buyer.pk,
            code="000000" if _code(carrier_sandbox) != "000000" else "111111",
        )
    paid = services.carrier_billing_confirm(
        public_id=intent.public_id, user_id=buyer.pk, code=_code(carrier_sandbox)
    )
    assert paid.status == "succeeded"
    assert TAKEN[-1] == "ref-k"
    assert account_balance(code="clearing:carrier_billing") == 1500
    assert carrier_sandbox_balance(carrier_sandbox) == 8_500
    # A refund credits the bill back.
    refund = services.refund_request(
        intent_id=intent.id, amount_fen=500, reason="t", request_key="r1", requested_by=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_decide(refund_id=refund.id, approve=True, actor_id=buyer.pk)
    assert Refund.objects.get().status == "succeeded"
    assert PaymentIntent.objects.get().status == "partially_refunded"
    assert carrier_sandbox_balance(carrier_sandbox) == 9_000
    assert account_balance(code="clearing:carrier_billing") == 1000
    assert ledger_check() == []


def carrier_sandbox_balance(sandbox) -> int:
    import httpx

    return httpx.get(
        f"{sandbox.url}/carrier/v1/subscribers/%2B8613800138555",
        headers={"X-Api-Key": sandbox.api_key},
    ).json()["balance_fen"]


def _caps(day: int, month: int) -> None:
    from apps.risk.models import Cap
    from apps.risk.services import cap_saved

    for code, limit in (("phone-bill-user-day", day), ("phone-bill-user-month", month)):
        cap = Cap.objects.get(code=code)
        cap.limit = limit
        cap_saved(cap=cap, actor_id=None)


def test_daily_and_monthly_caps(carrier_sandbox, buyer):
    _caps(day=2000, month=3000)
    _start(buyer, 1500, key="a")
    with pytest.raises(CarrierBillingDailyLimit) as daily:
        _start(buyer, 600, key="b")
    assert daily.value.details == {"limit_fen": 2000, "spent_fen": 1500}
    _caps(day=10_000, month=3000)
    _start(buyer, 1400, key="c")
    with pytest.raises(CarrierBillingMonthlyLimit):
        _start(buyer, 200, key="d")
    assert PaymentIntent.objects.count() == 2


def test_a_charge_the_carrier_refuses_gives_its_amount_back_to_the_cap(carrier_sandbox, buyer):
    _caps(day=2000, month=50_000)
    carrier_sandbox.set_knobs(error_rate=1.0)
    with pytest.raises(CarrierUnavailable):
        _start(buyer, 1500, key="refused")
    carrier_sandbox.reset_knobs()

    _start(buyer, 1500, key="second")

    assert sorted(PaymentIntent.objects.values_list("idempotency_key", "status")) == [
        ("refused", "failed"), ("second", "pending"),
    ]  # fmt: skip


def test_a_code_typed_after_five_minutes_has_expired(carrier_sandbox, buyer):
    intent = _start(buyer, 1500)
    code = _code(carrier_sandbox)
    carrier_sandbox.age_carrier_payment(
        PaymentIntent.objects.get().provider_trade_no, seconds=5 * 60 + 1
    )
    with pytest.raises(CarrierBillingCodeExpired):
        services.carrier_billing_confirm(public_id=intent.public_id, user_id=buyer.pk, code=code)
    assert PaymentIntent.objects.get().status == "pending"
    assert carrier_sandbox_balance(carrier_sandbox) == 10_000
    assert account_balance(code="clearing:carrier_billing") == 0
