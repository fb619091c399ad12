"""Carrier billing for partners: prepare, validate, confirm, cancel, refund; money moves once."""

from __future__ import annotations

import re

import httpx
import pytest

from apps.gateway.models import BillingCharge
from apps.gateway.tests.support import SignedClient, gateway_app_create
from apps.ledger.selectors import account_balance, ledger_check
from apps.payments.models import PaymentIntent, Refund
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "/carrier-billing/v1/payments"


@pytest.fixture
def client(carrier_sandbox):
    return SignedClient(gateway_app_create(capabilities=["carrier-billing"]))


def _subscriber(sandbox, balance_fen: int = 10_000) -> str:
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=balance_fen)
    return msisdn


def _balance(sandbox, msisdn: str) -> int:
    return httpx.get(
        f"{sandbox.url}/carrier/v1/subscribers/{msisdn}", headers={"X-Api-Key": sandbox.api_key}
    ).json()["balance_fen"]


def _code(sandbox, msisdn: str) -> str:
    match = re.search(r"验证码(\d{6})", sandbox.messages(msisdn)[0]["text"])
    assert match is not None
    return match.group(1)


def _prepare(client, msisdn: str, amount: int = 1500, **extra) -> dict:
    answer = client.post(
        f"{BASE}/prepare",
        {"phoneNumber": msisdn, "amountFen": amount, "description": "游戏道具", **extra},
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_prepare_validate_confirm_charges_the_bill_once(carrier_sandbox, client):
    msisdn = _subscriber(carrier_sandbox)
    prepared = _prepare(client, msisdn, merchantReference="order-7")
    payment = f"{BASE}/{prepared['paymentId']}"

    early = client.post(f"{payment}/confirm", {})
    wrong = client.post(
        f"{payment}/validate",
        {"code": "000000" if _code(carrier_sandbox, msisdn) != "000000" else "111111"},
    )
    validated = client.post(f"{payment}/validate", {"code": _code(carrier_sandbox, msisdn)})
    confirmed = client.post(f"{payment}/confirm", {})
    repeated = client.post(f"{payment}/confirm", {})
    read = client.get(payment)

    assert (prepared["paymentStatus"], prepared["amountFen"], prepared["merchantReference"]) == (
        "pending", 1500, "order-7",
    )  # fmt: skip
    assert (early.status_code, early.json()["code"]) == (409, "CONFLICT")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "CARRIER_BILLING_CODE_INVALID")
    assert validated.json()["paymentStatus"] == "validated"
    assert (confirmed.status_code, confirmed.json()["paymentStatus"]) == (200, "succeeded")
    assert repeated.json()["paymentStatus"] == "succeeded"
    assert read.json()["paymentStatus"] == "succeeded"
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1500
    assert account_balance(code="clearing:carrier_billing") == 1500
    intent = PaymentIntent.objects.get(purpose="gateway", reference=prepared["paymentId"])
    assert (intent.status, intent.settles) == ("succeeded", True)
    assert ledger_check() == []


def test_refunds_give_money_back_never_more_than_charged(carrier_sandbox, client):
    msisdn = _subscriber(carrier_sandbox)
    prepared = _prepare(client, msisdn)
    payment = f"{BASE}/{prepared['paymentId']}"
    client.post(f"{payment}/validate", {"code": _code(carrier_sandbox, msisdn)})
    client.post(f"{payment}/confirm", {})
    refunds = "/carrier-billing-refund/v1/refunds"
    key = {"Idempotency-Key": "refund-1"}

    first = client.post(
        refunds, {"paymentId": prepared["paymentId"], "amountFen": 500}, headers=key
    )
    repeat = client.post(
        refunds, {"paymentId": prepared["paymentId"], "amountFen": 500}, headers=key
    )
    too_much = client.post(refunds, {"paymentId": prepared["paymentId"], "amountFen": 1001})
    rest = client.post(refunds, {"paymentId": prepared["paymentId"], "amountFen": 1000})

    assert first.status_code == 201
    assert repeat.json() == first.json()
    assert (too_much.status_code, too_much.json()["code"]) == (409, "REFUND_NOT_ALLOWED")
    assert too_much.json()["details"] == {"refundable_fen": 1000}
    assert rest.status_code == 201
    assert Refund.objects.filter(intent__reference=prepared["paymentId"]).count() == 2
    assert list(Refund.objects.values_list("status", flat=True).order_by("id")) == ["succeeded"] * 2
    assert _balance(carrier_sandbox, msisdn) == 10_000
    charge = BillingCharge.objects.get(pk=prepared["paymentId"])
    assert charge.refunded_fen == 1500
    assert client.get(payment).json()["refundedFen"] == 1500
    assert account_balance(code="clearing:carrier_billing") == 0
    assert ledger_check() == []


def test_a_cancelled_charge_cannot_be_confirmed_and_moves_no_money(carrier_sandbox, client):
    msisdn = _subscriber(carrier_sandbox)
    prepared = _prepare(client, msisdn)
    payment = f"{BASE}/{prepared['paymentId']}"
    code = _code(carrier_sandbox, msisdn)

    cancelled = client.post(f"{payment}/cancel", {})
    validate = client.post(f"{payment}/validate", {"code": code})
    confirm = client.post(f"{payment}/confirm", {})
    refund = client.post(
        "/carrier-billing-refund/v1/refunds", {"paymentId": prepared["paymentId"], "amountFen": 1}
    )

    assert cancelled.json()["paymentStatus"] == "cancelled"
    assert [a.status_code for a in (validate, confirm, refund)] == [409, 409, 409]
    assert _balance(carrier_sandbox, msisdn) == 10_000
    assert PaymentIntent.objects.get(reference=prepared["paymentId"]).status == "cancelled"
    assert account_balance(code="clearing:carrier_billing") == 0


def test_prepare_refusals_leave_nothing_behind(carrier_sandbox, client):
    from apps.risk.models import Cap
    from apps.risk.services import cap_saved

    poor = _subscriber(carrier_sandbox, balance_fen=100)
    cap = Cap.objects.get(code="phone-bill-user-day")
    cap.limit = 2000
    cap_saved(cap=cap, actor_id=None)
    rich = _subscriber(carrier_sandbox)

    unknown = client.post(
        f"{BASE}/prepare", {"phoneNumber": "+8613912345675", "amountFen": 100, "description": "x"}
    )
    broke = client.post(
        f"{BASE}/prepare", {"phoneNumber": poor, "amountFen": 500, "description": "x"}
    )
    over_cap = client.post(
        f"{BASE}/prepare", {"phoneNumber": rich, "amountFen": 2001, "description": "x"}
    )
    negative = client.post(
        f"{BASE}/prepare", {"phoneNumber": rich, "amountFen": 0, "description": "x"}
    )

    assert (unknown.status_code, unknown.json()["code"]) == (404, "IDENTIFIER_NOT_FOUND")
    assert broke.json()["code"] == "CARRIER_REJECTED"
    assert over_cap.json()["code"] == "CARRIER_BILLING_DAILY_LIMIT"
    assert (negative.status_code, negative.json()["code"]) == (400, "INVALID_ARGUMENT")
    assert set(BillingCharge.objects.values_list("status", flat=True)) == {"failed"}
    assert account_balance(code="clearing:carrier_billing") == 0
