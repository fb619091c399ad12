"""WeChat Pay APIv3 as the sandbox plays it: signed API, a cashier page, signed encrypted notifications.

Requests must carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,
signature=…,timestamp=…,serial_no=…`` signed with the merchant's key ("wechat-merchant") over
``METHOD\\nPATH?QUERY\\ntimestamp\\nnonce\\nbody\\n``; the path is taken from ``/v3/`` on, as
WeChat Pay sees it, whatever prefix the sandbox is mounted under. Every answer and every
notification is signed with WeChat Pay's platform key ("wechat-platform") over
``timestamp\\nnonce\\nbody\\n`` and names the platform public key id in ``Wechatpay-Serial``.
Notifications carry the transaction encrypted with the APIv3 key (AEAD_AES_256_GCM). All of it
is built on ``cryptography`` here, so the platform's SDK is checked against an independent
implementation. Trades, refunds and keys are ``common``'s; notifications are sent here because
each attempt carries its own signed headers.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.sandbox import faults
from apps.sandbox.errors import SandboxError
from apps.sandbox.faults import Fault
from apps.sandbox.models import PayNotification, PayRefund, PayTrade
from apps.sandbox.payments import common
from apps.sandbox.scheduler import call_later
from config.devkeys import dev_secret

logger = logging.getLogger(__name__)

WECHAT = PayTrade.Provider.WECHAT
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW_S = 300
_AUTHORIZATION = re.compile(rf"^{SIGNATURE_TYPE}\s+(.+)$")
_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
_OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
_OUT_REFUND_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")
_TRADE_TYPES = {"native": "NATIVE", "h5": "MWEB", "jsapi": "JSAPI"}
_STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "订单未支付",
    "USERPAYING": "用户支付中",
    "CLOSED": "已关闭",
}
# common's refusals in WeChat Pay's words: HTTP status and code.
_REFUSALS = {
    "TRADE_CONFLICT": (403, "OUT_TRADE_NO_USED"),
    "TRADE_CLOSED": (400, "ORDER_CLOSED"),
    "TRADE_NOT_PAID": (400, "INVALID_REQUEST"),
    "REFUND_EXCEEDS": (400, "INVALID_REQUEST"),
}
_POST_TIMEOUT_S = 3.0
# Waits before the 2nd … 6th (last) delivery attempt. WeChat Pay spreads its retries over a
# day (15 s, 15 s, 30 s, 3 min …); the sandbox keeps the shape and shrinks the scale.
_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
# Between two notifications of one trade, so that they arrive in the order they were made.
_SEQUENCE_GAP_S = 0.1


# --- keys and signatures -----------------------------------------------------------------------


def _apiv3_key() -> bytes:
    return (settings.WECHAT_APIV3_KEY or dev_secret("wechat-apiv3", 32)).encode()


def wechatpay_headers(body: str) -> dict[str, str]:
    """The headers that sign an answer or a notification: ``timestamp\\nnonce\\nbody\\n``."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16).upper()
    message = f"{timestamp}\n{nonce}\n{body}\n".encode()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": common.rsa_sign(common.private_key("wechat-platform"), message),
        "Wechatpay-Serial": settings.WECHAT_PLATFORM_PUBLIC_KEY_ID,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def _merchant_signed(message: str, signature: str) -> bool:
    return common.rsa_verify(common.public_key("wechat-merchant"), message.encode(), signature)


# --- the API's plumbing ------------------------------------------------------------------------


class WechatError(Exception):
    """A refusal as WeChat Pay words it: an HTTP status and ``{"code", "message"}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    @classmethod
    def from_refusal(cls, refusal: common.PayRefusal) -> WechatError:
        status, code = _REFUSALS.get(refusal.code, (400, "INVALID_REQUEST"))
        return cls(status, code, refusal.message)


def _param_error(message: str) -> WechatError:
    return WechatError(400, "PARAM_ERROR", message)


def _signed_response(status: int, data: dict[str, Any] | None) -> HttpResponse:
    body = "" if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(body.encode(), status=status)
    if data is None:
        del response["Content-Type"]
    else:
        response["Content-Type"] = "application/json; charset=utf-8"
    for name, value in wechatpay_headers(body).items():
        response[name] = value
    response["Request-ID"] = secrets.token_hex(16)
    return response


def _authenticate(request: HttpRequest) -> str:
    """Verify the merchant's ``Authorization`` header and return its mchid."""
    match = _AUTHORIZATION.match(request.headers.get("Authorization", ""))
    if match is None:
        raise WechatError(401, "SIGN_ERROR", f"Authorization 头缺失或不是 {SIGNATURE_TYPE}")
    fields = dict(_AUTH_FIELD.findall(match.group(1)))
    if not all(fields.get(name) for name in ("mchid", "nonce_str", "signature", "timestamp")):
        raise WechatError(401, "SIGN_ERROR", "Authorization 缺少必要的字段")
    if fields["mchid"] != settings.WECHAT_MCH_ID:
        raise WechatError(400, "MCH_NOT_EXISTS", "商户号不存在")
    if fields.get("serial_no") != settings.WECHAT_MCH_CERT_SERIAL:
        raise WechatError(401, "SIGN_ERROR", "商户证书序列号有误")
    timestamp = fields["timestamp"]
    if not (timestamp.isdigit() and abs(time.time() - int(timestamp)) <= MAX_SKEW_S):
        raise WechatError(401, "SIGN_ERROR", "请求时间戳与系统时间相差超过5分钟")
    try:
        body = request.body.decode()
    except UnicodeDecodeError:
        raise WechatError(401, "SIGN_ERROR", "请求体不是 UTF-8") from None
    raw = str(request.META.get("RAW_URI") or request.get_full_path())
    url = raw[raw.find("/v3/") :]
    # Clients sign the path as written; some send it percent-encoded (``|`` → ``%7C``).
    for candidate in dict.fromkeys((url, unquote(url))):
        message = f"{request.method}\n{candidate}\n{timestamp}\n{fields['nonce_str']}\n{body}\n"
        if _merchant_signed(message, fields["signature"]):
            return fields["mchid"]
    raise WechatError(401, "SIGN_ERROR", "签名错误")


WechatView = Callable[..., tuple[int, dict[str, Any] | None]]


def wechat_api(*methods: str) -> Callable[[WechatView], Callable[..., HttpResponse]]:
    """Authenticate, play the knobs' faults, run the view and sign whatever is answered.

    The signature is checked before any fault, so that nobody without the key ties up threads.
    """

    def decorate(view: WechatView) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return _signed_response(
                    405, {"code": "METHOD_NOT_ALLOWED", "message": "请求方法不支持"}
                )
            try:
                mchid = _authenticate(request)
                plan = faults.fault_plan(headers=request.headers, knobs=faults.knobs_get())
            except WechatError as exc:
                return _signed_response(exc.status, {"code": exc.code, "message": exc.message})
            except SandboxError as exc:
                return _signed_response(400, {"code": "PARAM_ERROR", "message": exc.message})
            if plan.latency_ms:
                time.sleep(plan.latency_ms / 1000)
            if plan.fault is Fault.TIMEOUT:
                time.sleep(plan.hang_ms / 1000)
            if plan.fault in (Fault.ERROR, Fault.TIMEOUT):
                return _signed_response(500, {"code": "SYSTEM_ERROR", "message": "系统错误"})
            try:
                status, data = view(request, mchid=mchid, **kwargs)
            except WechatError as exc:
                status, data = exc.status, {"code": exc.code, "message": exc.message}
            except common.PayRefusal as exc:
                refusal = WechatError.from_refusal(exc)
                status, data = refusal.status, {"code": refusal.code, "message": refusal.message}
            if plan.fault is Fault.LOST:
                # Done, but the answer comes after the caller has given up.
                time.sleep(plan.hang_ms / 1000)
            return _signed_response(status, data)

        return wrapper

    return decorate


def _json_object(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise _param_error("请求体不是合法的 JSON") from None
    if not isinstance(data, dict):
        raise _param_error("请求体必须是 JSON 对象")
    return data


def _text(data: dict[str, Any], name: str, max_len: int, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise _param_error(f"{name} 必须是 1 到 {max_len} 个字符的字符串")
    return value


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _fen(amount: dict[str, Any], name: str) -> int:
    value = amount.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _param_error(f"amount.{name} 必须是正整数（单位：分）")
    return value


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _rfc3339(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


# --- transactions ------------------------------------------------------------------------------


def _trade_state(trade: PayTrade) -> str:
    if trade.status == PayTrade.Status.SUCCEEDED:
        return "REFUND" if PayRefund.objects.filter(trade=trade).exists() else "SUCCESS"
    return "CLOSED" if trade.status == PayTrade.Status.CLOSED else "NOTPAY"


def transaction_json(
    trade: PayTrade, *, trade_state: str | None = None, amount_delta: int = 0
) -> dict[str, Any]:
    """The transaction as the query API and the notifications show it."""
    state = trade_state or _trade_state(trade)
    total = trade.amount_fen + amount_delta
    data: dict[str, Any] = {
        "appid": trade.extra.get("appid", ""),
        "mchid": trade.merchant_id,
        "out_trade_no": trade.out_trade_no,
        "trade_type": _TRADE_TYPES.get(trade.channel, "NATIVE"),
        "trade_state": state,
        "trade_state_desc": _STATE_DESC[state],
        "attach": "",
        "amount": {"total": total, "currency": "CNY"},
    }
    if state in ("SUCCESS", "REFUND") and trade.paid_at is not None:
        data["transaction_id"] = trade.trade_no
        data["bank_type"] = "OTHERS"
        data["success_time"] = _rfc3339(trade.paid_at)
        data["payer"] = {"openid": trade.extra.get("openid", "")}
        data["amount"].update(payer_total=total, payer_currency="CNY")
    return data


def _trade_request(data: dict[str, Any], *, mchid: str, channel: str) -> common.TradeRequest:
    """Check a create request's body as WeChat Pay does; ``PARAM_ERROR`` names the field."""
    if data.get("appid") != settings.WECHAT_APP_ID:
        raise WechatError(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    if data.get("mchid") != mchid:
        raise _param_error("mchid 与 Authorization 中的商户号不一致")
    description = _text(data, "description", 127)
    out_trade_no = _text(data, "out_trade_no", 32)
    if not _OUT_TRADE_NO.match(out_trade_no):
        raise _param_error("out_trade_no 只能是 6 到 32 位数字、大小写字母或 _-|*")
    notify_url = _text(data, "notify_url", 255)
    if not _http_url(notify_url):
        raise _param_error("notify_url 必须是绝对的 http(s) 地址")
    amount = _object(data, "amount")
    total = _fen(amount, "total")
    if amount.get("currency", "CNY") != "CNY":
        raise _param_error("amount.currency 只支持 CNY")
    expires_at = None
    if time_expire := _text(data, "time_expire", 64, required=False):
        try:
            expires_at = datetime.fromisoformat(time_expire)
        except ValueError:
            raise _param_error("time_expire 须为 RFC 3339 格式") from None
        if expires_at.tzinfo is None:
            raise _param_error("time_expire 须带时区")
    scene = _object(data, "scene_info")
    if channel == "h5" and not (scene.get("payer_client_ip") and _object(scene, "h5_info")):
        raise _param_error("H5 下单须提供 scene_info.payer_client_ip 与 scene_info.h5_info")
    openid = _object(data, "payer").get("openid")
    if channel == "jsapi" and not (isinstance(openid, str) and openid):
        raise _param_error("JSAPI 下单须提供 payer.openid")
    buyer = openid if isinstance(openid, str) and openid else ""
    return common.TradeRequest(
        provider=WECHAT,
        merchant_id=mchid,
        out_trade_no=out_trade_no,
        amount_fen=total,
        subject=description,
        channel=channel,
        notify_url=notify_url,
        return_url="",
        expires_at=expires_at,
        extra={
            "appid": settings.WECHAT_APP_ID,
            "prepay_id": f"wx{timezone.localtime():%d%H%M%S}{secrets.token_hex(12)}",
            "openid": buyer or f"oSbx{secrets.token_urlsafe(18)[:24]}",
            "payer_client_ip": str(scene.get("payer_client_ip") or ""),
            # The terms a repeat must match besides the amount (which common checks).
            "terms": [channel, description, buyer],
        },
    )


@wechat_api("POST")
def transaction_create(
    request: HttpRequest, *, mchid: str, channel: str
) -> tuple[int, dict[str, Any]]:
    """Open a trade, or answer the same one again for the same out_trade_no and terms."""
    wanted = _trade_request(_json_object(request), mchid=mchid, channel=channel)
    trade = common.trade_open(
        request=wanted, trade_no=common.new_number(f"42000{timezone.localtime():%Y%m%d}", 28)
    )
    if trade.extra.get("terms") != wanted.extra["terms"]:
        raise WechatError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
    if trade.status == PayTrade.Status.SUCCEEDED:
        raise WechatError(400, "ORDERPAID", "该订单已支付")
    cashier = request.build_absolute_uri(reverse("wechat-cashier", args=[trade.trade_no]))
    prepay_id = trade.extra["prepay_id"]
    if channel == "native":
        return 200, {"code_url": cashier}
    if channel == "h5":
        return 200, {"h5_url": f"{cashier}?prepay_id={prepay_id}"}
    return 200, {"prepay_id": prepay_id}


def _merchant_trade(mchid: str, out_trade_no: str) -> PayTrade:
    trade = PayTrade.objects.filter(
        provider=WECHAT, merchant_id=mchid, out_trade_no=out_trade_no
    ).first()
    if trade is None:
        raise WechatError(404, "ORDER_NOT_EXIST", "订单不存在")
    return trade


@wechat_api("GET")
def transaction_query(
    request: HttpRequest, *, mchid: str, out_trade_no: str
) -> tuple[int, dict[str, Any]]:
    if request.GET.get("mchid") != mchid:
        raise _param_error("查询参数 mchid 缺失或与商户号不一致")
    return 200, transaction_json(_merchant_trade(mchid, out_trade_no))


@wechat_api("POST")
def transaction_close(request: HttpRequest, *, mchid: str, out_trade_no: str) -> tuple[int, None]:
    """Close an unpaid trade; closing it again is fine (204), closing a paid one is not."""
    if _json_object(request).get("mchid") != mchid:
        raise _param_error("mchid 缺失或与商户号不一致")
    trade = common.trade_close(trade_pk=_merchant_trade(mchid, out_trade_no).pk)
    if trade.status == PayTrade.Status.SUCCEEDED:
        raise WechatError(400, "ORDERPAID", "订单已支付")
    return 204, None


# --- refunds -----------------------------------------------------------------------------------


def _refund_json(refund: PayRefund) -> dict[str, Any]:
    trade = refund.trade
    return {
        "refund_id": refund.refund_no,
        "out_refund_no": refund.out_request_no,
        "transaction_id": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "success_time": _rfc3339(refund.created_at),
        "create_time": _rfc3339(refund.created_at),
        "status": "SUCCESS" if refund.status == "succeeded" else refund.status.upper(),
        "funds_account": "AVAILABLE",
        "amount": {
            "total": trade.amount_fen,
            "refund": refund.amount_fen,
            "payer_total": trade.amount_fen,
            "payer_refund": refund.amount_fen,
            "settlement_total": trade.amount_fen,
            "settlement_refund": refund.amount_fen,
            "discount_refund": 0,
            "currency": "CNY",
            "refund_fee": 0,
        },
    }


def _merchant_refunds(mchid: str) -> QuerySet[PayRefund]:
    return PayRefund.objects.select_related("trade").filter(
        trade__provider=WECHAT, trade__merchant_id=mchid
    )


@wechat_api("POST")
def refund_create(request: HttpRequest, *, mchid: str) -> tuple[int, dict[str, Any]]:
    """Refund part or all of a paid trade, once per out_refund_no (``common.refund_apply``)."""
    data = _json_object(request)
    out_refund_no = _text(data, "out_refund_no", 64)
    if not _OUT_REFUND_NO.match(out_refund_no):
        raise _param_error("out_refund_no 只能是数字、大小写字母或 _-|*@")
    amount = _object(data, "amount")
    refund_fen, total_fen = _fen(amount, "refund"), _fen(amount, "total")
    _text(data, "reason", 80, required=False)
    trades = PayTrade.objects.filter(provider=WECHAT, merchant_id=mchid)
    if data.get("transaction_id"):
        trade = trades.filter(trade_no=data["transaction_id"]).first()
    elif data.get("out_trade_no"):
        trade = trades.filter(out_trade_no=data["out_trade_no"]).first()
    else:
        raise _param_error("transaction_id 与 out_trade_no 须二选一")
    if trade is None:
        raise WechatError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
    # out_refund_no is unique per merchant, not only per trade.
    if _merchant_refunds(mchid).filter(out_request_no=out_refund_no).exclude(trade=trade).exists():
        raise WechatError(400, "INVALID_REQUEST", "退款单号已用于其他订单")
    if total_fen != trade.amount_fen:
        raise _param_error("amount.total 与原订单金额不一致")
    refund, _ = common.refund_apply(
        trade_pk=trade.pk,
        out_request_no=out_refund_no,
        amount_fen=refund_fen,
        refund_no=common.new_number(f"50{timezone.localtime():%Y%m%d}", 30),
    )
    return 200, _refund_json(refund)


@wechat_api("GET")
def refund_query(
    request: HttpRequest, *, mchid: str, out_refund_no: str
) -> tuple[int, dict[str, Any]]:
    refund = _merchant_refunds(mchid).filter(out_request_no=out_refund_no).first()
    if refund is None:
        raise WechatError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    return 200, _refund_json(refund)


# --- notifications -----------------------------------------------------------------------------


def _event_body(
    trade: PayTrade, *, trade_state: str, amount_delta: int = 0, created: datetime | None = None
) -> str:
    """One notification's exact body: the transaction encrypted with the APIv3 key."""
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    plaintext = json.dumps(
        transaction_json(trade, trade_state=trade_state, amount_delta=amount_delta),
        ensure_ascii=False,
        separators=(",", ":"),
    )
    ciphertext = AESGCM(_apiv3_key()).encrypt(nonce.encode(), plaintext.encode(), b"transaction")
    event = {
        "id": str(uuid.uuid4()),
        "create_time": _rfc3339(created or timezone.now()),
        "resource_type": "encrypt-resource",
        "event_type": f"TRANSACTION.{trade_state}",
        "summary": _STATE_DESC[trade_state],
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "associated_data": "transaction",
            "nonce": nonce,
        },
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def _bodies(trade: PayTrade, mode: str) -> list[str]:
    """What a paid trade sends under ``mode``, in order (``lost``: made, never sent)."""
    if mode == common.NotifyMode.WRONG_AMOUNT:
        return [_event_body(trade, trade_state="SUCCESS", amount_delta=1)]
    success = _event_body(trade, trade_state="SUCCESS")
    if mode == common.NotifyMode.DUPLICATE:
        # The same event (same id, same ciphertext) three times, as a retrying provider would.
        return [success] * 3
    if mode == common.NotifyMode.OUT_OF_ORDER:
        # A "user paying" event written when the trade opened, arriving after the success.
        return [success, _event_body(trade, trade_state="USERPAYING", created=trade.created_at)]
    return [success]


def notifications_schedule(*, trade: PayTrade) -> None:
    """Record the trade's notifications and send them after ``knobs.pay_notify_delay_ms``.

    Call once per paid trade (``common.trade_pay`` says when).
    """
    mode = common.notify_mode_for(trade)
    rows = [
        PayNotification.objects.create(trade=trade, url=trade.notify_url, body=body, mode=mode)
        for body in _bodies(trade, mode)
    ]
    if mode == common.NotifyMode.LOST:
        logger.info("wechat notification for %s lost on purpose", trade)
        return
    delay_s = faults.knobs_get().pay_notify_delay_ms / 1000
    pks = tuple(row.pk for row in rows)
    call_later(
        delay_s, functools.partial(_deliver, notification_pk=pks[0], attempt=1, rest=pks[1:])
    )


def _deliver_next(rest: tuple[int, ...]) -> None:
    """The next planned notification, a short gap after the previous one was settled: the
    rows go out in their planned order (an explicit sequence, not one timer per row)."""
    if rest:
        job = functools.partial(_deliver, notification_pk=rest[0], attempt=1, rest=rest[1:])
        call_later(_SEQUENCE_GAP_S, job)


def _deliver(*, notification_pk: int, attempt: int, rest: tuple[int, ...] = ()) -> None:
    """One delivery attempt, freshly signed; anything but a 2xx schedules the next after backoff.
    ``rest`` waits until this notification was answered 2xx or given up on."""
    notification = PayNotification.objects.get(pk=notification_pk)
    headers = {"Content-Type": "application/json", **wechatpay_headers(notification.body)}
    status: int | None = None
    try:
        answer = httpx.post(
            notification.url,
            content=notification.body.encode(),
            headers=headers,
            timeout=_POST_TIMEOUT_S,
        )
        status, outcome = answer.status_code, answer.text[:1000]
    except httpx.HTTPError as exc:
        outcome = repr(exc)
    PayNotification.objects.filter(pk=notification_pk).update(
        attempts=attempt, headers=headers, response_status=status, response_body=outcome
    )
    if status is not None and 200 <= status < 300:
        _deliver_next(rest)
        return
    if attempt > len(_BACKOFF_S):
        logger.warning(
            "wechat notification %s abandoned after %d attempts", notification_pk, attempt
        )
        _deliver_next(rest)
        return
    call_later(
        _BACKOFF_S[attempt - 1],
        functools.partial(
            _deliver, notification_pk=notification_pk, attempt=attempt + 1, rest=rest
        ),
    )


# --- pages for people --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def cashier(request: HttpRequest, trade_no: str) -> HttpResponse:
    """Where the buyer "scans" (native), lands (H5) or confirms (JSAPI), and pays or cancels.

    Cancelling leaves the trade unpaid, as leaving WeChat's cashier does; H5 buyers go back to
    the merchant's ``redirect_url`` either way.
    """
    trade = PayTrade.objects.filter(provider=WECHAT, trade_no=trade_no).first()
    if trade is None:
        raise Http404("no such trade")
    source = request.POST if request.method == "POST" else request.GET
    redirect_url = source.get("redirect_url", "")
    redirect_url = redirect_url if _http_url(redirect_url) else ""
    context = common.cashier_context(trade=trade, merchant_label=f"商户号 {trade.merchant_id}")
    context.update(redirect_url=redirect_url, error="")
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "pay":
        mode = common.notify_mode_parse(
            request.POST.get("notify_mode"), default=context["default_notify_mode"]
        )
        try:
            trade, paid_now = common.trade_pay(trade_pk=trade.pk, notify_mode=mode)
        except common.PayRefusal as exc:
            context.update(trade=PayTrade.objects.get(pk=trade.pk), error=exc.message)
            return render(request, "sandbox/pay_wechat_cashier.html", context, status=400)
        if paid_now:
            notifications_schedule(trade=trade)
    if action in ("pay", "cancel"):
        if redirect_url:
            return HttpResponseRedirect(redirect_url)
        context.update(trade=trade, paid=trade.status == PayTrade.Status.SUCCEEDED)
        return render(request, "sandbox/pay_wechat_result.html", context)
    return render(request, "sandbox/pay_wechat_cashier.html", context)


@require_GET
def jsapi_bridge(request: HttpRequest) -> HttpResponse:
    """What ``WeixinJSBridge`` does with the invoke parameters: check paySign, open the cashier.

    In WeChat a page passes them to ``getBrandWCPayRequest``; here a link carries them as
    query parameters, and the merchant's RSA signature over
    ``appId\\ntimeStamp\\nnonceStr\\npackage\\n`` is checked as WeChat's client does.
    """
    names = ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")
    params = {name: request.GET.get(name, "") for name in names}
    message = "".join(f"{params[name]}\n" for name in names[:4])
    trade = None
    if (
        params["appId"] == settings.WECHAT_APP_ID
        and params["signType"] == "RSA"
        and _merchant_signed(message, params["paySign"])
    ):
        prepay_id = params["package"].removeprefix("prepay_id=")
        trade = PayTrade.objects.filter(
            provider=WECHAT, channel="jsapi", extra__prepay_id=prepay_id
        ).first()
    if trade is None:
        context = {"error": "支付参数签名错误或预支付交易不存在，无法调起支付。"}
        return render(request, "sandbox/pay_wechat_result.html", context, status=400)
    return HttpResponseRedirect(reverse("wechat-cashier", args=[trade.trade_no]))
