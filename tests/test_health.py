"""/healthz reports the database, Redis and the carrier; 503 when one is down."""

import pytest


@pytest.mark.django_db
def test_all_up(client, carrier_sandbox):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "carrier": True,
    }


@pytest.mark.django_db
def test_carrier_down_is_503(client, settings):
    settings.CARRIER_BASE_URL = "http://127.0.0.1:9"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["carrier"]["ok"] is False
    assert "CarrierUnavailable" in body["checks"]["carrier"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_redis_down_is_503(client, carrier_sandbox, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False
