"""wechatpy clients pointed at ``WECHAT_MP_API_BASE`` (WeChat's servers, or the sandbox that
plays them): the API client (access token cached in Redis) and the OAuth client."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from wechatpy.client import WeChatClient
from wechatpy.oauth import WeChatOAuth
from wechatpy.session.redisstorage import RedisStorage

from apps.core.redis import get_redis


class MpClient(WeChatClient):
    """wechatpy's client with every call, the token's too, under the configured base URL
    (wechatpy hard-codes the token URL; the rest follows ``API_BASE_URL``)."""

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def mp_client() -> MpClient:
    client = MpClient(
        settings.WECHAT_MP_APP_ID,
        settings.WECHAT_MP_APP_SECRET,
        session=RedisStorage(get_redis(), prefix="wechat:mp"),
        timeout=5,
    )
    client.API_BASE_URL = f"{settings.WECHAT_MP_API_BASE.rstrip('/')}/cgi-bin/"
    return client


def mp_oauth(*, redirect_uri: str, state: str = "") -> WeChatOAuth:
    oauth = WeChatOAuth(
        settings.WECHAT_MP_APP_ID, settings.WECHAT_MP_APP_SECRET, redirect_uri,
        scope="snsapi_base", state=state,
    )  # fmt: skip
    base = settings.WECHAT_MP_API_BASE.rstrip("/")
    oauth.API_BASE_URL = f"{base}/"
    oauth.OAUTH_BASE_URL = f"{base}/connect/"
    return oauth
