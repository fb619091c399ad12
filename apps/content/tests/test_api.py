"""The CP API: signed calls, replay and tampering refused, in-app charge create + confirm,
idempotency by the CP's order id, CAMARA-style errors, entitlement checks."""

from __future__ import annotations

import json
import re
import secrets
import time

import pytest
from django.test import Client

from apps.content import services
from apps.content.models import Charge
from apps.content.tests.support import approved_cp, product_on_sale
from apps.core import signing
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)


class CpClient:
    """Signs every call as the CP's key, exactly as docs/content.md tells a CP to."""

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id, self.secret, self.client = key_id, secret, Client()

    def headers(
        self,
        method: str,
        target: str,
        body: bytes,
        *,
        nonce: str | None = None,
        date: str | None = None,
    ) -> dict[str, str]:
        date = date or str(int(time.time()))
        nonce = nonce or secrets.token_hex(12)
        signature = signing.sign(
            secret=self.secret, date=date, nonce=nonce, method=method, target=target, body=body
        )
        return {"Authorization": signing.authorization_header(client_id=self.key_id, signature=signature),
                "X-CH-Date": date, "X-CH-Nonce": nonce}  # fmt: skip

    def post(self, target: str, payload: dict, **sign: str):
        body = json.dumps(payload).encode()
        return self.client.post(
            target,
            body,
            content_type="application/json",
            headers=self.headers("POST", target, body, **sign),
        )

    def get(self, target: str):
        return self.client.get(target, headers=self.headers("GET", target, b""))


@pytest.fixture
def cp_setup(carrier_sandbox):
    cp = approved_cp(share_bp=7000)
    product = product_on_sale(cp, price_fen=600)
    key = services.cp_key_issue(cp_id=cp.pk, actor_id=None)
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    return cp, product, CpClient(key.key_id, key.secret), msisdn


def _code(sandbox, msisdn: str) -> str:
    match = re.search(r"验证码(\d{6})", sandbox.messages(msisdn)[0]["text"])
    assert match is not None
    return match.group(1)


def test_an_in_app_purchase_end_to_end_and_the_entitlement_check(carrier_sandbox, cp_setup):
    _cp, product, client, msisdn = cp_setup
    before = client.get(
        f"/api/v1/content/entitlements/?phone_number={msisdn}&product_id={product.pk}"
    )
    assert (before.status_code, before.json()["entitled"]) == (200, False)
    created = client.post(
        "/api/v1/content/charges/",
        {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "O-1"},
    )
    assert created.status_code == 201, created.content
    charge = created.json()
    assert (charge["status"], charge["amount_fen"]) == ("pending", 600)
    assert charge["pay_url"] == f"/pay/content/{charge['charge_id']}/"  # or confirm on the page
    repeat = client.post(
        "/api/v1/content/charges/",
        {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "O-1"},
    )
    assert repeat.json()["charge_id"] == charge["charge_id"]
    wrong = client.post(
        f"/api/v1/content/charges/{charge['charge_id']}/confirm/", {"code": "000001"}
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "CARRIER_BILLING_CODE_INVALID"
    confirmed = client.post(
        f"/api/v1/content/charges/{charge['charge_id']}/confirm/",
        {"code": _code(carrier_sandbox, msisdn)},
    )
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "succeeded")
    after = client.get(
        f"/api/v1/content/entitlements/?phone_number={msisdn}&product_id={product.pk}"
    )
    assert after.json()["entitled"] is True


def test_unsigned_tampered_stale_and_replayed_calls_are_refused_and_change_nothing(cp_setup):
    _cp, product, client, msisdn = cp_setup
    target = "/api/v1/content/charges/"
    body = json.dumps(
        {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "U-1"}
    ).encode()
    unsigned = Client().post(target, body, content_type="application/json")
    headers = client.headers("POST", target, body)
    tampered = Client().post(
        target, body.replace(b"U-1", b"U-2"), content_type="application/json", headers=headers
    )
    stale = client.post(target, {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "U-3"},
                        date=str(int(time.time()) - 3600))  # fmt: skip
    for answer in (unsigned, tampered, stale):
        assert answer.status_code == 401
        assert answer.json()["code"] == "UNAUTHENTICATED" and answer.json()["status"] == 401
    assert Charge.objects.count() == 0
    first = Client().post(target, body, content_type="application/json", headers=headers)
    replayed = Client().post(target, body, content_type="application/json", headers=headers)
    assert first.status_code == 201
    assert (replayed.status_code, replayed.json()["code"]) == (401, "UNAUTHENTICATED")
    assert Charge.objects.count() == 1


def test_bad_input_gets_a_clear_error(cp_setup):
    _cp, product, client, msisdn = cp_setup
    other = approved_cp()
    theirs = product_on_sale(other)
    answers = {
        "theirs": client.post(
            "/api/v1/content/charges/",
            {"product_id": theirs.pk, "phone_number": msisdn, "cp_order_id": "B-1"},
        ),
        "unknown": client.post(
            "/api/v1/content/charges/",
            {"product_id": product.pk, "phone_number": "+8613912345675", "cp_order_id": "B-2"},
        ),
        "missing": client.post(
            "/api/v1/content/charges/", {"phone_number": msisdn, "cp_order_id": "B-3"}
        ),
        "check": client.get(
            f"/api/v1/content/entitlements/?phone_number={msisdn}&product_id={theirs.pk}"
        ),
        "check_no_number": client.get(
            f"/api/v1/content/entitlements/?phone_number=abc&product_id={product.pk}"
        ),
        "check_no_product": client.get(
            f"/api/v1/content/entitlements/?phone_number={msisdn}&product_id=x1"
        ),
        "check_no_chapter": client.get(
            f"/api/v1/content/entitlements/?phone_number={msisdn}&product_id={product.pk}&chapter=-"
        ),
    }
    got = {name: (a.status_code, a.json()["code"]) for name, a in answers.items()}
    assert got == {"theirs": (404, "PRODUCT_NOT_FOUND"), "unknown": (404, "IDENTIFIER_NOT_FOUND"),
                   "missing": (400, "INVALID_ARGUMENT"), "check": (404, "PRODUCT_NOT_FOUND"),
                   "check_no_number": (400, "INVALID_PHONE_NUMBER"), "check_no_product": (400, "INVALID_ARGUMENT"),
                   "check_no_chapter": (400, "INVALID_ARGUMENT")}  # fmt: skip
    assert Charge.objects.count() == 0


def test_a_key_rotated_out_stops_signing_and_the_next_key_signs_before_rotation(cp_setup):
    cp, product, client, msisdn = cp_setup
    nxt = services.cp_key_issue(cp_id=cp.pk, actor_id=None)
    by_next = CpClient(nxt.key_id, nxt.secret)
    assert (
        by_next.get(
            f"/api/v1/content/entitlements/?phone_number={msisdn}&product_id={product.pk}"
        ).status_code
        == 200
    )
    services.cp_key_rotate(cp_id=cp.pk, actor_id=None)
    assert (
        client.get(
            f"/api/v1/content/entitlements/?phone_number={msisdn}&product_id={product.pk}"
        ).status_code
        == 401
    )
