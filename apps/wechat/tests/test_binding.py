"""OAuth web sign-in through the sandbox's authorize page, then the number proved by SMS code:
the openid is bound to the user; one openid to one user, and rebinding is explicit."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apps.accounts import services as accounts
from apps.accounts.models import OtpChallenge, User, WechatBinding
from apps.accounts.selectors import wechat_user_for_openid
from apps.wechat.tests.support import mp_sandbox  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
PHONE = "13800138000"


def _authorize(client, sandbox, openid: str):
    """Follow /wechat/oauth/ to the sandbox's authorize page, allow as ``openid``, and come
    back to the callback with the code."""
    start = client.get("/wechat/oauth/")
    assert start.status_code == 302
    url = urlsplit(start["Location"])
    assert f"{url.scheme}://{url.netloc}" == sandbox.url
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    page = httpx.get(start["Location"].split("#")[0])
    assert page.status_code == 200 and "允许" in page.text
    allowed = httpx.post(f"{sandbox.url}{url.path}", data={**params, "openid": openid})
    assert allowed.status_code == 302
    back = urlsplit(allowed.headers["location"])
    return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})


def _code(phone: str) -> str:
    """The page never shows the code; the test asks for a fresh one in the service."""
    OtpChallenge.objects.all().delete()
    return accounts.otp_request(phone=phone, ip=None).code


def _bind(client, phone: str, **extra: str):
    sent = client.post("/wechat/bind/", {"phone": phone, "action": "send"})
    assert sent.status_code == 200
    return client.post(
        "/wechat/bind/", {"phone": phone, "code": _code(phone), "action": "bind", **extra}
    )


def test_oauth_then_sms_code_binds_the_openid(client, mp_sandbox):  # noqa: F811
    callback = _authorize(client, mp_sandbox, "o-alice")
    assert (callback.status_code, callback["Location"]) == (302, "/wechat/bind/")

    done = _bind(client, PHONE)

    assert (done.status_code, done["Location"]) == (302, "/wechat/bound/")
    user = User.objects.get(phone="+8613800138000")
    assert wechat_user_for_openid(openid="o-alice") == user.pk
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_bound_follower_is_signed_in_by_oauth_alone(client, mp_sandbox):  # noqa: F811
    user = User.objects.create_user(PHONE)
    WechatBinding.objects.create(user=user, openid="o-bob")

    callback = _authorize(client, mp_sandbox, "o-bob")

    assert (callback.status_code, callback["Location"]) == (302, "/wechat/bound/")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_code_binds_nothing(client, mp_sandbox):  # noqa: F811
    _authorize(client, mp_sandbox, "o-carol")
    client.post("/wechat/bind/", {"phone": PHONE, "action": "send"})

    wrong = client.post("/wechat/bind/", {"phone": PHONE, "code": "000000", "action": "bind"})

    assert wrong.status_code == 400
    assert not WechatBinding.objects.exists()


def test_a_code_is_exchanged_once_and_a_forged_state_is_refused(client, mp_sandbox):  # noqa: F811
    start = client.get("/wechat/oauth/")
    url = urlsplit(start["Location"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    allowed = httpx.post(f"{mp_sandbox.url}{url.path}", data={**params, "openid": "o-dave"})
    query = {k: v[0] for k, v in parse_qs(urlsplit(allowed.headers["location"]).query).items()}

    forged = client.get("/wechat/oauth/callback/", {**query, "state": "forged"})
    assert (forged.status_code, forged.json()["code"]) == (400, "WECHAT_OAUTH_FAILED")
    # The state was spent by the forged try; a new start gets a new one, the old code is reused.
    client.get("/wechat/oauth/")
    session_state = client.session["wechat_oauth_state"]
    first = client.get("/wechat/oauth/callback/", {**query, "state": session_state})
    assert first.status_code == 302
    client.get("/wechat/oauth/")
    again = client.get(
        "/wechat/oauth/callback/", {**query, "state": client.session["wechat_oauth_state"]}
    )
    assert (again.status_code, again.json()["details"]["reason"]) == (400, "code")


def test_one_openid_one_user_and_rebinding_is_explicit(client, mp_sandbox):  # noqa: F811
    other = User.objects.create_user("13900139000")
    WechatBinding.objects.create(user=other, openid="o-erin")
    # The openid belongs to someone else: refused.
    _authorize(client, mp_sandbox, "o-erin")
    assert client.session["_auth_user_id"] == str(other.pk)  # signed in as its owner
    client.logout()

    # The number is bound to another openid: refused unless rebind is ticked.
    me = User.objects.create_user(PHONE)
    WechatBinding.objects.create(user=me, openid="o-old")
    _authorize(client, mp_sandbox, "o-new")
    client.post("/wechat/bind/", {"phone": PHONE, "action": "send"})
    OtpChallenge.objects.all().delete()
    code = accounts.otp_request(phone=PHONE, ip=None).code
    refused = client.post("/wechat/bind/", {"phone": PHONE, "code": code, "action": "bind"})
    assert refused.status_code == 409
    assert "rebind" in refused.content.decode()
    assert wechat_user_for_openid(openid="o-old") == me.pk
    # The refused try did not spend the code.
    assert OtpChallenge.objects.get().consumed_at is None

    rebound = client.post(
        "/wechat/bind/", {"phone": PHONE, "code": code, "action": "bind", "rebind": "1"}
    )

    assert rebound.status_code == 302
    assert wechat_user_for_openid(openid="o-new") == me.pk
    assert wechat_user_for_openid(openid="o-old") is None


def test_binding_an_openid_of_another_user_is_refused():
    a, b = User.objects.create_user(PHONE), User.objects.create_user("13900139000")
    accounts.wechat_bind(user_id=a.pk, openid="o-frank")

    with pytest.raises(accounts.WechatBoundElsewhere):
        accounts.wechat_bind(user_id=b.pk, openid="o-frank", rebind=True)
    assert accounts.wechat_bind(user_id=a.pk, openid="o-frank").user_id == a.pk


def test_a_disabled_users_binding_signs_nobody_in(client, mp_sandbox):  # noqa: F811
    user = User.objects.create_user(PHONE, is_active=False)
    WechatBinding.objects.create(user=user, openid="o-gone")

    callback = _authorize(client, mp_sandbox, "o-gone")

    assert (callback.status_code, callback.json()["code"]) == (403, "ACCOUNT_DISABLED")
    assert "_auth_user_id" not in client.session
