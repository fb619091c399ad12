"""The accounts API end to end through DRF: codes, sign-in, token use, profile, real name."""

import pytest

from apps.accounts import services
from apps.accounts.models import OtpChallenge

pytestmark = pytest.mark.django_db
PHONE = "+8613800138000"


def _sign_in(api_client) -> dict:
    issued = services.otp_request(phone=PHONE, ip=None)
    response = api_client.post(
        "/api/v1/auth/sign-in/", {"phone": "13800138000", "code": issued.code}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_request_code(api_client):
    response = api_client.post("/api/v1/auth/otp/", {"phone": "13800138000"}, format="json")
    assert response.status_code == 202
    assert response.json() == {"phone": PHONE, "expires_in": 300, "resend_after": 60}
    assert "code" not in response.json()


def test_request_code_refusals_say_why(api_client):
    bad = api_client.post("/api/v1/auth/otp/", {"phone": "12345"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "INVALID_PHONE_NUMBER"
    api_client.post("/api/v1/auth/otp/", {"phone": "13800138000"}, format="json")
    again = api_client.post("/api/v1/auth/otp/", {"phone": "13800138000"}, format="json")
    assert again.status_code == 429
    assert again.json()["code"] == "OTP_RESEND_COOLDOWN"
    assert 1 <= int(again["Retry-After"]) <= 61
    assert OtpChallenge.objects.count() == 1


def test_sign_in_returns_token_that_reads_profile_and_real_name(api_client):
    body = _sign_in(api_client)
    assert body["created"] is True
    assert body["user"]["phone"] == PHONE
    assert body["user"]["roles"] == ["consumer"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")

    me = api_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["real_name"] is None

    bad = api_client.post(
        "/api/v1/me/real-name/", {"name": "张三", "id_number": "110105194912310021"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "INVALID_ID_NUMBER"
    ok = api_client.post(
        "/api/v1/me/real-name/", {"name": "张三", "id_number": "11010519491231002X"}, format="json"
    )
    assert ok.status_code == 201
    assert ok.json()["real_name"]["id_number_masked"] == "1101**********002X"
    again = api_client.post(
        "/api/v1/me/real-name/", {"name": "张三", "id_number": "11010519491231002X"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "REAL_NAME_ALREADY_VERIFIED"


def test_wrong_code_then_sign_out_revokes_token(api_client):
    services.otp_request(phone=PHONE, ip=None)
    wrong = api_client.post("/api/v1/auth/sign-in/", {"phone": PHONE, "code": "abc"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "OTP_INVALID"
    assert wrong.json()["details"] == {"attempts_left": 4}

    OtpChallenge.objects.all().delete()
    body = _sign_in(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert api_client.post("/api/v1/auth/sign-out/").status_code == 204
    after = api_client.get("/api/v1/me/")
    assert after.status_code == 401
    assert after.json()["code"] == "UNAUTHENTICATED"


def test_garbage_bearer_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer chk_nope")
    assert api_client.get("/api/v1/me/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer a b")
    assert api_client.get("/api/v1/me/").status_code == 401
