"""A one-step payment whose confirm times out at the carrier is not cancelled blind: the
carrier is asked about the charge; billed, it succeeds; not billed, it is cancelled at the
carrier and then here; while the carrier cannot say, it stays unconfirmed (pending)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from apps.carrier.client import CarrierClient
from apps.gateway.billing import charges_unsettled_settle
from apps.gateway.models import BillingCharge
from apps.gateway.tests.support import SignedClient, gateway_app_create
from apps.gateway.tests.test_camara_conformance import _balance
from apps.ledger.selectors import account_balance, ledger_check
from apps.payments.models import PaymentIntent
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "/carrier-billing/v0.5/payments"


@pytest.fixture
def client(carrier_sandbox, settings):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    settings.CARRIER_MAX_ATTEMPTS = 1
    return SignedClient(
        gateway_app_create(capabilities=["carrier-billing"], carrier_billing_one_step=True)
    )


def _confirm_fails(monkeypatch, sandbox, *, after: dict | None = None, **fault) -> None:
    """The carrier's confirm meets ``fault`` (the sandbox's knobs, for that call only); the
    knobs are then ``after`` (reset when None) for the calls that follow."""
    original = CarrierClient.billing_action

    def billing_action(self, *, payment_id, action, body=None):
        if action != "confirm":
            return original(self, payment_id=payment_id, action=action, body=body)
        sandbox.set_knobs(**fault)
        try:
            return original(self, payment_id=payment_id, action=action, body=body)
        finally:
            sandbox.reset_knobs()
            if after:
                sandbox.set_knobs(**after)

    monkeypatch.setattr(CarrierClient, "billing_action", billing_action)


def _create(client, sandbox) -> tuple[httpx.Response, str]:
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    body = {"amountTransaction": {
        "phoneNumber": msisdn, "clientCorrelator": f"cc-{msisdn}", "referenceCode": "order-9",
        "paymentAmount": {"chargingInformation": {"amount": 15.5, "currency": "CNY",
                                                  "description": "道具"}},
    }}  # fmt: skip
    return client.post(BASE, body), msisdn


def _states(msisdn: str) -> tuple[str, str]:
    charge = BillingCharge.objects.get(msisdn=msisdn)
    intent = PaymentIntent.objects.get(purpose="gateway", reference=charge.pk)
    return charge.status, intent.status


def test_billed_but_the_answer_lost_is_recorded_as_succeeded(client, carrier_sandbox, monkeypatch):
    _confirm_fails(monkeypatch, carrier_sandbox, lost_response_rate=1.0, hang_ms=1500)
    created, msisdn = _create(client, carrier_sandbox)
    assert created.status_code == 201, created.content
    assert created.json()["paymentStatus"] == "succeeded"
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1550  # billed once
    assert _states(msisdn) == ("succeeded", "succeeded")
    assert account_balance(code="clearing:carrier_billing") == 1550
    assert ledger_check() == []


def test_not_billed_is_cancelled_at_the_carrier_then_here(client, carrier_sandbox, monkeypatch):
    _confirm_fails(monkeypatch, carrier_sandbox, timeout_rate=1.0, hang_ms=1500)
    created, msisdn = _create(client, carrier_sandbox)
    assert created.status_code == 503, created.content
    assert _balance(carrier_sandbox, msisdn) == 10_000
    assert _states(msisdn) == ("cancelled", "cancelled")
    charge = BillingCharge.objects.get(msisdn=msisdn)
    carrier_payment = PaymentIntent.objects.get(reference=charge.pk).provider_trade_no
    state = httpx.get(
        f"{carrier_sandbox.url}/carrier/v1/payments/{carrier_payment}",
        headers={"X-Api-Key": carrier_sandbox.api_key}, timeout=10,
    ).json()  # fmt: skip
    assert state["status"] == "cancelled"


def test_while_the_carrier_cannot_say_the_charge_stays_unconfirmed(
    client, carrier_sandbox, monkeypatch
):
    _confirm_fails(
        monkeypatch, carrier_sandbox, after={"error_rate": 1.0},
        lost_response_rate=1.0, hang_ms=1500,
    )  # fmt: skip
    created, msisdn = _create(client, carrier_sandbox)
    carrier_sandbox.reset_knobs()
    assert created.status_code == 503, created.content
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1550  # billed, we could not hear it
    # Not cancelled: a success cannot be lost by cancelling it here.
    assert _states(msisdn) == ("pending", "pending")


def test_the_sweep_settles_it_once_the_carrier_can_say(client, carrier_sandbox, monkeypatch):
    """Left unconfirmed while the carrier could not say: the beat job asks it again later and
    records the success it billed, once."""
    _confirm_fails(
        monkeypatch, carrier_sandbox, after={"error_rate": 1.0},
        lost_response_rate=1.0, hang_ms=1500,
    )  # fmt: skip
    created, msisdn = _create(client, carrier_sandbox)
    assert created.status_code == 503, created.content

    # Still unable to say: left for the next run.
    assert charges_unsettled_settle(older_than=timedelta(0)) == {
        "succeeded": 0, "cancelled": 0, "unknown": 1,
    }  # fmt: skip
    assert _states(msisdn) == ("pending", "pending")
    # Younger than the code's life: not asked at all.
    carrier_sandbox.reset_knobs()
    assert charges_unsettled_settle() == {"succeeded": 0, "cancelled": 0, "unknown": 0}

    assert charges_unsettled_settle(older_than=timedelta(0))["succeeded"] == 1
    assert charges_unsettled_settle(older_than=timedelta(0))["succeeded"] == 0  # settled once
    assert _states(msisdn) == ("succeeded", "succeeded")
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1550  # billed once
    assert account_balance(code="clearing:carrier_billing") == 1550
    assert ledger_check() == []
