"""CAMARA's shape held by the pipeline and carrier billing v0.5 / refund v0.3 end to end."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.gateway.models import BillingCharge, CallbackDelivery
from apps.gateway.tests.camara import documents
from apps.gateway.tests.support import SignedClient, gateway_app_create, signed_headers
from apps.payments.models import Refund
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "/carrier-billing/v0.5/payments"
REFUNDS = "/carrier-billing-refund/v0.3/payments"


@pytest.fixture
def client(carrier_sandbox):
    return SignedClient(gateway_app_create(capabilities=["carrier-billing", "sim-swap"]))


def _prepare_body(msisdn: str, amount: float | str = 15.5) -> dict:
    return {
        "amountTransaction": {
            "phoneNumber": msisdn,
            "clientCorrelator": f"cc-{msisdn}",
            "referenceCode": "order-7",
            "paymentAmount": {
                "chargingInformation": {"amount": amount, "currency": "CNY", "description": "道具"},
                "chargingMetaData": {"merchantIdentifier": "m-1"},
            },
        }
    }


def _code(sandbox, msisdn: str) -> str:
    match = re.search(r"验证码(\d{6})", sandbox.messages(msisdn)[0]["text"])
    assert match is not None
    return match.group(1)


def test_two_step_payment_then_refunds_in_camara_shape(carrier_sandbox, client):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)

    prepared = client.post(f"{BASE}/prepare", _prepare_body(msisdn))
    body = prepared.json()
    payment = f"{BASE}/{body['paymentId']}"
    early = client.post(f"{payment}/confirm", {"phoneNumber": msisdn})
    wrong_id = client.post(
        f"{payment}/validate", {"authorizationId": "nope", "code": _code(carrier_sandbox, msisdn)}
    )
    validated = client.post(
        f"{payment}/validate",
        {"authorizationId": body["validationInfo"]["authorizationId"],
         "code": _code(carrier_sandbox, msisdn)},
    )  # fmt: skip
    confirmed = client.post(f"{payment}/confirm", {"phoneNumber": msisdn})
    again = client.post(f"{payment}/cancel", {"phoneNumber": msisdn})
    read = client.get(payment)
    listed = client.get(f"{BASE}?perPage=1&paymentStatus=succeeded")
    refund = client.post(
        f"{REFUNDS}/{body['paymentId']}/refunds",
        {"type": "partial", "reason": "退一部分",
         "amountTransaction": {"referenceCode": "r-1", "refundAmount": {"chargingInformation": {
             "amount": 5, "currency": "CNY", "description": "part"}}}},
    )  # fmt: skip
    too_much = client.post(
        f"{REFUNDS}/{body['paymentId']}/refunds",
        {"type": "partial",
         "amountTransaction": {"referenceCode": "r-2", "refundAmount": {"chargingInformation": {
             "amount": 50, "currency": "CNY", "description": "all"}}}},
    )  # fmt: skip
    left = client.get(f"{REFUNDS}/{body['paymentId']}/refunds/remaining-amount")
    refunds = client.get(f"{REFUNDS}/{body['paymentId']}/refunds")
    one = client.get(f"{REFUNDS}/{body['paymentId']}/refunds/{refund.json()['refundId']}")

    assert prepared.status_code == 201, prepared.content
    assert (body["paymentStatus"], body["validationInfo"]["action"]) == (
        "pending_validation", "validate",
    )  # fmt: skip
    assert body["amountTransaction"]["paymentAmount"]["chargingInformation"]["amount"] == 15.5
    assert body["amountTransaction"]["clientCorrelator"] == f"cc-{msisdn}"
    assert (early.status_code, early.json()["code"]) == (403, "CARRIER_BILLING.PAYMENT_DENIED")
    assert wrong_id.json()["code"] == "CARRIER_BILLING.INVALID_AUTHORIZATION_ID"
    assert (validated.status_code, confirmed.status_code) == (204, 202)
    assert (again.status_code, again.json()["code"]) == (409, "CARRIER_BILLING.PAYMENT_CONFIRMED")
    assert (read.json()["paymentStatus"], read.json()["amountTransaction"]["referenceCode"]) == (
        "succeeded", "order-7",
    )  # fmt: skip
    assert (listed.status_code, listed["X-Total-Count"], len(listed.json())) == (200, "1", 1)
    assert refund.status_code == 201, refund.content
    assert (refund.json()["type"], refund.json()["refundStatus"] in ("processing", "succeeded")) == (
        "partial", True,
    )  # fmt: skip
    assert (too_much.status_code, too_much.json()["code"]) == (
        422, "CARRIER_BILLING_REFUND.UNAUTHORIZED_AMOUNT",
    )  # fmt: skip
    assert left.json() == {"amount": 10.5, "currency": "CNY"}
    assert [r["refundId"] for r in refunds.json()] == [refund.json()["refundId"]]
    assert one.json()["amountTransaction"]["referenceCode"] == "r-1"
    assert Refund.objects.filter(intent__reference=body["paymentId"]).count() == 1


def test_one_step_create_payment_is_denied_and_charges_nothing(carrier_sandbox, client):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)

    answer = client.post(BASE, _prepare_body(msisdn))

    assert (answer.status_code, answer.json()["code"]) == (403, "CARRIER_BILLING.PAYMENT_DENIED")
    assert not BillingCharge.objects.exists()


def test_a_fraction_of_a_fen_is_refused(carrier_sandbox, client):
    answer = client.post(f"{BASE}/prepare", _prepare_body("+8613800138000", "0.005"))

    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_ARGUMENT")
    assert not BillingCharge.objects.exists()


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("post", "/sim-swap/v2/nothing-here", 404, "NOT_FOUND"),
        ("get", "/carrier-billing/v0.5/payments/x/y/z", 404, "NOT_FOUND"),
        ("get", "/sim-swap/v2/check", 405, "METHOD_NOT_ALLOWED"),
        ("put", f"{BASE}/prepare", 405, "METHOD_NOT_ALLOWED"),
    ],
)
def test_unknown_paths_and_methods_answer_camara_json(client, method, path, status, code):
    answer = client.call(method.upper(), path, {} if method != "get" else None)

    assert answer.status_code == status
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == code
    assert set(answer.json()) == {"status", "code", "message"}


def test_a_wrong_content_type_is_415(client):
    body = b"phoneNumber=+8613800138000"
    signed = signed_headers(
        client_id=client.app.client_id, secret=client.app.secret, method="POST",
        target="/sim-swap/v2/check", body=body,
    )  # fmt: skip
    answer = client.client.post(
        "/sim-swap/v2/check", data=body, content_type="text/plain", headers=signed
    )

    assert (answer.status_code, answer.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")


def test_old_billing_paths_say_they_are_deprecated(carrier_sandbox, client):
    answer = client.get("/carrier-billing/v1/payments/GC-none")

    assert answer.status_code == 404
    assert answer["Deprecation"] == "true"
    assert "/carrier-billing/v0.5/payments" in answer["Link"]


@pytest.mark.parametrize("number", ["+861380013800", "+85291234567", "+8618612345678"])
def test_sim_swap_foreign_or_unknown_segment_is_service_not_applicable(client, number):
    answer = client.post("/sim-swap/v2/check", {"phoneNumber": number})

    assert (answer.status_code, answer.json()["code"]) == (422, "SERVICE_NOT_APPLICABLE")


@pytest.mark.skipif(not documents.available(), reason=documents.MISSING)
def test_sink_notifications_are_the_documents_cloudevents(carrier_sandbox, client):
    sink, refund_sink = "https://sink.invalid/payments", "https://sink.invalid/refunds"

    paid, _line = _charged(carrier_sandbox, client, _prepare_body("") | {"sink": sink})
    prepared = {"paymentId": paid}
    refund = client.post(
        f"{REFUNDS}/{prepared['paymentId']}/refunds",
        {"type": "partial", "sink": refund_sink,
         "amountTransaction": {"referenceCode": "r-1", "refundAmount": {"chargingInformation": {
             "amount": 5, "currency": "CNY", "description": "part"}}}},
    )  # fmt: skip
    assert refund.status_code == 201, refund.content

    sent = {d.event_type: d for d in CallbackDelivery.objects.filter(subject=prepared["paymentId"])}
    completed = sent["org.camaraproject.carrier-billing.v0.payment-completed"]
    assert completed.url == sink
    assert completed.payload["data"]["paymentId"] == prepared["paymentId"]
    assert completed.payload["data"]["status"] == "succeeded"
    assert (
        documents.schema_errors(
            "carrier-billing.yaml", "#/components/schemas/EventPaymentCompleted", completed.payload
        )
        == []
    )
    refunded = sent["org.camaraproject.carrier-billing-refund.v0.refund-completed"]
    assert refunded.url == refund_sink
    assert refunded.payload["data"]["refundId"] == refund.json()["refundId"]
    assert (
        documents.schema_errors(
            "carrier-billing-refund.yaml",
            "#/components/schemas/EventRefundCompleted",
            refunded.payload,
        )
        == []
    )
    assert set(sent) == {
        "org.camaraproject.carrier-billing.v0.payment-completed",
        "org.camaraproject.carrier-billing-refund.v0.refund-completed",
    }  # no first-release event for a CAMARA payment


def test_the_carrier_billing_caps_are_the_documents_422_codes(carrier_sandbox, client):
    from apps.risk.models import Cap
    from apps.risk.services import cap_saved

    cap = Cap.objects.get(code="phone-bill-user-day")  # the caps are risk control's
    cap.limit = 2000
    cap_saved(cap=cap, actor_id=None)
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)

    def prepare(amount: float, n: int):
        body = _prepare_body(msisdn, amount=amount)
        body["amountTransaction"].update(clientCorrelator=f"cc-{n}", referenceCode=f"order-{n}")
        return client.post(f"{BASE}/prepare", body)

    alone, first, together = prepare(20.01, 1), prepare(15, 2), prepare(6, 3)

    assert (alone.status_code, alone.json()["code"]) == (422, "CARRIER_BILLING.UNAUTHORIZED_AMOUNT")
    assert first.status_code == 201
    assert (together.status_code, together.json()["code"]) == (
        422, "CARRIER_BILLING.USER_AMOUNT_THRESHOLD_OVERPASSED",
    )  # fmt: skip
    assert sorted(BillingCharge.objects.values_list("status", flat=True)) == [
        "failed", "failed", "pending",
    ]  # fmt: skip


@pytest.mark.parametrize("number", ["+8618612345678", "+85291234567"])
def test_carrier_billing_of_a_number_outside_this_network_is_service_not_applicable(
    carrier_sandbox, client, number
):
    """Another operator's (or a foreign) number cannot be charged on this carrier's bill: 422
    SERVICE_NOT_APPLICABLE, nothing opened, for prepare and createPayment; confirm and cancel
    say the same before comparing it with the payment's own number."""
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    payment = client.post(f"{BASE}/prepare", _prepare_body(msisdn)).json()["paymentId"]
    charges = BillingCharge.objects.count()
    other = _prepare_body(number)
    other["amountTransaction"]["referenceCode"] = "order-8"

    answers = [
        client.post(f"{BASE}/prepare", other),
        client.post(BASE, other),
        client.post(f"{BASE}/{payment}/confirm", {"phoneNumber": number}),
        client.post(f"{BASE}/{payment}/cancel", {"phoneNumber": number}),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (422, "SERVICE_NOT_APPLICABLE")
    ] * 4
    assert BillingCharge.objects.count() == charges
    assert BillingCharge.objects.get(pk=payment).status == "pending"


def _balance(sandbox, msisdn: str) -> int:
    answer = httpx.get(
        f"{sandbox.url}/carrier/v1/subscribers/{msisdn}",
        headers={"X-Api-Key": sandbox.api_key}, timeout=10,
    )  # fmt: skip
    return int(answer.json()["balance_fen"])


def test_one_step_payment_of_a_pre_authorised_partner_is_charged_at_once(carrier_sandbox):
    client = SignedClient(
        gateway_app_create(capabilities=["carrier-billing"], carrier_billing_one_step=True)
    )
    msisdn, broke = unique_msisdn(), unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    carrier_sandbox.put_subscriber(broke, status="active", balance_fen=100)
    refusing = _prepare_body(broke)
    refusing["amountTransaction"]["referenceCode"] = "order-8"

    created = client.post(BASE, _prepare_body(msisdn))
    again = client.post(BASE, _prepare_body(msisdn))  # the same clientCorrelator: a repeat
    refused = client.post(BASE, refusing)

    assert created.status_code == 201, created.content
    assert created.json()["paymentStatus"] == "succeeded"
    assert "validationInfo" not in created.json()
    assert again.json()["paymentId"] == created.json()["paymentId"]
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1550  # charged once
    assert carrier_sandbox.messages(msisdn) == []  # no code texted: consented under the agreement
    assert BillingCharge.objects.get(pk=created.json()["paymentId"]).status == "succeeded"
    assert (refused.status_code, refused.json()["code"]) == (403, "CARRIER_BILLING.PAYMENT_DENIED")
    assert _balance(carrier_sandbox, broke) == 100
    assert BillingCharge.objects.get(msisdn=broke).status == "failed"


def _charged(sandbox, client, body: dict | None = None) -> tuple[str, str]:
    """A succeeded two-step payment of a new line: (its paymentId, the line)."""
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    body = body or _prepare_body(msisdn)
    body["amountTransaction"] |= {"phoneNumber": msisdn, "referenceCode": f"order-{msisdn}"}
    prepared = client.post(f"{BASE}/prepare", body).json()
    payment = f"{BASE}/{prepared['paymentId']}"
    client.post(
        f"{payment}/validate",
        {"authorizationId": prepared["validationInfo"]["authorizationId"],
         "code": _code(sandbox, msisdn)},
    )  # fmt: skip
    assert client.post(f"{payment}/confirm", {"phoneNumber": msisdn}).status_code == 202
    return prepared["paymentId"], msisdn


def _partial(amount: float = 1, **refund_amount) -> dict:
    charging = {"amount": amount, "currency": "CNY", "description": "part"}
    return {"type": "partial", "amountTransaction": {
        "referenceCode": f"r-{amount}-{len(refund_amount)}",
        "refundAmount": {"chargingInformation": charging, **refund_amount}}}  # fmt: skip


def test_refund_business_rules(carrier_sandbox, client, settings):
    closed, closed_line = _charged(carrier_sandbox, client)
    old, _ = _charged(carrier_sandbox, client)
    body = _prepare_body(unique_msisdn())
    body["amountTransaction"]["paymentAmount"]["paymentDetails"] = [
        {"id": "a", "amount": 10, "currency": "CNY", "description": "道具"},
        {"id": "b", "amount": 5.5, "currency": "CNY", "description": "皮肤"},
    ]
    items, _ = _charged(carrier_sandbox, client, body)
    carrier_sandbox.put_subscriber(closed_line, status="cancelled")
    BillingCharge.objects.filter(pk=old).update(
        created_at=timezone.now() - timedelta(days=settings.CARRIER_BILLING_REFUND_DAYS + 1)
    )

    def refund(payment_id: str, body: dict) -> tuple[int, str]:
        answer = client.post(f"{REFUNDS}/{payment_id}/refunds", body)
        return answer.status_code, answer.json().get("code", answer.json().get("refundStatus"))

    def item(name: str, amount: float, currency: str = "CNY") -> dict:
        return {"paymentItemId": name, "amount": amount, "currency": currency, "description": "x"}

    assert refund(closed, _partial()) == (403, "CARRIER_BILLING_REFUND.REFUND_DENIED")
    assert refund(old, _partial()) == (
        403,
        "CARRIER_BILLING_REFUND.PAYMENT_NOT_ELIGIBLE_FOR_REFUND",
    )
    assert refund(items, _partial(1, refundDetails=[item("c", 1)])) == (
        422, "CARRIER_BILLING_REFUND.REFUND_DETAILS_MISMATCH",
    )  # fmt: skip
    assert refund(items, _partial(6, refundDetails=[item("b", 6)]))[1] == (
        "CARRIER_BILLING_REFUND.REFUND_DETAILS_MISMATCH"  # more than the item
    )
    assert refund(items, _partial(1, refundDetails=[item("a", 1, "USD")]))[0] == 422
    tax = _partial(1)
    tax["amountTransaction"]["refundAmount"]["chargingInformation"]["isTaxIncluded"] = True
    assert refund(items, tax) == (422, "CARRIER_BILLING_REFUND.TAXES_MANAGEMENT_MISMATCH")
    assert refund(items, _partial(5, refundDetails=[item("b", 5)]))[0] == 201
    # What is left of item b is 0.5 now.
    assert refund(items, _partial(1, refundDetails=[item("b", 1)]))[1] == (
        "CARRIER_BILLING_REFUND.REFUND_DETAILS_MISMATCH"
    )
    assert Refund.objects.filter(intent__reference__in=[closed, old]).count() == 0
    assert Refund.objects.filter(intent__reference=items).count() == 1


def test_refund_details_give_the_amount_and_must_agree_with_it(carrier_sandbox, client):
    body = _prepare_body(unique_msisdn())
    body["amountTransaction"]["paymentAmount"]["paymentDetails"] = [
        {"id": "a", "amount": 10, "currency": "CNY", "description": "道具"},
        {"id": "b", "amount": 5.5, "currency": "CNY", "description": "皮肤"},
    ]
    paid, _ = _charged(carrier_sandbox, client, body)

    def item(name: str, amount: float) -> dict:
        return {"paymentItemId": name, "amount": amount, "currency": "CNY", "description": "x"}

    def refund(kind: str, reference: str, refund_amount: dict) -> tuple[int, str]:
        answer = client.post(f"{REFUNDS}/{paid}/refunds", {"type": kind, "amountTransaction": {
            "referenceCode": reference, "refundAmount": refund_amount}})  # fmt: skip
        return answer.status_code, answer.json().get("code", answer.json().get("refundStatus"))

    mismatch = (422, "CARRIER_BILLING_REFUND.REFUND_DETAILS_MISMATCH")
    charging = {"amount": 1, "currency": "CNY", "description": "part"}
    # A total refund whose details are less than the whole: not the whole payment refunded.
    assert refund("total", "r-t1", {"refundDetails": [item("a", 2), item("b", 1)]}) == mismatch
    # A partial one whose details do not add up to its amount.
    partial = {"chargingInformation": charging, "refundDetails": [item("a", 2)]}
    assert refund("partial", "r-p1", partial) == mismatch
    partial["refundDetails"] = [item("a", 0.5), item("b", 0.5)]
    assert refund("partial", "r-p2", partial)[0] == 201
    # A total one whose details add up to the rest (15.50 - 1).
    rest = {"refundDetails": [item("a", 9.5), item("b", 5)]}
    assert refund("total", "r-t2", rest)[0] == 201
    amounts = Refund.objects.filter(intent__reference=paid).order_by("id")
    assert list(amounts.values_list("amount_fen", flat=True)) == [100, 1450]
