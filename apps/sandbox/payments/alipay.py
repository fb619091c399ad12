"""Alipay as the sandbox plays it: one gateway for the cashier and the server APIs, RSA2 both ways.

Merchant to Alipay (page/wap pay, ``alipay.trade.query``, ``alipay.trade.refund``): the request's
parameters, every non-empty one but ``sign`` (``sign_type`` included, as python-alipay-sdk and
Alipay's request rule sign it), sorted by name and joined as ``k=v&k=v``, must carry a
SHA256withRSA signature by the "alipay-app" key.

Alipay to merchant: asynchronous notifications and the browser's return parameters are signed
with the "alipay-platform" key over every non-empty field but ``sign`` and ``sign_type``; a
server API answer is ``{"<method>_response":<json>,"sign":"..."}`` whose signature covers the
exact text of ``<json>``, which is what the SDK's ``verified_sync_response`` cuts out and checks.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.sandbox.models import PayTrade
from apps.sandbox.payments.cashier import Cashier, error_page
from apps.sandbox.payments.common import (
    Outgoing,
    PayRefusal,
    TradeRequest,
    Variant,
    fen_from_yuan,
    new_number,
    private_key,
    public_key,
    refund_apply,
    refunded_fen,
    rsa_sign,
    rsa_verify,
    schedule_notifications,
    trade_open,
    yuan,
)

logger = logging.getLogger(__name__)

LABEL = "支付宝"
APP_KEY = "alipay-app"  # the merchant's key pair: it signs, the sandbox verifies
PLATFORM_KEY = "alipay-platform"  # Alipay's key pair: the sandbox signs, the merchant verifies
SELLER_ID = "2088000000000001"
BUYER_ID = "2088102177846880"
BUYER_LOGON_ID = "sbx***@sandbox.com"
ALIPAY_TZ = ZoneInfo("Asia/Shanghai")
# method -> (product_code, channel)
PAGE_METHODS = {
    "alipay.trade.page.pay": ("FAST_INSTANT_TRADE_PAY", "page"),
    "alipay.trade.wap.pay": ("QUICK_WAP_PAY", "wap"),
}
_OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_]{1,64}$")
_TIME = "%Y-%m-%d %H:%M:%S"


# --- signatures ------------------------------------------------------------------------------


def string_to_sign(params: Mapping[str, str], *, exclude: frozenset[str]) -> str:
    """Non-empty params not in ``exclude``, sorted by name, as ``k=v&k=v`` (values raw)."""
    return "&".join(
        f"{key}={value}"
        for key, value in sorted(params.items())
        if key not in exclude and value != ""
    )


def merchant_signed(params: Mapping[str, str]) -> bool:
    """Whether a request carries the merchant's RSA2 signature ("alipay-app" key)."""
    if params.get("sign_type") != "RSA2":
        return False
    message = string_to_sign(params, exclude=frozenset({"sign"})).encode("utf-8")
    return rsa_verify(public_key(APP_KEY), message, params.get("sign", ""))


def platform_sign(fields: dict[str, str]) -> dict[str, str]:
    """``fields`` without empty values, with Alipay's ``sign`` (over all but sign and sign_type)."""
    message = {key: value for key, value in fields.items() if value != ""}
    unsigned = string_to_sign(message, exclude=frozenset({"sign", "sign_type"}))
    message["sign"] = rsa_sign(private_key(PLATFORM_KEY), unsigned.encode("utf-8"))
    return message


def _signed_answer(response_key: str, payload: Mapping[str, Any]) -> HttpResponse:
    content = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    sign = rsa_sign(private_key(PLATFORM_KEY), content.encode("utf-8"))
    raw = f'{{"{response_key}":{content},"sign":"{sign}"}}'
    return HttpResponse(raw, content_type="application/json;charset=utf-8")


def _unsigned_answer(response_key: str, payload: Mapping[str, Any]) -> HttpResponse:
    raw = json.dumps({response_key: payload}, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(raw, content_type="application/json;charset=utf-8")


def _business_failure(sub_code: str, sub_msg: str) -> dict[str, str]:
    return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}


# --- the gateway -----------------------------------------------------------------------------


def _request_params(request: HttpRequest) -> dict[str, str]:
    """The query string and the form together (the SDK GETs; a form may POST)."""
    params = request.GET.dict()
    params.update(request.POST.dict())
    return params


@require_http_methods(["GET", "POST"])
def gateway(request: HttpRequest) -> HttpResponse:
    """``/alipay/gateway.do``: a browser's page/wap pay, or a merchant server's API call."""
    params = _request_params(request)
    method = params.get("method", "")
    if method in PAGE_METHODS:
        return _page_pay(request, params)
    api = _SERVER_APIS.get(method)
    if api is None:
        return _unsigned_answer(
            "error_response",
            {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-method",
                "sub_msg": "不存在的方法名",
            },
        )
    response_key = method.replace(".", "_") + "_response"
    if not merchant_signed(params):
        return _unsigned_answer(
            response_key,
            {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
                "sub_msg": "验签出错，请确认签名字符串与应用私钥匹配",
            },
        )
    biz = _biz_content(params)
    if biz is None:
        return _signed_answer(
            response_key, _business_failure("ACQ.INVALID_PARAMETER", "biz_content 不是 JSON 对象")
        )
    return _signed_answer(response_key, api(params.get("app_id", ""), biz))


def _biz_content(params: Mapping[str, str]) -> dict[str, Any] | None:
    try:
        biz = json.loads(params.get("biz_content", ""))
    except ValueError:
        return None
    return biz if isinstance(biz, dict) else None


def _http_url(value: Any) -> str | None:
    """An absolute http(s) URL, ``""`` for none, None for anything else."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > 500:
        return None
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.hostname else None


def _page_pay(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """Check the signed pay request, open (or reopen) the trade and send the buyer to pay it."""

    def refuse(code: str, message: str) -> HttpResponse:
        return error_page(request, provider_label=LABEL, code=code, message=message)

    if not merchant_signed(params):
        return refuse("isv.invalid-signature", "验签出错：请求未使用商户应用私钥正确签名。")
    app_id = params.get("app_id", "")
    if not app_id or params.get("charset", "utf-8").lower() != "utf-8":
        return refuse("isv.invalid-parameter", "缺少 app_id，或 charset 不是 utf-8。")
    biz = _biz_content(params)
    if biz is None:
        return refuse("isv.invalid-parameter", "biz_content 不是 JSON 对象。")
    product_code, channel = PAGE_METHODS[params["method"]]
    out_trade_no = str(biz.get("out_trade_no", ""))
    amount_fen = fen_from_yuan(str(biz.get("total_amount", "")))
    subject = str(biz["subject"]) if isinstance(biz.get("subject"), str) else ""
    notify_url, return_url = (
        _http_url(params.get("notify_url")),
        _http_url(params.get("return_url")),
    )
    quit_url = _http_url(biz.get("quit_url"))
    problems = [
        ("product_code", biz.get("product_code") != product_code),
        ("out_trade_no", not _OUT_TRADE_NO.match(out_trade_no)),
        ("total_amount", amount_fen is None),
        ("subject", not 0 < len(subject) <= 256),
        ("notify_url", notify_url is None),
        ("return_url", return_url is None),
        ("quit_url", quit_url is None),
    ]
    wrong = [name for name, bad in problems if bad]
    expires_at = None
    if biz.get("time_expire"):
        try:
            expires_at = datetime.strptime(str(biz["time_expire"]), _TIME).replace(tzinfo=ALIPAY_TZ)
        except ValueError:
            wrong.append("time_expire")
    if wrong or amount_fen is None:
        return refuse("ACQ.INVALID_PARAMETER", f"参数无效：{', '.join(wrong)}。")
    try:
        trade = trade_open(
            request=TradeRequest(
                provider=PayTrade.Provider.ALIPAY,
                merchant_id=app_id,
                out_trade_no=out_trade_no,
                amount_fen=amount_fen,
                subject=subject,
                channel=channel,
                notify_url=notify_url or "",
                return_url=return_url or "",
                expires_at=expires_at,
                extra={"method": params["method"], "quit_url": quit_url or ""},
            ),
            trade_no=new_number(f"{timezone.localdate():%Y%m%d}2200", 28),
        )
    except PayRefusal as exc:
        code = {"TRADE_CONFLICT": "ACQ.CONTEXT_INCONSISTENT", "TRADE_CLOSED": "ACQ.TRADE_HAS_CLOSE"}
        return refuse(code.get(exc.code, exc.code), exc.message)
    return redirect("alipay:cashier", trade_no=trade.trade_no)


# --- the cashier -----------------------------------------------------------------------------


# --- what goes back to the merchant ----------------------------------------------------------


def _time(moment: datetime | None) -> str:
    return timezone.localtime(moment, ALIPAY_TZ).strftime(_TIME) if moment else ""


def sync_return_params(trade: PayTrade) -> dict[str, str]:
    """The signed parameters Alipay appends to return_url after a payment."""
    return platform_sign(
        {
            "charset": "utf-8",
            "out_trade_no": trade.out_trade_no,
            "method": f"{trade.extra.get('method', 'alipay.trade.page.pay')}.return",
            "total_amount": yuan(trade.amount_fen),
            "trade_no": trade.trade_no,
            "auth_app_id": trade.merchant_id,
            "version": "1.0",
            "app_id": trade.merchant_id,
            "sign_type": "RSA2",
            "seller_id": SELLER_ID,
            "timestamp": _time(timezone.now()),
        }
    )


def build_notification(trade: PayTrade, variant: Variant) -> Outgoing:
    """An asynchronous notification (``trade_status_sync``) of ``trade``, signed as Alipay does."""
    paid = variant is not Variant.STALE
    amount = yuan(trade.amount_fen + (1 if variant is Variant.WRONG_AMOUNT else 0))
    fields = {
        # A stale notification is the one Alipay made when the trade was created.
        "notify_time": _time(timezone.now() if paid else trade.created_at),
        "notify_type": "trade_status_sync",
        "notify_id": "ac" + secrets.token_hex(16),
        "app_id": trade.merchant_id,
        "auth_app_id": trade.merchant_id,
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "trade_status": "TRADE_SUCCESS" if paid else "WAIT_BUYER_PAY",
        "total_amount": amount,
        "subject": trade.subject,
        "seller_id": SELLER_ID,
        "buyer_id": BUYER_ID,
        "buyer_logon_id": BUYER_LOGON_ID,
        "gmt_create": _time(trade.created_at),
    }
    if paid:
        fields.update(
            receipt_amount=amount,
            buyer_pay_amount=amount,
            invoice_amount=amount,
            point_amount="0.00",
            gmt_payment=_time(trade.paid_at),
            fund_bill_list=json.dumps(
                [{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")
            ),
        )
    return Outgoing(body=urlencode(platform_sign(fields)))


def _merchant_accepted(response: httpx.Response) -> bool:
    """Alipay stops only when the merchant answers exactly ``success``."""
    return response.content == b"success"


# --- server APIs -----------------------------------------------------------------------------


def _find_trade(app_id: str, biz: Mapping[str, Any]) -> PayTrade | None:
    trades = PayTrade.objects.filter(provider=PayTrade.Provider.ALIPAY, merchant_id=app_id)
    if biz.get("out_trade_no"):
        return trades.filter(out_trade_no=str(biz["out_trade_no"])).first()
    if biz.get("trade_no"):
        return trades.filter(trade_no=str(biz["trade_no"])).first()
    return None


def _trade_status(trade: PayTrade) -> str:
    """Alipay's status: a trade refunded in full is TRADE_CLOSED, as at Alipay."""
    if trade.status == PayTrade.Status.SUCCEEDED:
        return "TRADE_CLOSED" if refunded_fen(trade) >= trade.amount_fen else "TRADE_SUCCESS"
    return "WAIT_BUYER_PAY" if trade.status == PayTrade.Status.PENDING else "TRADE_CLOSED"


def trade_query(app_id: str, biz: Mapping[str, Any]) -> dict[str, Any]:
    """``alipay.trade.query``."""
    trade = _find_trade(app_id, biz)
    if trade is None:
        return _business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在")
    paid = trade.status == PayTrade.Status.SUCCEEDED
    paid_amount = yuan(trade.amount_fen) if paid else "0.00"
    answer = {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": BUYER_LOGON_ID,
        "trade_status": _trade_status(trade),
        "total_amount": yuan(trade.amount_fen),
        "buyer_pay_amount": paid_amount,
        "receipt_amount": paid_amount,
        "invoice_amount": paid_amount,
        "point_amount": "0.00",
        "buyer_user_id": BUYER_ID,
    }
    if paid:
        answer["send_pay_date"] = _time(trade.paid_at)
    return answer


def trade_refund(app_id: str, biz: Mapping[str, Any]) -> dict[str, Any]:
    """``alipay.trade.refund``: idempotent per out_request_no, never above the paid amount."""
    trade = _find_trade(app_id, biz)
    if trade is None:
        return _business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在")
    amount_fen = fen_from_yuan(str(biz.get("refund_amount", "")))
    out_request_no = str(biz.get("out_request_no") or trade.out_trade_no)
    if amount_fen is None or not _OUT_TRADE_NO.match(out_request_no):
        return _business_failure("ACQ.INVALID_PARAMETER", "refund_amount 或 out_request_no 无效")
    try:
        refund, created = refund_apply(
            trade_pk=trade.pk,
            out_request_no=out_request_no,
            amount_fen=amount_fen,
            refund_no=new_number(f"{timezone.localdate():%Y%m%d}2300", 32),
        )
    except PayRefusal as exc:
        if exc.code == "REFUND_EXCEEDS":
            return _business_failure("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        return _business_failure("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    return {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": BUYER_LOGON_ID,
        "buyer_user_id": BUYER_ID,
        "fund_change": "Y" if created else "N",
        "refund_fee": yuan(refunded_fen(trade)),
        "send_back_fee": yuan(refund.amount_fen),
        "gmt_refund_pay": _time(refund.created_at),
    }


_SERVER_APIS: dict[str, Callable[[str, Mapping[str, Any]], dict[str, Any]]] = {
    "alipay.trade.query": trade_query,
    "alipay.trade.refund": trade_refund,
}


# --- the cashier -----------------------------------------------------------------------------


def _return_to_merchant(request: HttpRequest, trade: PayTrade) -> HttpResponse:
    separator = "&" if "?" in trade.return_url else "?"
    return redirect(f"{trade.return_url}{separator}{urlencode(sync_return_params(trade))}")


CASHIER = Cashier(
    provider=PayTrade.Provider.ALIPAY,
    label=LABEL,
    namespace="alipay",
    template="sandbox/pay_alipay_cashier.html",
    merchant_label="应用 {merchant_id}",
    not_found=("ACQ.TRADE_NOT_EXIST", "交易不存在。"),
    closed_code="ACQ.TRADE_HAS_CLOSE",
    notify=lambda trade: schedule_notifications(
        trade=trade, build=build_notification, accepted=_merchant_accepted
    ),
    paid_return=_return_to_merchant,
    no_return_message="商户未提供返回地址。",
    # Alipay sends a buyer who gives up to the merchant's quit_url (wap pay) if it has one.
    cancel_return=lambda trade: str(trade.extra.get("quit_url") or "") or trade.return_url,
)
cashier, pay, cancel = CASHIER.views()
