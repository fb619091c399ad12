"""UnionPay's online gateway (全渠道 5.1.0) as the sandbox plays it, signMethod 01 both ways.

The rule, on both sides: every non-empty field but ``signature``, sorted by key, joined as
``k=v&k=v`` without URL encoding; the lower-case hex SHA-256 of that string is signed with
SHA256withRSA and base64-encoded. Merchant requests must be signed by the "unionpay-merchant"
key and name ``certId`` = the serial number of that key's certificate (the one in the
merchant's ``.pfx``, registered with UnionPay). The sandbox signs with the "unionpay-platform"
key, whose certificate is issued by the sandbox's middle CA under its root CA
(``config.devkeys.dev_unionpay_cert_pem``), and sends it in every signed message as 5.1.0 does:
``certId`` is its serial number and ``signPubKeyCert`` its PEM.

The rule is written out here rather than imported from ``apps.payments``: the sandbox is the
other end of the wire and imports nothing from the platform.

Synchronous answers are raw ``k=v&...`` text, as UnionPay writes them. Response codes used:
00 成功, 01 交易失败 (a closed order), 05 已受理 (a stale notification), 10 报文格式错误, 11 验证签名失败, 12 重复交易,
13 报文交易要素缺失, 33 退货金额超限 (the sandbox's choice for an over-refund), 34 查无此交易,
35 原交易不存在或状态不正确.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.sandbox.models import PayRefund, PayTrade
from apps.sandbox.payments.cashier import Cashier, error_page
from apps.sandbox.payments.common import (
    Outgoing,
    PayRefusal,
    TradeRequest,
    Variant,
    new_number,
    private_key,
    refund_apply,
    rsa_sign,
    rsa_verify,
    schedule_notifications,
    trade_open,
)

LABEL = "银联"
MERCHANT_KEY = "unionpay-merchant"
PLATFORM_KEY = "unionpay-platform"
UNIONPAY_TZ = ZoneInfo("Asia/Shanghai")
VERSION = "5.1.0"
_ORDER_ID = re.compile(r"^[0-9A-Za-z]{8,40}$")
_AMOUNT = re.compile(r"^[1-9][0-9]{0,11}$")
_TIME14 = re.compile(r"^[0-9]{14}$")
_ACC_NO = "6216********0018"
_MESSAGES = {
    "00": "成功[0000000]",
    "01": "交易失败",
    "05": "交易已受理，请稍后查询交易结果",
    "10": "报文格式错误",
    "11": "验证签名失败",
    "12": "重复交易",
    "13": "报文交易要素缺失",
    "33": "退货金额超限",
    "34": "查无此交易",
    "35": "原交易不存在或状态不正确",
}


# --- signatures ------------------------------------------------------------------------------


def string_to_sign(fields: Mapping[str, str]) -> str:
    return "&".join(
        f"{key}={value}"
        for key, value in sorted(fields.items())
        if key != "signature" and value != ""
    )


def _digest_hex(fields: Mapping[str, str]) -> bytes:
    return hashlib.sha256(string_to_sign(fields).encode("utf-8")).hexdigest().encode("ascii")


@functools.cache
def certificate(name: str) -> x509.Certificate:
    """The dev certificate of the key ``name``."""
    from config.devkeys import dev_unionpay_cert_pem

    return x509.load_pem_x509_certificate(dev_unionpay_cert_pem(name).encode())


def platform_cert_id() -> str:
    """The certId of the sandbox's signing certificate: its serial number in decimal."""
    return str(certificate(PLATFORM_KEY).serial_number)


@functools.cache
def platform_cert_pem() -> str:
    """``signPubKeyCert``: the signing certificate's PEM with CRLF line breaks, as UnionPay
    sends it (a browser posting the front notification turns every line break into CRLF)."""
    from config.devkeys import dev_unionpay_cert_pem

    return "\r\n".join(dev_unionpay_cert_pem(PLATFORM_KEY).strip().splitlines())


def platform_sign(fields: Mapping[str, str]) -> dict[str, str]:
    """``fields`` without empty values, with UnionPay's certId, certificate and signature."""
    message = {key: value for key, value in fields.items() if value != ""}
    message["signMethod"] = "01"
    message["certId"] = platform_cert_id()
    message["signPubKeyCert"] = platform_cert_pem()
    message["signature"] = rsa_sign(private_key(PLATFORM_KEY), _digest_hex(message))
    return message


def merchant_signed(fields: Mapping[str, str]) -> bool:
    """Signed with signMethod 01 by the merchant's registered certificate, named by its serial."""
    registered = certificate(MERCHANT_KEY)
    key = registered.public_key()
    return (
        fields.get("signMethod") == "01"
        and fields.get("certId") == str(registered.serial_number)
        and isinstance(key, RSAPublicKey)
        and rsa_verify(key, _digest_hex(fields), fields.get("signature", ""))
    )


def _answer(fields: Mapping[str, str], *, signed: bool = True) -> HttpResponse:
    message = platform_sign(fields) if signed else dict(fields)
    raw = "&".join(f"{key}={value}" for key, value in message.items())
    return HttpResponse(raw, content_type="text/plain;charset=UTF-8")


def _echo(fields: Mapping[str, str], code: str) -> dict[str, str]:
    """The request's header fields, answered with ``code``."""
    names = ("version", "encoding", "txnType", "txnSubType", "bizType", "accessType", "merId")
    answer = {name: fields.get(name, "") for name in names}
    answer.update(
        orderId=fields.get("orderId", ""),
        txnTime=fields.get("txnTime", ""),
        respCode=code,
        respMsg=_MESSAGES[code],
    )
    return answer


def _problem(fields: Mapping[str, str], required: Mapping[str, str | re.Pattern[str]]) -> str:
    """``""`` if every required field is there and right, else the response code (13 or 10)."""
    if any(not fields.get(name) for name in required):
        return "13"
    for name, rule in required.items():
        value = fields[name]
        ok = rule.match(value) if isinstance(rule, re.Pattern) else value == rule
        if not ok:
            return "10"
    return ""


_HEADER: dict[str, str | re.Pattern[str]] = {
    "version": VERSION,
    "encoding": re.compile(r"^(?i:utf-8)$"),
    "accessType": "0",
    "merId": re.compile(r"^[0-9A-Za-z]{1,15}$"),
    "orderId": _ORDER_ID,
    "txnTime": _TIME14,
}


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(value) <= 500


def _yyyymmddhhmmss(moment: datetime | None) -> str:
    return timezone.localtime(moment, UNIONPAY_TZ).strftime("%Y%m%d%H%M%S") if moment else ""


# --- front transaction and cashier -----------------------------------------------------------


@require_POST
def front_trans_req(request: HttpRequest) -> HttpResponse:
    """The browser's auto-submitted consumption form: check it, open the trade, show the cashier."""
    fields = request.POST.dict()

    def refuse(code: str, detail: str = "") -> HttpResponse:
        message = f"{_MESSAGES[code]}{'：' + detail if detail else ''}"
        return error_page(request, provider_label=LABEL, code=code, message=message)

    if not merchant_signed(fields):
        return refuse("11")
    code = _problem(
        fields,
        {
            **_HEADER,
            "txnType": "01",
            "txnSubType": "01",
            "bizType": "000201",
            "channelType": re.compile(r"^0[78]$"),
            "currencyCode": "156",
            "txnAmt": _AMOUNT,
            "backUrl": re.compile(r"^https?://"),
        },
    )
    if code:
        return refuse(code)
    if not _http_url(fields["backUrl"]) or (
        fields.get("frontUrl") and not _http_url(fields["frontUrl"])
    ):
        return refuse("10", "frontUrl 或 backUrl 不是 http(s) 地址")
    expires_at = None
    if fields.get("payTimeout"):
        try:
            expires_at = datetime.strptime(fields["payTimeout"], "%Y%m%d%H%M%S").replace(
                tzinfo=UNIONPAY_TZ
            )
        except ValueError:
            return refuse("10", "payTimeout")
    try:
        trade = trade_open(
            request=TradeRequest(
                provider=PayTrade.Provider.UNIONPAY,
                merchant_id=fields["merId"],
                out_trade_no=fields["orderId"],
                amount_fen=int(fields["txnAmt"]),
                subject=fields.get("orderDesc", ""),
                channel=fields["channelType"],
                notify_url=fields["backUrl"],
                return_url=fields.get("frontUrl", ""),
                expires_at=expires_at,
                extra={"txnTime": fields["txnTime"]},
            ),
            trade_no=new_number(
                timezone.localtime(timezone.now(), UNIONPAY_TZ).strftime("%m%d%H%M%S"), 21
            ),
        )
    except PayRefusal as exc:
        return refuse("12" if exc.code == "TRADE_CONFLICT" else "35", exc.message)
    return redirect("unionpay:cashier", trade_no=trade.trade_no)


# --- notifications ---------------------------------------------------------------------------


def result_fields(trade: PayTrade, variant: Variant) -> dict[str, str]:
    """The signed result of a consumption: the back notification's and the front post's fields."""
    paid = variant is not Variant.STALE
    amount = str(trade.amount_fen + (1 if variant is Variant.WRONG_AMOUNT else 0))
    code = "00" if paid else "05"
    fields = {
        "version": VERSION,
        "encoding": "UTF-8",
        "txnType": "01",
        "txnSubType": "01",
        "bizType": "000201",
        "accessType": "0",
        "merId": trade.merchant_id,
        "orderId": trade.out_trade_no,
        "txnTime": str(trade.extra.get("txnTime", "")),
        "txnAmt": amount,
        "currencyCode": "156",
        "queryId": trade.trade_no,
        "respCode": code,
        "respMsg": _MESSAGES[code],
    }
    if paid:
        fields.update(_settlement(trade, amount))
    return platform_sign(fields)


def _settlement(trade: PayTrade, amount: str) -> dict[str, str]:
    """The fields a charged consumption carries: trace, settlement and the (masked) card."""
    paid_at = timezone.localtime(trade.paid_at or timezone.now(), UNIONPAY_TZ)
    return {
        "traceNo": f"{trade.pk % 1_000_000:06d}",
        "traceTime": paid_at.strftime("%m%d%H%M%S"),
        "settleAmt": amount,
        "settleCurrencyCode": "156",
        "settleDate": paid_at.strftime("%m%d"),
        "accNo": _ACC_NO,
        "payCardType": "01",
    }


def build_notification(trade: PayTrade, variant: Variant) -> Outgoing:
    return Outgoing(body=urlencode(result_fields(trade, variant)))


def _merchant_accepted(response: httpx.Response) -> bool:
    """UnionPay stops resending once the merchant answers HTTP 200."""
    return response.status_code == 200


# --- back-end transactions -------------------------------------------------------------------


@require_POST
def query_trans(request: HttpRequest) -> HttpResponse:
    """Transaction status query (txnType 00) of a consumption or refund by merId and orderId.

    A consumption is found only with its own ``txnTime``, as at the real gateway (a refund's is
    not checked: the sandbox keeps the time it received the refund, not the one it was sent).
    """
    fields = request.POST.dict()
    if not merchant_signed(fields):
        return _answer(_echo(fields, "11"), signed=False)
    code = _problem(fields, {**_HEADER, "txnType": "00", "txnSubType": "00"})
    if code:
        return _answer(_echo(fields, code), signed=False)
    merchant, order_id = fields["merId"], fields["orderId"]
    trade = PayTrade.objects.filter(
        provider=PayTrade.Provider.UNIONPAY, merchant_id=merchant, out_trade_no=order_id
    ).first()
    if trade is not None and fields.get("txnTime") != str(trade.extra.get("txnTime", "")):
        return _answer(_echo(fields, "34"))
    if trade is not None:
        orig = {"succeeded": "00", "pending": "05"}.get(trade.status, "01")
        answer = _echo(fields, "00")
        answer.update(
            txnTime=str(trade.extra.get("txnTime", "")),
            txnAmt=str(trade.amount_fen),
            currencyCode="156",
            queryId=trade.trade_no,
            origRespCode=orig,
            origRespMsg=_MESSAGES[orig],
        )
        if trade.status == PayTrade.Status.SUCCEEDED:
            answer.update(_settlement(trade, str(trade.amount_fen)))
        return _answer(answer)
    refund = _refund_by_order(merchant, order_id)
    if refund is None:
        return _answer(_echo(fields, "34"))
    answer = _echo(fields, "00")
    answer.update(
        txnTime=_yyyymmddhhmmss(refund.created_at),
        txnAmt=str(refund.amount_fen),
        currencyCode="156",
        queryId=refund.refund_no,
        origRespCode="00",
        origRespMsg=_MESSAGES["00"],
    )
    return _answer(answer)


def _refund_by_order(merchant_id: str, order_id: str) -> PayRefund | None:
    return (
        PayRefund.objects.filter(
            trade__provider=PayTrade.Provider.UNIONPAY,
            trade__merchant_id=merchant_id,
            out_request_no=order_id,
        )
        .order_by("-created_at")
        .first()
    )


@require_POST
def back_trans_req(request: HttpRequest) -> HttpResponse:
    """Refund (txnType 04) of the consumption ``origQryId``; orderId is the refund's own."""
    fields = request.POST.dict()
    if not merchant_signed(fields):
        return _answer(_echo(fields, "11"), signed=False)
    code = _problem(
        fields,
        {
            **_HEADER,
            "txnType": "04",
            "txnSubType": "00",
            "bizType": "000201",
            "txnAmt": _AMOUNT,
            "origQryId": re.compile(r"^[0-9]{1,32}$"),
            "backUrl": re.compile(r"^https?://"),
        },
    )
    if code:
        return _answer(_echo(fields, code), signed=False)
    merchant, order_id = fields["merId"], fields["orderId"]
    answer = _echo(fields, "00")
    answer["origQryId"] = fields["origQryId"]
    answer["txnAmt"] = fields["txnAmt"]
    taken = (
        _refund_by_order(merchant, order_id) is not None
        or PayTrade.objects.filter(
            provider=PayTrade.Provider.UNIONPAY, merchant_id=merchant, out_trade_no=order_id
        ).exists()
    )
    if taken:
        return _answer({**answer, "respCode": "12", "respMsg": _MESSAGES["12"]})
    trade = PayTrade.objects.filter(
        provider=PayTrade.Provider.UNIONPAY, merchant_id=merchant, trade_no=fields["origQryId"]
    ).first()
    if trade is None:
        return _answer({**answer, "respCode": "35", "respMsg": _MESSAGES["35"]})
    try:
        refund, created = refund_apply(
            trade_pk=trade.pk,
            out_request_no=order_id,
            amount_fen=int(fields["txnAmt"]),
            refund_no=new_number(
                timezone.localtime(timezone.now(), UNIONPAY_TZ).strftime("%m%d%H%M%S"), 21
            ),
        )
    except PayRefusal as exc:
        code = "33" if exc.code == "REFUND_EXCEEDS" else "35"
        return _answer({**answer, "respCode": code, "respMsg": _MESSAGES[code]})
    if not created:
        # Lost a race with the same orderId.
        return _answer({**answer, "respCode": "12", "respMsg": _MESSAGES["12"]})
    answer["queryId"] = refund.refund_no
    return _answer(answer)


# --- the cashier -----------------------------------------------------------------------------


def _post_result_to_merchant(request: HttpRequest, trade: PayTrade) -> HttpResponse:
    """UnionPay returns the browser by an auto-submitted form of the signed result to frontUrl."""
    context = {"front_url": trade.return_url, "fields": result_fields(trade, Variant.PAID)}
    return render(request, "sandbox/pay_unionpay_return.html", context)


CASHIER = Cashier(
    provider=PayTrade.Provider.UNIONPAY,
    label=LABEL,
    namespace="unionpay",
    template="sandbox/pay_unionpay_cashier.html",
    merchant_label="商户 {merchant_id}",
    not_found=("34", _MESSAGES["34"]),
    closed_code="35",
    notify=lambda trade: schedule_notifications(
        trade=trade, build=build_notification, accepted=_merchant_accepted
    ),
    paid_return=_post_result_to_merchant,
    no_return_message="商户未提供前台返回地址。",
)
cashier, pay, cancel = CASHIER.views()
