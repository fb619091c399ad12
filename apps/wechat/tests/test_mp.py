"""The official account's server endpoint: signature, URL verification, replies, duplicates."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from apps.accounts.models import User, WechatBinding
from apps.wechat.models import MenuButton
from apps.wechat.tests.support import event_xml, push, reply_text, signed_params, text_xml
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db
OPENID = "o-follower-0001"


@pytest.fixture
def bound_line(carrier_sandbox):
    """A bound follower whose line has 30 yuan and 1000 MB of its 30 GB used."""
    number = unique_msisdn("187")
    carrier_sandbox.put_subscriber(number, status="active", balance_fen=3000, plan="5G-58")
    httpx.post(
        f"{carrier_sandbox.url}/sandbox/subscribers/{quote(number)}/usage",
        json={"mb": 1000}, headers={"X-Api-Key": carrier_sandbox.api_key},
    ).raise_for_status()  # fmt: skip
    user = User.objects.create_user(number[3:])
    WechatBinding.objects.create(user=user, openid=OPENID)
    return number


def test_url_verification_echoes_echostr(client):
    response = client.get("/wechat/mp/", signed_params(echostr="e-12345"))

    assert (response.status_code, response.content) == (200, b"e-12345")


def test_a_wrong_signature_is_refused_and_nothing_is_processed(client, bound_line):
    bad = signed_params(token="not-the-token")

    verify = client.get("/wechat/mp/", {**bad, "echostr": "e-1"})
    message = push(client, text_xml(OPENID, "话费", msg_id=77), **bad)

    assert (verify.status_code, verify.json()["code"]) == (403, "WECHAT_BAD_SIGNATURE")
    assert (message.status_code, message.json()["code"]) == (403, "WECHAT_BAD_SIGNATURE")
    # Not even marked as seen: the same message, signed right, is answered.
    assert "¥30.00" in reply_text(push(client, text_xml(OPENID, "话费", msg_id=77)))


@pytest.mark.parametrize("body", ["not xml", "<xml></xml>", "<a>1</a>"])
def test_a_malformed_body_is_a_400_with_a_code(client, body):
    response = push(client, body)

    assert (response.status_code, response.json()["code"]) == (400, "WECHAT_BAD_MESSAGE")


def test_a_missing_signature_is_refused(client):
    assert client.get("/wechat/mp/", {"echostr": "x"}).status_code == 403


def test_keyword_huafei_replies_with_the_balance(client, bound_line):
    text = reply_text(push(client, text_xml(OPENID, "话费")))

    assert (
        text == f"Balance of {bound_line}: ¥30.00." or text == f"{bound_line} 的话费余额：¥30.00。"
    )


def test_keyword_liuliang_replies_with_data_left(client, bound_line):
    text = reply_text(push(client, text_xml(OPENID, "流量", msg_id=1002)))

    assert text == f"{bound_line} 剩余流量：29720 MB（共 30720 MB）。"


def test_an_unbound_follower_gets_the_bind_link(client, carrier_sandbox):
    text = reply_text(push(client, text_xml("o-stranger", "话费")))

    assert text == "请先绑定手机号：http://127.0.0.1:8000/wechat/oauth/"


def test_subscribe_welcomes_and_offers_binding(client):
    text = reply_text(push(client, event_xml("o-new", "subscribe")))

    assert "话费" in text and "/wechat/oauth/" in text


def test_menu_clicks_reply_by_key(client, bound_line):
    MenuButton.objects.create(name="活动", kind="click", key="PROMO", reply_text="本月充100送10")

    balance = reply_text(push(client, event_xml(OPENID, "CLICK", key="BALANCE", at=1700000001)))
    promo = reply_text(push(client, event_xml(OPENID, "CLICK", key="PROMO", at=1700000002)))

    assert "¥30.00" in balance
    assert promo == "本月充100送10"


def test_the_same_msgid_twice_is_processed_once(client, bound_line, monkeypatch):
    from apps.wechat import replies

    calls = []
    original = replies.line_reply
    monkeypatch.setattr(replies, "line_reply", lambda *a: calls.append(a) or original(*a))

    first = push(client, text_xml(OPENID, "话费", msg_id=555))
    second = push(client, text_xml(OPENID, "话费", msg_id=555))

    assert "¥30.00" in reply_text(first)
    assert (second.status_code, second.content) == (200, b"success")
    assert len(calls) == 1


def test_the_same_event_twice_is_processed_once(client):
    first = push(client, event_xml("o-new", "subscribe", at=1700000000))
    second = push(client, event_xml("o-new", "subscribe", at=1700000000))

    assert "话费" in reply_text(first)
    assert second.content == b"success"


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_pushes_signed_messages_to_the_platform(
    live_server, bound_line, carrier_sandbox
):
    """The sandbox's push tool signs with the server token and the platform answers it; the
    same push with a wrong signature is refused."""
    url = f"{live_server.url}/wechat/mp/"
    push_url = f"{carrier_sandbox.url}/mp/sandbox/push"

    good = httpx.post(
        push_url, json={"openid": OPENID, "type": "text", "content": "话费", "url": url}
    )
    bad = httpx.post(push_url, json={"openid": OPENID, "type": "text", "content": "话费",
                                     "url": url, "bad_signature": True})  # fmt: skip

    assert good.status_code == 200 and good.json()["status"] == 200
    assert "¥30.00" in good.json()["reply"]
    assert bad.json()["status"] == 403
