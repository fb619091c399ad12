"""Every API refusal has the body {status, code, message}; bad input never gives a 500."""

import pytest


@pytest.mark.django_db
def test_validation_error_body(api_client):
    response = api_client.post("/api/v1/auth/otp/", {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "INVALID_ARGUMENT"
    assert body["message"]
    assert "phone" in body["details"]


@pytest.mark.django_db
def test_unknown_fields_are_refused(api_client):
    response = api_client.post(
        "/api/v1/auth/otp/", {"phone": "13800138000", "admin": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"admin": ["Unknown field."]}


@pytest.mark.django_db
def test_unauthenticated_body(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.django_db
def test_malformed_json_is_a_400(api_client):
    response = api_client.post(
        "/api/v1/auth/otp/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"


@pytest.mark.django_db
def test_wrong_method_body(api_client):
    response = api_client.get("/api/v1/auth/otp/")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.django_db
def test_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/auth/otp/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"//cdn" not in docs.content and b"unpkg" not in docs.content
    assert b"/static/drf_spectacular_sidecar/" in docs.content


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "code": "NOT_FOUND", "message": "未找到。"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert "text/html" in page["Content-Type"]


@pytest.mark.django_db
def test_session_sign_out_through_the_api_ends_the_session(client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("13800138000"))
    assert client.get("/api/v1/me/").status_code == 200
    csrf_client = client
    assert csrf_client.post("/api/v1/auth/sign-out/").status_code == 204
    assert client.get("/api/v1/me/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("accept", "json_body"), [("application/json", True), ("text/html", False)]
)
def test_a_database_outage_is_a_503_with_retry_after_not_a_500(
    client, monkeypatch, accept, json_body
):
    """PostgreSQL down or restarting (tests/faults/test_postgres_restart.py does it for real):
    clients are told to come back, not that the server is broken."""
    from django.db import OperationalError

    def down() -> None:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr("apps.core.views.health_report", down)
    client.raise_request_exception = False
    response = client.get("/healthz", HTTP_ACCEPT=accept)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    if json_body:
        assert response.json()["code"] == "UNAVAILABLE"
    else:
        assert "稍后" in response.content.decode()


def test_other_unexpected_errors_stay_500(client, monkeypatch):
    def broken() -> None:
        raise ValueError("a bug")

    monkeypatch.setattr("apps.core.views.health_report", broken)
    client.raise_request_exception = False
    response = client.get("/healthz", HTTP_ACCEPT="application/json")
    assert (response.status_code, response.json()["code"]) == (500, "INTERNAL")
