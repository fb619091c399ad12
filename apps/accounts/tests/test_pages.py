"""The sign-in, profile and sign-out pages, in Chinese by default and in English on request."""

import pytest

from apps.accounts import services
from apps.accounts.models import OtpChallenge, User

pytestmark = pytest.mark.django_db


def test_sign_in_page_is_chinese_by_default(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    text = response.content.decode()
    assert '<html lang="zh-hans">' in text
    assert "获取验证码" in text
    assert 'autocomplete="one-time-code"' in text


def test_sign_in_page_in_english(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Send code" in response.content.decode()


def test_send_then_sign_in_through_the_page(client):
    sent = client.post("/accounts/login/", {"phone": "13800138000", "action": "send"})
    assert sent.status_code == 200
    assert "138****8000" in sent.content.decode()
    # The page never shows the code; the test reads it by asking for a fresh one in the service.
    OtpChallenge.objects.all().delete()
    issued = services.otp_request(phone="13800138000", ip=None)
    done = client.post(
        "/accounts/login/",
        {
            "phone": "13800138000",
            "code": issued.code,
            "action": "login",
            "next": "/accounts/profile/",
        },
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/profile/"
    profile = client.get("/accounts/profile/")
    assert "138 0013 8000" in profile.content.decode()


def test_page_errors_are_form_errors_not_500(client):
    bad_phone = client.post("/accounts/login/", {"phone": "123", "action": "send"})
    assert bad_phone.status_code == 400
    assert "有效的手机号" in bad_phone.content.decode()
    no_code = client.post("/accounts/login/", {"phone": "13800138000", "action": "login"})
    assert no_code.status_code == 200
    assert "请输入短信中的验证码" in no_code.content.decode()
    never_sent = client.post(
        "/accounts/login/", {"phone": "13800138000", "code": "123456", "action": "login"}
    )
    assert never_sent.status_code == 400
    assert not User.objects.exists()


def test_open_redirect_is_not_followed(client):
    issued = services.otp_request(phone="13800138000", ip=None)
    done = client.post(
        "/accounts/login/",
        {
            "phone": "13800138000",
            "code": issued.code,
            "action": "login",
            "next": "https://evil.example/",
        },
    )
    assert done["Location"] == "/accounts/profile/"


def test_profile_requires_login_and_real_name_form_errors(client):
    assert client.get("/accounts/profile/")["Location"].startswith("/accounts/login/")
    user = User.objects.create_user("13800138000")
    client.force_login(user)
    bad = client.post("/accounts/profile/", {"name": "张三", "id_number": "110105194912310021"})
    assert bad.status_code == 400
    assert "身份证号" in bad.content.decode()
    good = client.post("/accounts/profile/", {"name": "张三", "id_number": "11010519491231002X"})
    assert good.status_code == 302
    page = client.get("/accounts/profile/").content.decode()
    assert "1101**********002X" in page and "11010519491231002X" not in page


def test_sign_out_is_post_only(client):
    user = User.objects.create_user("13800138000")
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/accounts/profile/").status_code == 302


def test_profile_shows_the_lines_balance_from_the_carrier(client, carrier_sandbox):
    client.force_login(User.objects.create_user("13800138000"))
    page = client.get("/accounts/profile/").content.decode()
    # Operator and status in the buyer's words, never the codes (CMCC, active).
    assert "中国移动" in page and "正常" in page
    assert "CMCC" not in page and "active" not in page
    assert "¥" in page


def test_profile_survives_the_carrier_being_down(client, settings):
    settings.CARRIER_BASE_URL = "http://127.0.0.1:9"
    settings.CARRIER_MAX_ATTEMPTS = 1
    client.force_login(User.objects.create_user("13800138000"))
    response = client.get("/accounts/profile/")
    assert response.status_code == 200
    assert "暂时无法查询" in response.content.decode()


def test_send_counts_down_and_a_used_code_is_called_used(client):
    sent = client.post("/accounts/login/", {"phone": "13800138000", "action": "send"})
    assert 'data-countdown="60"' in sent.content.decode()
    again = client.post("/accounts/login/", {"phone": "13800138000", "action": "send"})
    assert again.status_code == 429
    assert 'data-countdown="' in again.content.decode()
    OtpChallenge.objects.all().delete()
    issued = services.otp_request(phone="13800138000", ip=None)
    form = {"phone": "13800138000", "code": issued.code, "action": "login"}
    assert client.post("/accounts/login/", form).status_code == 302
    client.post("/accounts/logout/")
    reused = client.post("/accounts/login/", form).content.decode()
    assert "该验证码已使用" in reused and "尚未" not in reused
