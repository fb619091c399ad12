"""The WeChat official-account server (公众平台), as a platform meets it, under ``/mp/``.

- ``cgi-bin/token``: the access token for the configured appid and secret (signed, 2 h).
- ``connect/oauth2/authorize``: the authorize page; "allow" sends the browser back to
  ``redirect_uri`` with a one-time ``code`` (the openid is chosen on the page).
- ``sns/oauth2/access_token``: the code exchanged for the openid (once, within 5 minutes).
- ``cgi-bin/message/template/send`` and ``cgi-bin/menu/create``: kept and listed on ``/mp/``.
- ``/mp/`` (page) and ``sandbox/push`` (JSON): a follower's message or event, as XML signed
  with the server token (sha1 of the sorted token, timestamp and nonce), pushed to the
  platform's server URL; the platform's reply is shown.

Errors follow WeChat: HTTP 200 with ``{"errcode": n, "errmsg": "..."}``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.sandbox.jsonapi import json_response
from apps.sandbox.models import MpOAuthCode, MpReceived

TOKEN_SALT = "sandbox.mp.token"  # noqa: S105  (a signing salt, not a secret)
TOKEN_TTL_S = 7200
CODE_TTL = timedelta(minutes=5)


def _error(errcode: int, errmsg: str) -> HttpResponse:
    return json_response({"errcode": errcode, "errmsg": errmsg})


def _app_error(appid: str, secret: str) -> HttpResponse | None:
    if appid != settings.WECHAT_MP_APP_ID:
        return _error(40013, "invalid appid")
    if not secrets.compare_digest(secret.encode(), settings.WECHAT_MP_APP_SECRET.encode()):
        return _error(40001, "invalid credential, secret is invalid")
    return None


def token(request: HttpRequest) -> HttpResponse:
    refused = _app_error(request.GET.get("appid", ""), request.GET.get("secret", ""))
    if refused is not None:
        return refused
    access_token = signing.dumps({"appid": request.GET["appid"]}, salt=TOKEN_SALT)
    return json_response({"access_token": access_token, "expires_in": TOKEN_TTL_S})


def _token_appid(request: HttpRequest) -> str | None:
    try:
        data = signing.loads(
            request.GET.get("access_token", ""), salt=TOKEN_SALT, max_age=TOKEN_TTL_S
        )
    except signing.BadSignature:
        return None
    return str(data["appid"])


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _authorized_body(request: HttpRequest) -> tuple[str, dict[str, Any]] | HttpResponse:
    """The appid of a valid ``access_token`` and the JSON body, or WeChat's error."""
    appid = _token_appid(request)
    if appid is None:
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    body = _json_body(request)
    if body is None:
        return _error(47001, "data format error")
    return appid, body


@require_http_methods(["POST"])
def template_send(request: HttpRequest) -> HttpResponse:
    checked = _authorized_body(request)
    if isinstance(checked, HttpResponse):
        return checked
    appid, body = checked
    if not str(body.get("touser", "")):
        return _error(40003, "invalid openid")
    if not str(body.get("template_id", "")) or not isinstance(body.get("data"), dict):
        return _error(40037, "invalid template_id")
    row = MpReceived.objects.create(
        kind=MpReceived.Kind.TEMPLATE, appid=appid, openid=body["touser"],
        template_id=body["template_id"], body=body,
    )  # fmt: skip
    return json_response({"errcode": 0, "errmsg": "ok", "msgid": row.pk})


@require_http_methods(["POST"])
def menu_create(request: HttpRequest) -> HttpResponse:
    checked = _authorized_body(request)
    if isinstance(checked, HttpResponse):
        return checked
    appid, body = checked
    buttons = body.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return _error(40016, "invalid button size")
    MpReceived.objects.create(kind=MpReceived.Kind.MENU, appid=appid, body=body)
    return json_response({"errcode": 0, "errmsg": "ok"})


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """GET shows who signs in; POST (allow) sends the browser back with a one-time code."""
    params = request.GET if request.method == "GET" else request.POST
    appid, redirect_uri = params.get("appid", ""), params.get("redirect_uri", "")
    if appid != settings.WECHAT_MP_APP_ID or not redirect_uri.startswith(("http://", "https://")):
        return HttpResponse("appid 或 redirect_uri 无效", status=400)
    if request.method == "GET":
        context = {"appid": appid, "redirect_uri": redirect_uri,
                   "state": params.get("state", ""), "scope": params.get("scope", ""),
                   "openid": "o" + secrets.token_urlsafe(20)}  # fmt: skip
        return render(request, "sandbox/mp_authorize.html", context)
    openid = params.get("openid", "").strip()[:64] or "o" + secrets.token_urlsafe(20)
    code = secrets.token_urlsafe(24)
    MpOAuthCode.objects.create(code=code, appid=appid, openid=openid)
    parts = urlsplit(redirect_uri)
    query = "&".join(
        q for q in (parts.query, urlencode({"code": code, "state": params.get("state", "")})) if q
    )
    return HttpResponseRedirect(urlunsplit(parts._replace(query=query)))


def oauth_access_token(request: HttpRequest) -> HttpResponse:
    refused = _app_error(request.GET.get("appid", ""), request.GET.get("secret", ""))
    if refused is not None:
        return refused
    with transaction.atomic():
        row = (
            MpOAuthCode.objects.select_for_update()
            .filter(code=request.GET.get("code", ""), appid=request.GET["appid"])
            .first()
        )
        if row is None or row.used_at is not None or timezone.now() > row.created_at + CODE_TTL:
            return _error(40029, "invalid code")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
    return json_response({
        "access_token": secrets.token_urlsafe(32), "expires_in": TOKEN_TTL_S,
        "refresh_token": secrets.token_urlsafe(32), "openid": row.openid, "scope": "snsapi_base",
    })  # fmt: skip


def _signature(token_value: str, timestamp: str, nonce: str) -> str:
    joined = "".join(sorted([token_value, timestamp, nonce]))
    return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324  (WeChat's signature rule)


def _message_xml(*, openid: str, kind: str, content: str, key: str, msg_id: int) -> str:
    head = (f"<ToUserName><![CDATA[{settings.WECHAT_MP_APP_ID}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>")  # fmt: skip
    if kind == "text":
        tail = (f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
                f"<MsgId>{msg_id}</MsgId>")  # fmt: skip
    elif kind == "click":
        tail = ("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event>"
                f"<EventKey><![CDATA[{key}]]></EventKey>")  # fmt: skip
    else:
        tail = "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
    return f"<xml>{head}{tail}</xml>"


def push(*, openid: str, kind: str, content: str = "", key: str = "", msg_id: int | None = None,
         url: str = "", bad_signature: bool = False) -> tuple[int, str]:  # fmt: skip
    """Push one signed message to the platform; its status and reply body."""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    signature = _signature(settings.WECHAT_MP_TOKEN, timestamp, nonce)
    if bad_signature:
        signature = _signature("not-the-token", timestamp, nonce)
    xml = _message_xml(openid=openid, kind=kind, content=content, key=key,
                       msg_id=msg_id or secrets.randbelow(10**15))  # fmt: skip
    response = httpx.post(
        url or settings.WECHAT_MP_PLATFORM_URL,
        params={"signature": signature, "timestamp": timestamp, "nonce": nonce},
        content=xml.encode(), headers={"Content-Type": "text/xml"}, timeout=5,
    )  # fmt: skip
    return response.status_code, response.text


@require_http_methods(["POST"])
def push_api(request: HttpRequest) -> HttpResponse:
    body = _json_body(request) or {}
    kind = str(body.get("type", "text"))
    if kind not in ("text", "click", "subscribe") or not body.get("openid"):
        return json_response({"code": "INVALID_ARGUMENT", "message": "openid and type"}, 400)
    try:
        status, reply = push(
            openid=str(body["openid"]), kind=kind, content=str(body.get("content", "")),
            key=str(body.get("key", "")), msg_id=body.get("msg_id"), url=str(body.get("url", "")),
            bad_signature=bool(body.get("bad_signature")),
        )  # fmt: skip
    except httpx.HTTPError as exc:
        return json_response({"code": "PLATFORM_UNREACHABLE", "message": str(exc)}, 502)
    return json_response({"status": status, "reply": reply})


def received_api(request: HttpRequest) -> HttpResponse:
    rows = MpReceived.objects.order_by("-pk")
    if request.GET.get("openid"):
        rows = rows.filter(openid=request.GET["openid"])
    if request.GET.get("kind"):
        rows = rows.filter(kind=request.GET["kind"])
    items = [{"id": r.pk, "kind": r.kind, "openid": r.openid, "template_id": r.template_id,
              "body": r.body, "created_at": r.created_at.isoformat()} for r in rows[:50]]  # fmt: skip
    return json_response({"items": items})


@require_http_methods(["GET", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    """What platforms sent (template messages, menus), and a form that pushes a message."""
    result = None
    if request.method == "POST":
        try:
            result = push(
                openid=request.POST.get("openid", "").strip() or "o-sandbox-follower",
                kind=request.POST.get("type", "text"), content=request.POST.get("content", ""),
                key=request.POST.get("key", ""),
            )  # fmt: skip
        except httpx.HTTPError as exc:
            result = (0, f"平台不可达: {exc}")
    context = {
        "templates": MpReceived.objects.filter(kind=MpReceived.Kind.TEMPLATE).order_by("-pk")[:50],
        "menu": MpReceived.objects.filter(kind=MpReceived.Kind.MENU).order_by("-pk").first(),
        "result": result, "platform_url": settings.WECHAT_MP_PLATFORM_URL,
        "openid": request.POST.get("openid", ""),
    }  # fmt: skip
    return render(request, "sandbox/mp.html", context)


urlpatterns = [
    path("", page, name="mp"),
    path("cgi-bin/token", token, name="mp-token"),
    path("cgi-bin/message/template/send", template_send, name="mp-template-send"),
    path("cgi-bin/menu/create", menu_create, name="mp-menu-create"),
    path("connect/oauth2/authorize", authorize, name="mp-authorize"),
    path("sns/oauth2/access_token", oauth_access_token, name="mp-oauth-token"),
    path("sandbox/push", push_api, name="mp-push"),
    path("sandbox/received", received_api, name="mp-received"),
]
