"""Charges nobody finished (a prepared charge whose code never came, a validated one the
partner never confirmed) are settled by the beat job once their code has lapsed: cancelled at
the carrier first, so no late confirm can bill them, then here, and the partner is told."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.gateway.billing import charge_prepare, charges_unsettled_settle
from apps.gateway.capability_errors import ReferenceCodeInUse
from apps.gateway.context import GatewayApp
from apps.gateway.models import BillingCharge, CallbackDelivery
from apps.gateway.tests.support import SignedClient, gateway_app_create
from apps.gateway.tests.test_billing import _balance, _code, _prepare, _subscriber
from apps.ledger.selectors import account_balance, ledger_check
from apps.payments.models import PaymentIntent
from tests.fixtures.concurrency import together

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "/carrier-billing/v1/payments"
CALLBACK = "https://partner.example/cb"
CAMARA_PREPARE = "/carrier-billing/v0.5/payments/prepare"


@pytest.fixture
def client(carrier_sandbox):
    return SignedClient(
        gateway_app_create(capabilities=["carrier-billing"], callback_urls=[CALLBACK])
    )


def _carrier_status(sandbox, charge_id: str) -> str:
    carrier_payment = PaymentIntent.objects.get(reference=charge_id).provider_trade_no
    return httpx.get(
        f"{sandbox.url}/carrier/v1/payments/{carrier_payment}",
        headers={"X-Api-Key": sandbox.api_key}, timeout=10,
    ).json()["status"]  # fmt: skip


def _age(charge_id: str, minutes: int) -> None:
    BillingCharge.objects.filter(pk=charge_id).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )


@pytest.mark.parametrize("validated", [False, True], ids=["code-never-came", "never-confirmed"])
def test_a_lapsed_charge_is_cancelled_at_the_carrier_then_here(carrier_sandbox, client, validated):
    msisdn = _subscriber(carrier_sandbox)
    prepared = _prepare(client, msisdn, callbackUrl=CALLBACK)
    charge_id = prepared["paymentId"]
    if validated:
        code = _code(carrier_sandbox, msisdn)
        answer = client.post(f"{BASE}/{charge_id}/validate", {"code": code})
        assert answer.status_code == 200, answer.content

    _age(charge_id, 19)  # the code's 15 minutes and not yet the grace
    assert charges_unsettled_settle() == {"succeeded": 0, "cancelled": 0, "unknown": 0}
    _age(charge_id, 21)
    assert charges_unsettled_settle() == {"succeeded": 0, "cancelled": 1, "unknown": 0}
    assert charges_unsettled_settle() == {"succeeded": 0, "cancelled": 0, "unknown": 0}

    charge = BillingCharge.objects.get(pk=charge_id)
    assert charge.status == "cancelled"
    assert PaymentIntent.objects.get(reference=charge_id).status == "cancelled"
    assert _carrier_status(carrier_sandbox, charge_id) == "cancelled"
    # A confirm arriving now bills nothing.
    late = client.post(f"{BASE}/{charge_id}/confirm", {})
    assert late.status_code == 409, late.content
    assert _balance(carrier_sandbox, msisdn) == 10_000
    assert account_balance(code="clearing:carrier_billing") == 0
    assert ledger_check() == []
    told = CallbackDelivery.objects.filter(subject=charge_id)
    assert [d.payload["data"]["paymentStatus"] for d in told] == ["cancelled"]


def test_a_charge_confirmed_in_time_is_left_alone(carrier_sandbox, client):
    msisdn = _subscriber(carrier_sandbox)
    prepared = _prepare(client, msisdn)
    charge_id = prepared["paymentId"]
    client.post(f"{BASE}/{charge_id}/validate", {"code": _code(carrier_sandbox, msisdn)})
    assert client.post(f"{BASE}/{charge_id}/confirm", {}).status_code == 200
    _age(charge_id, 60)

    assert charges_unsettled_settle() == {"succeeded": 0, "cancelled": 0, "unknown": 0}
    assert BillingCharge.objects.get(pk=charge_id).status == "succeeded"
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1500


def _camara_body(msisdn: str, correlator: str) -> dict:
    return {"amountTransaction": {
        "phoneNumber": msisdn, "clientCorrelator": correlator, "referenceCode": "order-42",
        "paymentAmount": {"chargingInformation": {"amount": 15, "currency": "CNY",
                                                  "description": "道具"}},
    }}  # fmt: skip


def test_a_reference_code_opens_one_charge_even_when_requests_race(carrier_sandbox, client):
    msisdn = _subscriber(carrier_sandbox)
    other = SignedClient(client.app)
    answers = together(
        lambda: client.post(CAMARA_PREPARE, _camara_body(msisdn, "cc-1")),
        lambda: other.post(CAMARA_PREPARE, _camara_body(msisdn, "cc-2")),
    )
    assert sorted(a.status_code for a in answers) == [201, 409], answers
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["code"] == "ALREADY_EXISTS"
    assert BillingCharge.objects.filter(msisdn=msisdn).count() == 1


def test_the_database_refuses_a_second_charge_with_the_code(carrier_sandbox, client):
    """What the race above meets when both pass the view's early check: the unique index."""
    msisdn = _subscriber(carrier_sandbox)
    app = client.app
    caller = GatewayApp(app_id=app.app_id, partner_id=app.partner_id,
                        environment=app.environment, client_id=app.client_id)  # fmt: skip
    opened = {
        "gateway_app": caller, "msisdn": msisdn, "amount_fen": 1500, "description": "道具",
        "merchant_reference": "order-43", "callback_url": "", "request": {"amountTransaction": {}},
    }  # fmt: skip
    charge_prepare(**opened)
    with pytest.raises(ReferenceCodeInUse):
        charge_prepare(**opened)
    assert BillingCharge.objects.filter(msisdn=msisdn).count() == 1
    # The v1 paths' merchantReference may repeat.
    legacy = {**opened, "request": None, "merchant_reference": "order-43"}
    charge_prepare(**legacy)
    charge_prepare(**legacy)
    assert BillingCharge.objects.filter(msisdn=msisdn).count() == 3


def test_charges_the_carrier_cannot_answer_do_not_hide_newer_ones(carrier_sandbox, client):
    stuck = _prepare(client, _subscriber(carrier_sandbox))["paymentId"]
    newer = _prepare(client, _subscriber(carrier_sandbox))["paymentId"]
    _age(stuck, 60)
    _age(newer, 30)
    # The carrier answers nothing about the first one (its payment id unknown there).
    PaymentIntent.objects.filter(reference=stuck).update(provider_trade_no="CBP-UNKNOWN")

    assert charges_unsettled_settle(limit=1) == {"succeeded": 0, "cancelled": 0, "unknown": 1}
    assert charges_unsettled_settle(limit=1) == {"succeeded": 0, "cancelled": 1, "unknown": 0}
    assert BillingCharge.objects.get(pk=newer).status == "cancelled"
    assert BillingCharge.objects.get(pk=stuck).status == "pending"
