"""A valid request of each CAMARA operation for a scenario's line, and the payments and
refunds the billing scenarios start from (made through the gateway, as a partner would)."""

from __future__ import annotations

import json
from typing import Any

from apps.gateway.tests.camara.context import POSITION, REGISTER, Scenario, random_reference

PAYMENTS = "/carrier-billing/v0.5/payments"
REFUNDS = "/carrier-billing-refund/v0.3/payments"


def charging(amount: float = 10.5) -> dict[str, Any]:
    return {"amount": amount, "currency": "CNY", "description": "游戏道具"}


def default_body(ctx: Scenario, operation_id: str) -> dict[str, Any]:
    line = ctx.line()
    bodies: dict[str, Any] = {
        "checkSimSwap": lambda: {"phoneNumber": line},
        "retrieveSimSwapDate": lambda: {"phoneNumber": line},
        "phoneNumberVerify": lambda: {"phoneNumber": line},
        "sendCode": lambda: {"phoneNumber": line, "message": "{{code}} is your code"},
        "validateCode": lambda: otp_sent(ctx),
        "createPayment": lambda: prepare_body(line),
        "preparePayment": lambda: prepare_body(line),
        "validatePayment": lambda: validate_body(ctx),
        "confirmPayment": lambda: {"phoneNumber": line},
        "cancelPayment": lambda: {"phoneNumber": line},
        "createRefund": lambda: {
            "type": "total",
            "amountTransaction": {"referenceCode": random_reference(), "refundAmount": {}},
        },
        "KYC_Match": lambda: {"phoneNumber": line, "idDocument": REGISTER["id_document"]},
        "verifyAge": lambda: {"phoneNumber": line, "ageThreshold": 18},
        "getRoamingStatus": lambda: {"device": {"phoneNumber": line}},
        "getReachabilityStatus": lambda: {"device": {"phoneNumber": line}},
        "verifyLocation": lambda: {
            "device": {"phoneNumber": line},
            "area": {
                "areaType": "CIRCLE",
                "center": {"latitude": POSITION["latitude"], "longitude": POSITION["longitude"]},
                "radius": 5000,
            },
        },
    }
    return dict(bodies[operation_id]())


def prepare_body(line: str, amount: float = 10.5) -> dict[str, Any]:
    return {
        "amountTransaction": {
            "phoneNumber": line,
            "referenceCode": random_reference(),
            "paymentAmount": {"chargingInformation": charging(amount)},
        }
    }


def _gateway(
    ctx: Scenario, method: str, path: str, body: Any = None, *, must_succeed: bool = True
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {ctx.two_legged_token()}"}
    with ctx.on_commit(execute=True):
        if method == "GET":
            answer = ctx.client.get(path, headers=headers)
        else:
            answer = ctx.client.post(
                path, json.dumps(body), content_type="application/json", headers=headers
            )
    assert answer.status_code < 300 or not must_succeed, (path, answer.content)
    return json.loads(answer.content) if answer.content else {}


def send_json(
    ctx: Scenario, method: str, path: str, body: Any = None, *, must_succeed: bool = True
) -> dict[str, Any]:
    """A call the scenario makes before its own, with a two-legged token."""
    return _gateway(ctx, method, path, body, must_succeed=must_succeed)


# The items of a payment made ``with_details`` (their amounts make the payment's 10.5).
PAYMENT_DETAILS = [
    {"id": "item-1", "amount": 8, "currency": "CNY", "description": "道具"},
    {"id": "item-2", "amount": 2.5, "currency": "CNY", "description": "皮肤"},
]


def payment(
    ctx: Scenario,
    state: str = "pending_validation",
    line: str = "main",
    merchant: str = "",
    *,
    with_details: bool = False,
    tax_included: bool | None = None,
) -> str:
    """A payment of the line in ``state`` (pending_validation, reserved, succeeded,
    cancelled), made once per state, line, merchant, whether it lists its items
    (``PAYMENT_DETAILS``) and what it says of tax (``isTaxIncluded``; None: nothing)."""
    key = f"payment:{line}:{state}:{merchant}:{with_details}:{tax_included}"
    if key in ctx.memory:
        return str(ctx.memory[key])
    msisdn = ctx.line(line)
    body = prepare_body(msisdn)
    if with_details:
        body["amountTransaction"]["paymentAmount"]["paymentDetails"] = PAYMENT_DETAILS
    if tax_included is not None:
        body["amountTransaction"]["paymentAmount"]["chargingInformation"]["isTaxIncluded"] = (
            tax_included
        )
    if merchant:
        body["amountTransaction"]["paymentAmount"]["chargingMetaData"] = {
            "merchantIdentifier": merchant
        }
    prepared = _gateway(ctx, "POST", f"{PAYMENTS}/prepare", body)
    payment_id = str(prepared["paymentId"])
    ctx.memory[f"authorization:{payment_id}"] = prepared["validationInfo"]["authorizationId"]
    if state in ("reserved", "succeeded"):
        _gateway(
            ctx,
            "POST",
            f"{PAYMENTS}/{payment_id}/validate",
            {
                "authorizationId": prepared["validationInfo"]["authorizationId"],
                "code": ctx.texted_code(msisdn),
            },
        )
    if state == "succeeded":
        _gateway(ctx, "POST", f"{PAYMENTS}/{payment_id}/confirm", {"phoneNumber": msisdn})
    if state == "cancelled":
        _gateway(ctx, "POST", f"{PAYMENTS}/{payment_id}/cancel", {"phoneNumber": msisdn})
    ctx.memory[key] = payment_id
    return payment_id


def refund(ctx: Scenario, amount: float = 1, *, total: bool = False) -> str:
    """A refund of the scenario's charged payment: ``amount`` yuan, or all that is left."""
    payment_id = ctx.path_params.setdefault("paymentId", payment(ctx, "succeeded"))
    transaction: dict[str, Any] = {"referenceCode": random_reference(), "refundAmount": {}}
    if not total:
        transaction["refundAmount"] = {"chargingInformation": charging(amount)}
    made = _gateway(
        ctx,
        "POST",
        f"{REFUNDS}/{payment_id}/refunds",
        {
            "type": "total" if total else "partial",
            "reason": "refund",
            "amountTransaction": transaction,
        },
    )
    return str(made["refundId"])


def refund_denied(ctx: Scenario, *, total: bool) -> str:
    """A refund the gateway accepts and the carrier then refuses: the line is closed (销户)
    after the gateway checked it and before the carrier credits the bill, so the refund ends
    ``denied``."""
    payment_id = ctx.path_params.setdefault("paymentId", payment(ctx, "succeeded"))
    transaction: dict[str, Any] = {"referenceCode": random_reference(), "refundAmount": {}}
    if not total:
        transaction["refundAmount"] = {"chargingInformation": charging(1)}
    body = {"type": "total" if total else "partial", "amountTransaction": transaction}
    headers = {"Authorization": f"Bearer {ctx.two_legged_token()}"}
    with ctx.on_commit(execute=False) as handed_on:  # the refund's execution, held back
        made = ctx.client.post(
            f"{REFUNDS}/{payment_id}/refunds", json.dumps(body),
            content_type="application/json", headers=headers,
        )  # fmt: skip
    assert made.status_code == 201, made.content
    ctx.sandbox.put_subscriber(ctx.line(), status="cancelled")
    with ctx.on_commit(execute=True):
        for work in handed_on:
            work()
    return str(made.json()["refundId"])


def validate_body(ctx: Scenario) -> dict[str, Any]:
    payment_id = ctx.path_value("paymentId")
    return {
        "authorizationId": ctx.memory.get(f"authorization:{payment_id}", "unknown"),
        "code": ctx.texted_code(ctx.line()),
    }


def otp_sent(ctx: Scenario, *, again: bool = False) -> dict[str, Any]:
    """Send a code to the line through the gateway (once, or ``again``); the validate-code
    body that matches the latest."""
    if "otp" not in ctx.memory or again:
        line = ctx.line()
        sent = _gateway(
            ctx,
            "POST",
            "/one-time-password-sms/v1/send-code",
            {"phoneNumber": line, "message": "{{code}} is your code"},
        )
        ctx.memory["otp"] = {
            "authenticationId": sent["authenticationId"],
            "code": ctx.texted_code(line),
        }
    return dict(ctx.memory["otp"])


def default_path_value(ctx: Scenario, name: str) -> str:
    if name == "paymentId":
        if ctx.operation().operation_id in (
            "createRefund", "retrieveRefunds", "retrieveRefund", "retrievePaymentRemainingAmount",
        ):  # fmt: skip
            return payment(ctx, "succeeded")
        if ctx.operation().operation_id == "confirmPayment":
            return payment(ctx, "reserved")
        return payment(ctx)
    if name == "refundId":
        return refund(ctx)
    raise LookupError(name)
