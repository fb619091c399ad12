"""Test helpers: messages pushed to /wechat/mp/ the way WeChat signs them, and the sandbox
playing WeChat's servers."""

from __future__ import annotations

import hashlib
import time

import pytest
from django.conf import settings
from wechatpy import parse_message


def signed_params(token: str | None = None, **extra: str) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), "n0nce"
    parts = sorted([token or settings.WECHAT_MP_TOKEN, timestamp, nonce])
    signature = hashlib.sha1("".join(parts).encode()).hexdigest()  # noqa: S324  (WeChat's rule)
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, **extra}


def text_xml(openid: str, content: str, msg_id: int = 1001) -> str:
    return (f"<xml><ToUserName><![CDATA[{settings.WECHAT_MP_APP_ID}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}"
            f"</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]>"
            f"</Content><MsgId>{msg_id}</MsgId></xml>")  # fmt: skip


def event_xml(openid: str, event: str, key: str = "", at: int | None = None) -> str:
    return (f"<xml><ToUserName><![CDATA[{settings.WECHAT_MP_APP_ID}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{at or int(time.time())}"
            f"</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
            f"<EventKey><![CDATA[{key}]]></EventKey></xml>")  # fmt: skip


def push(client, xml: str, **params: str):
    query = "&".join(f"{k}={v}" for k, v in (params or signed_params()).items())
    return client.post(f"/wechat/mp/?{query}", xml, content_type="text/xml")


def reply_text(response) -> str:
    """The content of the passive text reply, parsed with wechatpy."""
    assert response.status_code == 200, response.content
    return str(parse_message(response.content).content)


@pytest.fixture
def mp_sandbox(carrier_sandbox, settings):
    """The sandbox (which also plays WeChat's servers), and wechatpy pointed at it."""
    settings.WECHAT_MP_API_BASE = f"{carrier_sandbox.url}/mp"
    return carrier_sandbox
