"""Alipay (RSA2) through python-alipay-sdk: page/wap pay, notifications, trade query and refund.

The SDK builds and signs every request and verifies every answer and notification; this
adapter only points it at ``ALIPAY_GATEWAY``, bounds its HTTP calls with
``PAYMENTS_HTTP_TIMEOUT_SECONDS`` and turns Alipay's answers into the provider contract.

SDK internals relied on (python-alipay-sdk 3.4.0): the gateway is the plain attribute
``_gateway`` that ``BaseAliPay.__init__`` sets from ``debug``, so a subclass sets it after;
``verified_sync_response`` GETs ``gateway?<signed query>`` with ``urllib.request.urlopen`` and
``AliPayConfig.timeout``, and raises ``AliPayException`` (an unsigned or ``error_response``
answer; its code is only kept in the name-mangled ``_AliPayException__code``) or
``AliPayValidationError`` (a signed answer whose signature does not verify).
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, cast
from urllib.error import HTTPError
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from django.conf import settings

from apps.core.errors import InvalidArgument
from apps.core.money import FEN_PER_YUAN, MoneyError, to_fen
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

logger = logging.getLogger(__name__)

ALIPAY_TZ = ZoneInfo("Asia/Shanghai")
SUCCESS_CODE = "10000"
# Alipay's "service busy/unknown" answers: the request may or may not have been applied.
_UNKNOWN_OUTCOME_CODES = frozenset({"20000"})
_UNKNOWN_OUTCOME_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"})
TRADE_STATUSES: dict[str, Literal["succeeded", "pending", "closed"]] = {
    "TRADE_SUCCESS": "succeeded",
    "TRADE_FINISHED": "succeeded",
    "WAIT_BUYER_PAY": "pending",
    "TRADE_CLOSED": "closed",
}
_PAY_METHODS = {"page": "api_alipay_trade_page_pay", "wap": "api_alipay_trade_wap_pay"}
_NOTIFICATION_FIELDS = ("notify_id", "app_id", "out_trade_no", "trade_no", "trade_status")


class _GatewayAliPay(AliPay):
    """The SDK's client with its gateway set to ``gateway`` instead of Alipay's production one."""

    def __init__(self, *, gateway: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gateway = gateway


def yuan(amount_fen: int) -> str:
    """``1234`` -> ``"12.34"``: Alipay's amount format (no symbol, no thousands separator)."""
    if amount_fen < 0:
        raise ValueError("Alipay amounts are not negative")
    whole, fen = divmod(amount_fen, FEN_PER_YUAN)
    return f"{whole}.{fen:02d}"


def _shanghai_time(value: str) -> datetime | None:
    """Alipay's ``yyyy-MM-dd HH:mm:ss`` (Beijing time) as an aware datetime; ``""`` -> None."""
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ALIPAY_TZ)


class AlipayProvider:
    """The Alipay adapter. Thread-safe: the SDK client keeps only keys and configuration."""

    method = "alipay"
    signs_locally = True  # start() signs a redirect URL: no call to Alipay

    def __init__(
        self,
        *,
        app_id: str,
        gateway: str,
        app_private_key: str,
        alipay_public_key: str,
        timeout: float,
    ) -> None:
        self.merchant_id = app_id
        self.gateway = gateway
        self._sdk = _GatewayAliPay(
            gateway=gateway,
            appid=app_id,
            app_private_key_string=app_private_key,
            alipay_public_key_string=alipay_public_key,
            sign_type="RSA2",
            config=AliPayConfig(timeout=timeout),
        )

    @classmethod
    def from_settings(cls) -> AlipayProvider:
        """The adapter for the current settings; unset keys fall back to the dev keys."""
        from config.devkeys import dev_rsa_private_pem, dev_rsa_public_pem

        return _provider_for(
            settings.ALIPAY_APP_ID,
            settings.ALIPAY_GATEWAY,
            settings.ALIPAY_APP_PRIVATE_KEY or dev_rsa_private_pem("alipay-app"),
            settings.ALIPAY_PUBLIC_KEY or dev_rsa_public_pem("alipay-platform"),
            settings.PAYMENTS_HTTP_TIMEOUT_SECONDS,
        )

    def start(self, request: PaymentRequest) -> PaymentAction:
        """A redirect to Alipay's cashier: the gateway URL with the SDK's signed query string."""
        build = _PAY_METHODS.get(request.channel)
        if build is None:
            raise InvalidArgument(f"Alipay has no channel {request.channel!r}; use page or wap.")
        extra: dict[str, str] = {
            "time_expire": request.expires_at.astimezone(ALIPAY_TZ).strftime("%Y-%m-%d %H:%M:%S")
        }
        if request.channel == "wap":
            extra["quit_url"] = request.return_url
        query = getattr(self._sdk, build)(
            subject=request.subject,
            out_trade_no=request.out_trade_no,
            total_amount=yuan(request.amount_fen),
            return_url=request.return_url,
            notify_url=request.notify_url,
            **extra,
        )
        return PaymentAction(kind="redirect", url=f"{self.gateway}?{query}")

    def verify_notification(
        self, *, body: bytes, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> ProviderNotification:
        """Check an asynchronous notification's RSA2 signature with the SDK and read it.

        As the SDK documents: the POSTed form as a dict, ``sign`` popped, ``verify(data, sign)``
        (which drops ``sign_type`` and checks the rest). ``app_id`` is returned as
        ``merchant_id`` and the amount as sent: comparing both with the intent is the payments
        service's job, so a validly signed notification with a wrong amount is returned as is.
        """
        data = _form_fields(body=body, form=form)
        raw: dict[str, object] = dict(data)
        signature = data.pop("sign", "")
        if not signature:
            raise InvalidNotification("The Alipay notification has no sign.")
        try:
            verified = self._sdk.verify(data, signature)
        except (AliPayException, ValueError, TypeError) as exc:
            raise InvalidNotification(f"The Alipay notification cannot be verified: {exc}") from exc
        if not verified:
            raise InvalidNotification("The Alipay notification's signature is wrong.")
        missing = [name for name in _NOTIFICATION_FIELDS if not data.get(name)]
        if missing:
            raise InvalidNotification(f"The Alipay notification lacks {', '.join(missing)}.")
        status = TRADE_STATUSES.get(data["trade_status"])
        if status is None:
            raise InvalidNotification(f"Unknown Alipay trade_status {data['trade_status']!r}.")
        try:
            amount_fen = to_fen(data.get("total_amount", ""))
            paid_at = _shanghai_time(data.get("gmt_payment", ""))
        except (MoneyError, ValueError) as exc:
            raise InvalidNotification(f"The Alipay notification is malformed: {exc}") from exc
        return ProviderNotification(
            out_trade_no=data["out_trade_no"],
            provider_trade_no=data["trade_no"],
            status=status,
            amount_fen=amount_fen,
            currency="CNY",
            merchant_id=data["app_id"],
            event_id=data["notify_id"],
            paid_at=paid_at if status == "succeeded" else None,
            raw=raw,
        )

    def ack(self, *, ok: bool) -> Ack:
        """Alipay stops resending only on a body of exactly ``success``; anything else is a retry."""
        return Ack(status=200, content_type="text/plain", body=b"success" if ok else b"fail")

    def query(self, *, out_trade_no: str, started_at: datetime | None = None) -> TradeState:
        """``alipay.trade.query``; ``ACQ.TRADE_NOT_EXIST`` is ``not_found``, not an error."""
        answer = self._call(lambda: self._sdk.api_alipay_trade_query(out_trade_no=out_trade_no))
        if answer.get("code") != SUCCESS_CODE:
            if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return TradeState(out_trade_no=out_trade_no, status="not_found")
            raise _refusal(answer)
        status = TRADE_STATUSES.get(str(answer.get("trade_status", "")))
        if status is None:
            raise ProviderRejected(
                "Alipay answered with an unknown trade_status.",
                details={"provider_code": str(answer.get("trade_status", ""))},
            )
        try:
            amount_fen = to_fen(str(answer.get("total_amount", "0")))
            paid_at = _shanghai_time(str(answer.get("send_pay_date", "")))
        except (MoneyError, ValueError) as exc:
            raise ProviderUnavailable(f"Alipay's trade query answer is malformed: {exc}") from exc
        return TradeState(
            out_trade_no=str(answer.get("out_trade_no", out_trade_no)),
            status=status,
            provider_trade_no=str(answer.get("trade_no", "")),
            amount_fen=amount_fen,
            paid_at=paid_at if status == "succeeded" else None,
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
        """``alipay.trade.refund``, synchronous and idempotent per ``out_request_no`` at Alipay.

        A repeat of an ``out_request_no`` Alipay already refunded answers ``10000`` with
        ``fund_change`` ``N`` (no money moved again), which is the same success. Alipay gives a
        refund no number of its own: it is known by (``out_trade_no``, ``out_request_no``).
        """
        extra = {"refund_reason": reason} if reason else {}
        answer = self._call(
            lambda: self._sdk.api_alipay_trade_refund(
                refund_amount=yuan(amount_fen),
                out_trade_no=out_trade_no,
                out_request_no=out_request_no,
                **extra,
            )
        )
        if answer.get("code") != SUCCESS_CODE:
            raise _refusal(answer)
        return RefundResult(
            out_request_no=out_request_no, status="succeeded", amount_fen=amount_fen
        )

    def _call(self, api: Callable[[], Any]) -> dict[str, Any]:
        """Run one SDK server API call; network trouble is ``ProviderUnavailable``."""
        try:
            answer = api()
        except HTTPError as exc:
            if exc.code >= 500:
                raise ProviderUnavailable(details={"http_status": exc.code}) from exc
            raise ProviderRejected(
                f"The Alipay gateway answered HTTP {exc.code}.",
                details={"provider_code": f"HTTP_{exc.code}"},
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            # URLError, timeouts, refused and reset connections are all OSError.
            logger.warning("Alipay gateway %s unreachable: %r", self.gateway, exc)
            raise ProviderUnavailable(details={"error": type(exc).__name__}) from exc
        except AliPayValidationError as exc:
            # A signed answer that does not verify cannot be trusted either way: unknown outcome.
            raise ProviderUnavailable(
                "Alipay's answer failed signature verification.",
                details={"error": "INVALID_ANSWER_SIGNATURE"},
            ) from exc
        except AliPayException as exc:
            raise _refusal(_exception_answer(exc)) from exc
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            # Not JSON, or JSON without Alipay's shape: something other than Alipay answered.
            raise ProviderUnavailable(details={"error": "MALFORMED_ANSWER"}) from exc
        if not isinstance(answer, dict):
            raise ProviderUnavailable(details={"error": "MALFORMED_ANSWER"})
        code = str(answer.get("code", ""))
        if code in _UNKNOWN_OUTCOME_CODES or answer.get("sub_code") in _UNKNOWN_OUTCOME_SUB_CODES:
            raise ProviderUnavailable(details=_codes(answer))
        return answer


def _form_fields(*, body: bytes, form: Mapping[str, str]) -> dict[str, str]:
    """The notification's fields: the parsed form, else the urlencoded body (utf-8)."""
    if form:
        # A QueryDict's ``[]`` gives one value per key, as ``QueryDict.dict()`` does.
        return {str(key): str(form[key]) for key in form}
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotification("The Alipay notification is not a form.") from exc


def _exception_answer(exc: AliPayException) -> dict[str, Any]:
    """The answer an ``AliPayException`` carries (the SDK keeps it in name-mangled fields)."""
    raw = getattr(exc, "_AliPayException__message", "")
    try:
        body = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        body = {}
    for value in body.values() if isinstance(body, dict) else ():
        if isinstance(value, dict) and "code" in value:
            return cast(dict[str, Any], value)
    return {"code": str(getattr(exc, "_AliPayException__code", "") or "")}


def _codes(answer: Mapping[str, Any]) -> dict[str, str]:
    code, sub_code = str(answer.get("code", "")), str(answer.get("sub_code", ""))
    return {
        "provider_code": sub_code or code,
        "code": code,
        "sub_code": sub_code,
        "sub_msg": str(answer.get("sub_msg", "") or answer.get("msg", "")),
    }


def _refusal(answer: Mapping[str, Any]) -> ProviderRejected:
    details = _codes(answer)
    return ProviderRejected(
        f"Alipay refused: {details['provider_code']} {details['sub_msg']}".strip(),
        details=details,
    )


@functools.cache
def _provider_for(
    app_id: str, gateway: str, app_private_key: str, alipay_public_key: str, timeout: float
) -> AlipayProvider:
    return AlipayProvider(
        app_id=app_id,
        gateway=gateway,
        app_private_key=app_private_key,
        alipay_public_key=alipay_public_key,
        timeout=timeout,
    )
