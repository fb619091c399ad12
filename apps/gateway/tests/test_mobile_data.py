"""Remaining mobile data through the pipeline, read from the sandbox's data buckets."""

from __future__ import annotations

import pytest

from apps.gateway.tests.capability_support import sandbox_post
from apps.gateway.tests.support import SignedClient, gateway_app_create
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db


def test_remaining_volume_after_some_use(carrier_sandbox):
    msisdn = unique_msisdn("158")
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000, plan="5G-58")
    sandbox_post(carrier_sandbox, f"/sandbox/subscribers/{msisdn}/usage", {"mb": 1024})
    client = SignedClient(gateway_app_create(capabilities=["mobile-data"]))

    answer = client.post("/mobile-data/v1/remaining-volume", {"phoneNumber": msisdn})

    assert answer.status_code == 200
    body = answer.json()
    assert (body["phoneNumber"], body["totalMb"], body["usedMb"], body["remainingMb"]) == (
        msisdn, 30720, 1024, 29696,
    )  # fmt: skip
    assert [(b["kind"], b["remainingMb"]) for b in body["buckets"]] == [("plan", 29696)]
    assert body["buckets"][0]["validUntil"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phoneNumber": "+8613912345676"}, 404, "IDENTIFIER_NOT_FOUND"),
        ({"phoneNumber": "+14155550100"}, 422, "SERVICE_NOT_APPLICABLE"),
        ({}, 422, "MISSING_IDENTIFIER"),
        ({"phoneNumber": "+8613800138000", "unit": "GB"}, 400, "INVALID_ARGUMENT"),
    ],
)
def test_remaining_volume_refusals(carrier_sandbox, body, status, code):
    client = SignedClient(gateway_app_create(capabilities=["mobile-data"]))

    answer = client.post("/mobile-data/v1/remaining-volume", body)

    assert (answer.status_code, answer.json()["code"]) == (status, code)
