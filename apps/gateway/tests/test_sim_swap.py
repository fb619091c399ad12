"""SIM swap through the whole pipeline (signed requests and tokens) against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.gateway.tests.capability_support import sim_swap_at
from apps.gateway.tests.support import SignedClient, bearer_token, gateway_app_create
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(db):
    return SignedClient(gateway_app_create(capabilities=["sim-swap"]))


def test_check_and_retrieve_date_of_a_line_swapped_30_days_ago(carrier_sandbox, client):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    swapped_at = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
    sim_swap_at(carrier_sandbox, msisdn, swapped_at)

    within_10_days = client.post("/sim-swap/v2/check", {"phoneNumber": msisdn, "maxAge": 240})
    within_50_days = client.post("/sim-swap/v2/check", {"phoneNumber": msisdn, "maxAge": 1200})
    default_age = client.post("/sim-swap/v2/check", {"phoneNumber": msisdn})
    date = client.post("/sim-swap/v2/retrieve-date", {"phoneNumber": msisdn})

    assert (within_10_days.status_code, within_10_days.json()) == (200, {"swapped": False})
    assert within_50_days.json() == {"swapped": True}
    assert default_age.json() == {"swapped": False}
    assert date.status_code == 200
    assert date.json() == {
        "latestSimChange": swapped_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    }
    assert within_10_days["x-correlator"]


def test_a_recent_swap_is_seen_with_a_bearer_token(carrier_sandbox, db, api_client):
    app = gateway_app_create(capabilities=["sim-swap"])
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    sim_swap_at(carrier_sandbox, msisdn, datetime.now(UTC) - timedelta(hours=2))
    token = bearer_token(client_id=app.client_id, secret=app.secret, scope="sim-swap:check")

    answer = api_client.post(
        "/sim-swap/v2/check",
        {"phoneNumber": msisdn, "maxAge": 3},
        format="json",
        headers={"Authorization": f"Bearer {token}", "x-correlator": "abc-123"},
    )
    other_scope = api_client.post(
        "/sim-swap/v2/retrieve-date",
        {"phoneNumber": msisdn},
        format="json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert (answer.status_code, answer.json()) == (200, {"swapped": True})
    assert answer["x-correlator"] == "abc-123"
    assert (other_scope.status_code, other_scope.json()["code"]) == (403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phoneNumber": "+8613912345672"}, 404, "IDENTIFIER_NOT_FOUND"),
        ({"phoneNumber": "+8618612345678"}, 422, "SERVICE_NOT_APPLICABLE"),
        ({"phoneNumber": "+346661113334"}, 422, "SERVICE_NOT_APPLICABLE"),
        ({}, 422, "MISSING_IDENTIFIER"),
        ({"phoneNumber": "+8613800138000", "maxAge": 0}, 400, "OUT_OF_RANGE"),
        ({"phoneNumber": "+8613800138000", "maxAge": 2401}, 400, "OUT_OF_RANGE"),
        ({"phoneNumber": "13800138000"}, 400, "INVALID_ARGUMENT"),
        ({"phoneNumber": "+8613800138000", "imsi": "1"}, 400, "INVALID_ARGUMENT"),
    ],
)
def test_check_refusals(carrier_sandbox, client, body, status, code):
    answer = client.post("/sim-swap/v2/check", body)

    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert set(answer.json()) >= {"status", "code", "message"}


def test_the_carrier_down_is_503_unavailable(carrier_sandbox, client):
    carrier_sandbox.set_knobs(error_rate=1.0)

    answer = client.post("/sim-swap/v2/check", {"phoneNumber": "+8613800138000"})

    assert (answer.status_code, answer.json()["code"]) == (503, "UNAVAILABLE")


@pytest.mark.django_db
def test_a_database_outage_on_a_capability_path_is_camaras_json_503(monkeypatch):
    """A partner's program gets the JSON error body, not the site's HTML page, however little
    it accepts: a request that fails before the capability answers (here the database)."""
    from django.db import OperationalError
    from django.test import Client

    from apps.gateway.api.base import CapabilityView

    def down(self, request):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(CapabilityView, "_admit", down)
    client = Client(raise_request_exception=False)
    response = client.post(
        "/sim-swap/v2/check", {"phoneNumber": "+8613800138000"}, content_type="application/json"
    )
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "UNAVAILABLE"
    assert response["Retry-After"] == "5"
