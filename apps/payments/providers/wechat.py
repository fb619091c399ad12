"""WeChat Pay APIv3 adapter on wechatpayv3: native (QR), H5 and JSAPI payments, public-key mode.

The SDK builds and signs every request (``Authorization: WECHATPAY2-SHA256-RSA2048 …``), checks
the signature of every 2xx answer with WeChat Pay's public key, signs the JSAPI invoke
parameters and verifies and decrypts notifications (``WeChatPay.callback``). This module adds
what the SDK leaves out: the API base (``WECHAT_API_BASE`` instead of api.mch.weixin.qq.com),
the notification's key id and five-minute timestamp window, and the mapping of WeChat's answers
onto the provider contract.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from wechatpayv3 import WeChatPay, WeChatPayType

from apps.core.money import fen_checked
from apps.payments.providers.base import (
    Ack,
    InvalidNotification,
    PaymentAction,
    PaymentRequest,
    ProviderNotification,
    ProviderRejected,
    ProviderUnavailable,
    RefundResult,
    TradeState,
)
from config.devkeys import dev_rsa_private_pem, dev_rsa_public_pem, dev_secret

logger = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
# WeChat refuses notifications older (or newer) than five minutes; so do we, against replays.
NOTIFICATION_MAX_SKEW_S = 300
# out_trade_no: 6..32 of these characters, per the APIv3 reference.
_OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
_DESCRIPTION_MAX = 127
_REFUND_REASON_MAX = 80
_TRADE_TYPES = {
    "native": WeChatPayType.NATIVE,
    "h5": WeChatPayType.H5,
    "jsapi": WeChatPayType.JSAPI,
}
TradeStatus = Literal["pending", "succeeded", "closed"]
_TRADE_STATES: dict[str, TradeStatus] = {
    "SUCCESS": "succeeded",
    # Paid, then (partly) refunded: the payment itself stands; refunds are tracked apart.
    "REFUND": "succeeded",
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "closed",
}
_REFUND_STATUSES: dict[str, Literal["succeeded", "processing", "failed"]] = {
    "SUCCESS": "succeeded",
    "PROCESSING": "processing",
}
# The SDK raises a bare ``Exception`` (or a ValueError parsing an unknown serial) when an
# answer's signature is missing, unsupported or wrong: the answer cannot be trusted.
_UNVERIFIED_ANSWER: tuple[type[Exception], ...] = (Exception, ValueError)
_HEADER_NAMES = {
    name.lower(): name
    for name in (
        "Wechatpay-Signature",
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Serial",
        "Wechatpay-Signature-Type",
    )
}


@dataclass(frozen=True)
class WechatConfig:
    """Everything the adapter needs; keys are PEM text, the APIv3 key its 32 characters."""

    mchid: str
    appid: str
    api_base: str
    merchant_private_key: str
    merchant_serial_no: str
    apiv3_key: str
    platform_public_key: str
    platform_public_key_id: str
    timeout_s: float

    @classmethod
    def from_settings(cls) -> WechatConfig:
        """The configuration in settings; an empty key falls back to the dev key of that name."""
        return cls(
            mchid=settings.WECHAT_MCH_ID,
            appid=settings.WECHAT_APP_ID,
            api_base=settings.WECHAT_API_BASE.rstrip("/"),
            merchant_private_key=settings.WECHAT_MCH_PRIVATE_KEY
            or dev_rsa_private_pem("wechat-merchant"),
            merchant_serial_no=settings.WECHAT_MCH_CERT_SERIAL,
            apiv3_key=settings.WECHAT_APIV3_KEY or dev_secret("wechat-apiv3", 32),
            platform_public_key=settings.WECHAT_PLATFORM_PUBLIC_KEY
            or dev_rsa_public_pem("wechat-platform"),
            platform_public_key_id=settings.WECHAT_PLATFORM_PUBLIC_KEY_ID,
            timeout_s=float(settings.PAYMENTS_HTTP_TIMEOUT_SECONDS),
        )


def make_client(config: WechatConfig) -> Any:
    """A ``wechatpayv3.WeChatPay`` in public-key mode, pointed at ``config.api_base``.

    With ``public_key``/``public_key_id`` the SDK verifies answers and notifications with
    WeChat Pay's public key and never downloads platform certificates. It joins every path to
    ``Core._gate_way`` (its own ``download_bill`` reads the attribute the same way); the
    constructor has no parameter for it, so it is set here.
    """
    client = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=config.mchid,
        private_key=config.merchant_private_key,
        cert_serial_no=config.merchant_serial_no,
        apiv3_key=config.apiv3_key,
        appid=config.appid,
        public_key=config.platform_public_key,
        public_key_id=config.platform_public_key_id,
        # (connect, read) for requests; a dead host must not hold a web worker for long.
        timeout=(min(config.timeout_s, 2.0), config.timeout_s),
    )
    client._core._gate_way = config.api_base
    return client


class WechatProvider:
    """The ``Provider`` for WeChat Pay; thread-safe (the SDK keeps no per-call state)."""

    method = "wechat"
    signs_locally = False  # start() opens the trade with WeChat Pay over HTTP

    def __init__(self, config: WechatConfig) -> None:
        self.merchant_id = config.mchid
        self._config = config
        self._client = make_client(config)

    @classmethod
    def from_settings(cls) -> WechatProvider:
        return _provider_for(WechatConfig.from_settings())

    # --- paying -----------------------------------------------------------------------------

    def start(self, request: PaymentRequest) -> PaymentAction:
        """Open the trade with WeChat Pay and say what the buyer's browser does next.

        Repeating it with the same request is safe: WeChat Pay answers the same code_url,
        h5_url or prepay_id for the same out_trade_no and parameters.
        """
        pay_type = _TRADE_TYPES.get(request.channel)
        if pay_type is None:
            raise ValueError(f"unknown WeChat Pay channel {request.channel!r}")
        if not _OUT_TRADE_NO.match(request.out_trade_no):
            raise ValueError("out_trade_no must be 6..32 letters, digits or _-|*")
        if not request.subject:
            raise ValueError("a WeChat Pay trade needs a description")
        if request.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        arguments: dict[str, Any] = {
            "description": request.subject[:_DESCRIPTION_MAX],
            "out_trade_no": request.out_trade_no,
            "amount": {"total": request.amount_fen, "currency": "CNY"},
            "time_expire": request.expires_at.astimezone(CHINA).isoformat(timespec="seconds"),
            "notify_url": request.notify_url,
            "pay_type": pay_type,
        }
        if request.channel == "h5":
            arguments["scene_info"] = {
                "payer_client_ip": request.client_ip,
                "h5_info": {"type": "Wap"},
            }
        elif request.channel == "jsapi":
            if not request.openid:
                raise ValueError("a JSAPI payment needs the payer's openid")
            arguments["payer"] = {"openid": request.openid}

        body = self._ok(self._call(lambda: self._client.pay(**arguments)))
        if request.channel == "native":
            return PaymentAction(kind="qr", qr_text=_text(body, "code_url"))
        if request.channel == "h5":
            # WeChat sends the buyer back to redirect_url once the cashier is left.
            h5_url = _text(body, "h5_url")
            joiner = "&" if "?" in h5_url else "?"
            url = f"{h5_url}{joiner}redirect_url={quote(request.return_url, safe='')}"
            return PaymentAction(kind="redirect", url=url)
        return PaymentAction(
            kind="jsapi", jsapi_params=self._jsapi_params(_text(body, "prepay_id"))
        )

    def _jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """``WeixinJSBridge.invoke('getBrandWCPayRequest', …)``'s parameters, RSA-signed."""
        params = {
            "appId": self._config.appid,
            "timeStamp": str(int(time.time())),
            "nonceStr": secrets.token_hex(16),
            "package": f"prepay_id={prepay_id}",
            "signType": "RSA",
        }
        params["paySign"] = self._client.sign(
            [params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]
        )
        return params

    # --- notifications ----------------------------------------------------------------------

    def verify_notification(
        self, *, body: bytes, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> ProviderNotification:
        """Check key id, timestamp and signature, decrypt the resource and read the trade.

        The SDK's ``callback`` verifies ``timestamp\\nnonce\\nbody\\n`` with the platform public
        key and decrypts the AEAD_AES_256_GCM resource with the APIv3 key. It would look an
        unknown key id up by downloading platform certificates, and it does not check the
        timestamp, so both are checked first.
        """
        wanted = _wechatpay_headers(headers)
        if wanted.get("Wechatpay-Serial") != self._config.platform_public_key_id:
            raise InvalidNotification("The notification names an unknown WeChat Pay key.")
        timestamp = wanted.get("Wechatpay-Timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise InvalidNotification("The notification has no valid timestamp.")
        if abs(time.time() - int(timestamp)) > NOTIFICATION_MAX_SKEW_S:
            raise InvalidNotification("The notification's timestamp is outside five minutes.")
        try:
            event = self._client.callback(headers=wanted, body=body)
        except Exception as exc:  # anything the SDK cannot read is not a notification
            raise InvalidNotification("The notification could not be read.") from exc
        if not isinstance(event, dict):
            raise InvalidNotification("The notification's signature or ciphertext is wrong.")
        try:
            return _notification(event)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidNotification("The notification's content is malformed.") from exc

    def ack(self, *, ok: bool) -> Ack:
        """APIv3 takes any 2xx without a body as received; otherwise it retries later."""
        if ok:
            return Ack(status=200, content_type="text/plain; charset=utf-8", body=b"")
        body = json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False).encode()
        return Ack(status=500, content_type="application/json; charset=utf-8", body=body)

    # --- queries and refunds ----------------------------------------------------------------

    def query(self, *, out_trade_no: str, started_at: datetime | None = None) -> TradeState:
        status, body = self._call(lambda: self._client.query(out_trade_no=out_trade_no))
        if status == 404 and body.get("code") in ("ORDER_NOT_EXIST", "ORDERNOTEXIST"):
            return TradeState(out_trade_no=out_trade_no, status="not_found")
        trade = self._ok((status, body))
        state = _TRADE_STATES.get(_text(trade, "trade_state"))
        if state is None:
            raise ProviderUnavailable(details={"trade_state": trade.get("trade_state")})
        amount = trade.get("amount") or {}
        return TradeState(
            out_trade_no=out_trade_no,
            status=state,
            provider_trade_no=str(trade.get("transaction_id") or ""),
            amount_fen=_fen(amount.get("total")),
            paid_at=_moment(trade.get("success_time")),
        )

    def refund(
        self,
        *,
        out_trade_no: str,
        out_request_no: str,
        amount_fen: int,
        total_fen: int,
        reason: str,
        started_at: datetime | None = None,
        requested_at: datetime | None = None,
    ) -> RefundResult:
        """Ask for a refund; the same out_request_no (WeChat's out_refund_no) refunds once."""
        refund = self._ok(
            self._call(
                lambda: self._client.refund(
                    out_refund_no=out_request_no,
                    amount={"refund": amount_fen, "total": total_fen, "currency": "CNY"},
                    out_trade_no=out_trade_no,
                    reason=reason[:_REFUND_REASON_MAX] or None,
                )
            )
        )
        wechat_status = _text(refund, "status")
        status = _REFUND_STATUSES.get(wechat_status, "failed")
        return RefundResult(
            out_request_no=out_request_no,
            status=status,
            provider_refund_no=str(refund.get("refund_id") or ""),
            amount_fen=_fen((refund.get("amount") or {}).get("refund")),
            error_code="" if status != "failed" else wechat_status,
        )

    # --- HTTP -------------------------------------------------------------------------------

    def _call(self, operation: Callable[[], tuple[int, Any]]) -> tuple[int, dict[str, Any]]:
        """Run one SDK request; network trouble and unverifiable answers are ``Unavailable``."""
        try:
            status, text = operation()
        except requests.RequestException as exc:
            logger.warning("WeChat Pay unreachable: %s", exc)
            raise ProviderUnavailable(details={"error": type(exc).__name__}) from exc
        except Exception as exc:
            if type(exc) not in _UNVERIFIED_ANSWER:
                raise
            logger.warning("WeChat Pay answer not verified: %s", exc)
            raise ProviderUnavailable(details={"error": "UNVERIFIED_ANSWER"}) from exc
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        return int(status), data if isinstance(data, dict) else {}

    @staticmethod
    def _ok(answer: tuple[int, dict[str, Any]]) -> dict[str, Any]:
        """The body of a 2xx; 429 and 5xx are transient, any other refusal carries its code."""
        status, body = answer
        if 200 <= status < 300:
            return body
        code = str(body.get("code") or f"HTTP_{status}")
        message = str(body.get("message") or "")
        if status == 429 or status >= 500:
            raise ProviderUnavailable(details={"provider_code": code, "http_status": status})
        raise ProviderRejected(
            details={"provider_code": code, "provider_message": message, "http_status": status}
        )


@functools.lru_cache(maxsize=8)
def _provider_for(config: WechatConfig) -> WechatProvider:
    """One adapter per configuration: loading the RSA keys once, not on every payment."""
    return WechatProvider(config)


def _wechatpay_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``Wechatpay-*`` headers under the names the SDK reads, from any header mapping.

    Accepts ``request.headers``, a plain dict in any case, or WSGI ``HTTP_WECHATPAY_*`` keys.
    """
    found: dict[str, str] = {}
    for key, value in headers.items():
        name = key.lower().replace("_", "-")
        name = name.removeprefix("http-")
        if name in _HEADER_NAMES:
            found[_HEADER_NAMES[name]] = value
    return found


def _notification(event: dict[str, Any]) -> ProviderNotification:
    """Read a verified, decrypted payment notification (``resource`` is the transaction)."""
    event_type = str(event.get("event_type") or "")
    resource = event["resource"]
    if not event_type.startswith("TRANSACTION.") or not isinstance(resource, dict):
        raise ValueError(f"not a payment notification: {event_type!r}")
    event_id = event["id"]
    status = _TRADE_STATES[resource["trade_state"]]
    amount = resource["amount"]
    out_trade_no = resource["out_trade_no"]
    mchid = resource["mchid"]
    if not all(isinstance(value, str) and value for value in (event_id, out_trade_no, mchid)):
        raise ValueError("id, out_trade_no and mchid must be non-empty strings")
    total = fen_checked(amount["total"])  # a MoneyError is a ValueError: malformed
    return ProviderNotification(
        out_trade_no=out_trade_no,
        provider_trade_no=str(resource.get("transaction_id") or ""),
        status=status,
        amount_fen=total,
        currency=str(amount.get("currency") or "CNY"),
        merchant_id=mchid,
        event_id=event_id,
        paid_at=_moment(resource.get("success_time")) if status == "succeeded" else None,
        raw=event,
    )


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ProviderUnavailable(details={"error": f"answer without {name}"})
    return value


def _fen(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _moment(value: Any) -> datetime | None:
    """An RFC 3339 time as WeChat writes it (``2024-01-01T10:00:00+08:00``), or None."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)
