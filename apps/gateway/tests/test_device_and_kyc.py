"""KYC match, age verification, roaming, reachability and location verification against the
sandbox's register and device states."""

from __future__ import annotations

import httpx
import pytest

from apps.gateway.tests.capability_support import device_token
from apps.gateway.tests.support import SignedClient, gateway_app_create
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db

CAPABILITIES = [
    "kyc-match",
    "kyc-age-verification",
    "device-roaming-status",
    "device-reachability-status",
    "location-verification",
]


@pytest.fixture
def client(db):
    return SignedClient(gateway_app_create(capabilities=CAPABILITIES))


def _put(sandbox, path: str, body: dict) -> None:
    response = httpx.put(
        f"{sandbox.url}{path}", json=body, headers={"X-Api-Key": sandbox.api_key}, timeout=10
    )
    response.raise_for_status()


@pytest.fixture
def line(carrier_sandbox):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    _put(carrier_sandbox, f"/sandbox/subscribers/{msisdn}/real-name", {
        "id_document": "110101199003074477", "name": "张伟", "given_name": "伟",
        "family_name": "张", "birthdate": "1990-03-07", "address": "广州市天河区体育西路1号",
    })  # fmt: skip
    _put(carrier_sandbox, f"/sandbox/subscribers/{msisdn}/device", {
        "roaming_country_code": 454, "roaming_country_name": "HK", "reachable_data": False,
        "latitude": 22.3193, "longitude": 114.1694, "accuracy_m": 1000,
    })  # fmt: skip
    return msisdn


def test_kyc_match_answers_verdicts_never_the_register(client, line):
    answer = client.post(
        "/kyc-match/v0.3/match",
        {"phoneNumber": line, "idDocument": "110101199003074477", "givenName": "伟",
         "familyName": "王", "address": "广州市天河区体育西路2号", "email": "a@b.cn",
         "middleNames": "x"},
    )  # fmt: skip

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert {k: v for k, v in body.items() if not k.endswith("Score")} == {
        "idDocumentMatch": "true", "givenNameMatch": "true", "familyNameMatch": "false",
        "addressMatch": "false", "emailMatch": "not_available", "middleNamesMatch": "not_available",
    }  # fmt: skip
    assert 0 <= body["familyNameMatchScore"] <= 99 and body["addressMatchScore"] >= 80
    assert "张" not in answer.content.decode() and "体育西路1号" not in answer.content.decode()


@pytest.mark.parametrize(("threshold", "verdict"), [(18, "true"), (120, "false")])
def test_age_verification(client, line, threshold, verdict):
    answer = client.post(
        "/kyc-age-verification/v0.1/verify",
        {"phoneNumber": line, "ageThreshold": threshold, "includeParentalControl": True},
    )

    assert answer.json() == {
        "ageCheck": verdict,
        "verifiedStatus": True,
        "parentalControl": "false",
    }


def test_roaming_and_reachability(client, line):
    roaming = client.post("/device-roaming-status/v1/retrieve", {"device": {"phoneNumber": line}})
    reach = client.post(
        "/device-reachability-status/v1/retrieve", {"device": {"phoneNumber": line}}
    )

    assert (roaming.json()["roaming"], roaming.json()["countryCode"]) == (True, 454)
    assert roaming.json()["countryName"] == ["HK"]
    assert (reach.json()["reachable"], reach.json()["connectivity"]) == (True, ["SMS"])


@pytest.mark.parametrize(
    ("center", "radius", "result"),
    [
        ((22.3193, 114.1694), 5000, "TRUE"),
        ((39.9042, 116.4074), 5000, "FALSE"),
        ((22.3193, 114.1694), 800, "PARTIAL"),
    ],
)
def test_location_verification(client, line, center, radius, result):
    answer = client.post(
        "/location-verification/v3/verify",
        {"device": {"phoneNumber": line}, "area": {"areaType": "CIRCLE", "center": {
            "latitude": center[0], "longitude": center[1]}, "radius": radius}},
    )  # fmt: skip

    assert answer.status_code == 200, answer.content
    assert answer.json()["verificationResult"] == result
    assert ("matchRate" in answer.json()) == (result == "PARTIAL")


def test_a_three_legged_token_identifies_the_device(carrier_sandbox, client, line, api_client):
    app = client.app
    token = api_client.post(
        "/oauth2/token",
        {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
         "subject_token": device_token(carrier_sandbox, line),
         "subject_token_type": "urn:carrierhub:params:oauth:token-type:device-token",
         "client_id": app.client_id, "client_secret": app.secret},
    ).json()["access_token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}

    by_token = api_client.post(
        "/device-roaming-status/v1/retrieve", {}, format="json", headers=headers
    )
    both = api_client.post(
        "/device-roaming-status/v1/retrieve",
        {"device": {"phoneNumber": line}}, format="json", headers=headers,
    )  # fmt: skip
    missing = client.post("/device-roaming-status/v1/retrieve", {})
    unsupported = client.post(
        "/device-roaming-status/v1/retrieve", {"device": {"networkAccessIdentifier": "a@b"}}
    )

    assert (by_token.status_code, by_token.json()["roaming"]) == (200, True)
    assert (both.status_code, both.json()["code"]) == (422, "UNNECESSARY_IDENTIFIER")
    assert (missing.status_code, missing.json()["code"]) == (422, "MISSING_IDENTIFIER")
    assert unsupported.json()["code"] == "UNSUPPORTED_IDENTIFIER"
