"""UnionPay online gateway (全渠道 5.1.0, signMethod 01): front form, back notification, query, refund.

UnionPay has no maintained Python SDK, so the signature rule lives in ``unionpay_sign`` and the
HTTP calls go through httpx with ``PAYMENTS_HTTP_TIMEOUT_SECONDS``. Requests are POSTed as
urlencoded forms; answers come back as raw ``k=v&...`` text signed by UnionPay.

Response codes used (UnionPay's 应答码 list):
    ``00`` success; ``03`` 交易通讯超时, ``04`` 交易状态未明, ``05`` 交易已受理 (outcome not
    known yet: pending); ``12`` 重复交易 (this orderId was used before); ``34`` 查无此交易 (no such
    order). In a query answer ``respCode`` is about the query itself and ``origRespCode`` about
    the order queried. Anything else is a refusal, passed on in ``details["provider_code"]``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import InvalidArgument
from apps.payments.providers import unionpay_certs, unionpay_sign
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

UNIONPAY_TZ = ZoneInfo("Asia/Shanghai")
VERSION = "5.1.0"
BIZ_TYPE = "000201"  # B2C gateway payment
CURRENCY_CNY = "156"
TXN_CONSUME, TXN_QUERY, TXN_REFUND = "01", "00", "04"
RESP_OK = "00"
RESP_PENDING = frozenset({"03", "04", "05"})
RESP_DUPLICATE = "12"
RESP_NOT_FOUND = "34"
_CHANNEL_TYPES = {"front": "07", "mobile": "08"}  # 07 PC browser, 08 mobile browser
_ORDER_ID = re.compile(r"^[0-9A-Za-z]{8,40}$")
_DIGITS = re.compile(r"^[0-9]{1,12}$")
_NOTIFICATION_FIELDS = ("orderId", "queryId", "respCode", "txnAmt", "merId", "txnTime")


def _txn_time(moment: datetime | None = None) -> str:
    """``yyyyMMddHHmmss`` in Beijing time of ``moment`` (now when None)."""
    return (moment or timezone.now()).astimezone(UNIONPAY_TZ).strftime("%Y%m%d%H%M%S")


def _check_order_id(value: str, name: str) -> None:
    if not _ORDER_ID.match(value):
        raise InvalidArgument(
            f"UnionPay needs {name} of 8 to 40 letters and digits, not {value!r}."
        )


def _trace_time(fields: Mapping[str, str]) -> datetime | None:
    """When the card was charged: ``traceTime`` (MMddHHmmss) in the year of ``txnTime``.

    An order placed on 31 December may be paid on 1 January, hence the roll into the next year.
    """
    trace, txn = fields.get("traceTime", ""), fields.get("txnTime", "")
    if len(trace) != 10 or len(txn) != 14:
        return None
    try:
        ordered = datetime.strptime(txn, "%Y%m%d%H%M%S").replace(tzinfo=UNIONPAY_TZ)
        charged = datetime.strptime(f"{ordered.year}{trace}", "%Y%m%d%H%M%S").replace(
            tzinfo=UNIONPAY_TZ
        )
        if charged < ordered - timedelta(days=1):
            charged = charged.replace(year=ordered.year + 1)
    except ValueError:
        return None
    return charged


def _order_status(code: str) -> Literal["succeeded", "pending", "closed"]:
    if code == RESP_OK:
        return "succeeded"
    return "pending" if code in RESP_PENDING else "closed"


def _refusal(answer: Mapping[str, str], what: str) -> ProviderRejected:
    code = answer.get("respCode", "")
    return ProviderRejected(
        f"UnionPay refused the {what}: {code} {answer.get('respMsg', '')}".strip(),
        details={"provider_code": code, "message": answer.get("respMsg", "")},
    )


class UnionpayProvider:
    """The UnionPay adapter. Thread-safe: keys are immutable and httpx pools connections."""

    method = "unionpay"
    signs_locally = True  # start() signs a form the browser submits: no call to UnionPay

    def __init__(
        self,
        *,
        mer_id: str,
        gateway: str,
        merchant_private_key: str,
        merchant_cert: str,
        root_certs: str,
        middle_certs: str,
        refund_back_url: str,
        timeout: float,
        validate_cn_name: bool = True,
    ) -> None:
        self.merchant_id = mer_id
        self.gateway = gateway.rstrip("/")
        self.refund_back_url = refund_back_url
        self._private_key = unionpay_sign.load_private_key(merchant_private_key)
        # The merchant's certId is its signing certificate's serial, as the .pfx gives it.
        [certificate, *_] = unionpay_certs.load_certificates(merchant_cert)
        if certificate.public_key() != self._private_key.public_key():
            raise ValueError("UNIONPAY_MERCHANT_CERT is not the certificate of the private key")
        self.cert_id = unionpay_certs.cert_id(certificate)
        # UnionPay's messages bring their signing certificate; these say which ones to trust.
        self.certificates = unionpay_certs.CertificateStore(
            roots=unionpay_certs.load_certificates(root_certs),
            middles=unionpay_certs.load_certificates(middle_certs),
            validate_cn_name=validate_cn_name,
        )
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)))

    @classmethod
    def from_settings(cls) -> UnionpayProvider:
        """The adapter for the current settings; unset keys fall back to the dev keys."""
        from config.devkeys import dev_rsa_private_pem, dev_unionpay_cert_pem

        return _provider_for(
            settings.UNIONPAY_MER_ID,
            settings.UNIONPAY_GATEWAY,
            settings.UNIONPAY_MERCHANT_PRIVATE_KEY or dev_rsa_private_pem("unionpay-merchant"),
            settings.UNIONPAY_MERCHANT_CERT or dev_unionpay_cert_pem("unionpay-merchant"),
            settings.UNIONPAY_ROOT_CERT or dev_unionpay_cert_pem("unionpay-root-ca"),
            settings.UNIONPAY_MIDDLE_CERT or dev_unionpay_cert_pem("unionpay-middle-ca"),
            # UnionPay requires a backUrl on refunds; its refund results are read by query.
            settings.PAYMENTS_PUBLIC_BASE_URL + reverse("payments:notify", args=["unionpay"]),
            settings.PAYMENTS_HTTP_TIMEOUT_SECONDS,
            settings.UNIONPAY_VALIDATE_CN_NAME,
        )

    def start(self, request: PaymentRequest) -> PaymentAction:
        """The signed consumption form (txnType 01) the browser auto-submits to frontTransReq.do."""
        channel_type = _CHANNEL_TYPES.get(request.channel)
        if channel_type is None:
            raise InvalidArgument(
                f"UnionPay has no channel {request.channel!r}; use front or mobile."
            )
        _check_order_id(request.out_trade_no, "out_trade_no")
        if request.amount_fen <= 0:
            raise InvalidArgument("UnionPay amounts are positive.")
        fields = self._header(TXN_CONSUME, "01", channel_type=channel_type)
        fields.update(
            orderId=request.out_trade_no,
            txnTime=_txn_time(request.started_at),
            txnAmt=str(request.amount_fen),
            currencyCode=CURRENCY_CNY,
            frontUrl=request.return_url,
            backUrl=request.notify_url,
            payTimeout=request.expires_at.astimezone(UNIONPAY_TZ).strftime("%Y%m%d%H%M%S"),
            orderDesc=request.subject,
        )
        return PaymentAction(
            kind="form", url=f"{self.gateway}/frontTransReq.do", form_fields=self._signed(fields)
        )

    def verify_notification(
        self, *, body: bytes, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> ProviderNotification:
        """Check a consumption notification (back, or the browser's front post) and read it.

        ``merId`` is returned as ``merchant_id`` and ``txnAmt`` as the amount, unchecked: the
        payments service compares both with the intent. ``event_id`` is ``queryId`` plus
        ``respCode``, so a later notification with another outcome is a new event.
        """
        fields = _form_fields(body=body, form=form)
        try:
            signed = self._is_signed_by_unionpay(fields)
        except unionpay_certs.CertificateRefused as exc:
            logger.warning("UnionPay notification refused: %s", exc.reason)
            raise InvalidNotification(f"UnionPay certificate: {exc.reason}.") from exc
        if not signed:
            raise InvalidNotification("The UnionPay notification's signature is wrong.")
        missing = [name for name in _NOTIFICATION_FIELDS if not fields.get(name)]
        if missing:
            raise InvalidNotification(f"The UnionPay notification lacks {', '.join(missing)}.")
        if fields.get("txnType") != TXN_CONSUME:
            # A refund's result (txnType 04) also comes to backUrl; refunds are read by query.
            raise InvalidNotification(
                f"Not a consumption notification: txnType {fields.get('txnType')!r}."
            )
        if not _DIGITS.match(fields["txnAmt"]):
            raise InvalidNotification(f"txnAmt {fields['txnAmt']!r} is not an amount in fen.")
        status = _order_status(fields["respCode"])
        return ProviderNotification(
            out_trade_no=fields["orderId"],
            provider_trade_no=fields["queryId"],
            status=status,
            amount_fen=int(fields["txnAmt"]),
            currency="CNY" if fields.get("currencyCode", CURRENCY_CNY) == CURRENCY_CNY else "",
            merchant_id=fields["merId"],
            event_id=f"{fields['queryId']}{fields['respCode']}",
            paid_at=_trace_time(fields) if status == "succeeded" else None,
            raw=dict(fields),
        )

    def ack(self, *, ok: bool) -> Ack:
        """UnionPay stops resending on HTTP 200; any other status makes it try again later."""
        if ok:
            return Ack(status=200, content_type="text/plain", body=b"ok")
        return Ack(status=400, content_type="text/plain", body=b"fail")

    def query(self, *, out_trade_no: str, started_at: datetime | None = None) -> TradeState:
        """Transaction status query (txnType 00) of the consumption ``out_trade_no``.

        UnionPay matches the queried order's own ``txnTime``: ``started_at`` is the consumption's
        (the intent's creation time, sent as its txnTime at start); without it, the current time.
        """
        answer = self._query_order(out_trade_no, _txn_time(started_at))
        if answer.get("respCode") == RESP_NOT_FOUND:
            return TradeState(out_trade_no=out_trade_no, status="not_found")
        status = _order_status(answer.get("origRespCode", ""))
        if not _DIGITS.match(answer.get("txnAmt", "")):
            raise ProviderUnavailable(details={"error": "MALFORMED_ANSWER"})
        return TradeState(
            out_trade_no=out_trade_no,
            status=status,
            provider_trade_no=answer.get("queryId", ""),
            amount_fen=int(answer["txnAmt"]),
            paid_at=_trace_time(answer) if status == "succeeded" else None,
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
        """Refund (txnType 04) of the consumption's ``queryId``, with ``orderId`` = out_request_no.

        Three calls: a query for the original ``queryId`` (the contract carries only our id),
        the refund, and a query of the refund's own order, since UnionPay's synchronous ``00``
        only means "accepted". Repeating an ``out_request_no`` gets ``12`` (duplicate) from
        UnionPay; the adapter then reads that refund back and returns its state, so retries are
        safe. ``reason`` has no field at UnionPay.
        """
        _check_order_id(out_request_no, "out_request_no")
        original = self.query(out_trade_no=out_trade_no, started_at=started_at)
        if original.status == "not_found":
            raise ProviderRejected(
                f"UnionPay has no order {out_trade_no}.", details={"provider_code": RESP_NOT_FOUND}
            )
        fields = self._header(TXN_REFUND, "00")
        fields.update(
            orderId=out_request_no,
            origQryId=original.provider_trade_no,
            txnTime=_txn_time(requested_at),
            txnAmt=str(amount_fen),
            currencyCode=CURRENCY_CNY,
            backUrl=self.refund_back_url,
        )
        answer = self._post("backTransReq.do", fields)
        code = answer.get("respCode", "")
        if code != RESP_OK and code != RESP_DUPLICATE and code not in RESP_PENDING:
            raise _refusal(answer, "refund")
        return self._refund_state(
            out_request_no=out_request_no, amount_fen=amount_fen, txn_time=_txn_time(requested_at)
        )

    def _refund_state(self, *, out_request_no: str, amount_fen: int, txn_time: str) -> RefundResult:
        answer = self._query_order(out_request_no, txn_time)
        if answer.get("respCode") == RESP_NOT_FOUND:
            # Accepted a moment ago and not visible yet.
            return RefundResult(
                out_request_no=out_request_no, status="processing", amount_fen=amount_fen
            )
        if answer.get("txnAmt") != str(amount_fen):
            raise ProviderRejected(
                f"UnionPay's order {out_request_no} is another refund than this one.",
                details={"provider_code": RESP_DUPLICATE},
            )
        code = answer.get("origRespCode", "")
        status: Literal["succeeded", "processing", "failed"] = (
            "succeeded" if code == RESP_OK else "processing" if code in RESP_PENDING else "failed"
        )
        return RefundResult(
            out_request_no=out_request_no,
            status=status,
            provider_refund_no=answer.get("queryId", ""),
            amount_fen=amount_fen,
            error_code="" if status != "failed" else code,
        )

    def _query_order(self, order_id: str, txn_time: str) -> dict[str, str]:
        """A signed, verified query answer; ``respCode`` is 00 or 34 when this returns.
        ``txn_time`` is the queried order's own txnTime, as UnionPay matches it."""
        fields = self._header(TXN_QUERY, "00", biz_type="000000")
        fields.update(orderId=order_id, txnTime=txn_time)
        answer = self._post("queryTrans.do", fields)
        code = answer.get("respCode", "")
        if code in RESP_PENDING:
            raise ProviderUnavailable(details={"provider_code": code})
        if code not in (RESP_OK, RESP_NOT_FOUND):
            raise _refusal(answer, "query")
        return answer

    def _header(
        self,
        txn_type: str,
        txn_sub_type: str,
        *,
        channel_type: str = "07",
        biz_type: str = BIZ_TYPE,
    ) -> dict[str, str]:
        return {
            "version": VERSION,
            "encoding": "UTF-8",
            "signMethod": unionpay_sign.SIGN_METHOD,
            "txnType": txn_type,
            "txnSubType": txn_sub_type,
            "bizType": biz_type,
            "channelType": channel_type,
            "accessType": "0",
            "merId": self.merchant_id,
            "certId": self.cert_id,
        }

    def _signed(self, fields: dict[str, str]) -> dict[str, str]:
        # UnionPay never sends an empty field, and the rule signs only the non-empty ones.
        message = {key: value for key, value in fields.items() if value != ""}
        message["signature"] = unionpay_sign.sign(message, self._private_key)
        return message

    def _is_signed_by_unionpay(self, fields: Mapping[str, str]) -> bool:
        """Whether ``fields`` are signed with the key of the trusted certificate they bring.

        Raises ``CertificateRefused`` when the certificate (``signPubKeyCert``, named by
        ``certId``) does not chain to UnionPay's root, has expired or is not the one named.
        """
        if fields.get("signMethod") != unionpay_sign.SIGN_METHOD:
            return False
        return unionpay_sign.verify(fields, self.certificates.signing_key(fields))

    def _post(self, path: str, fields: dict[str, str]) -> dict[str, str]:
        """POST a signed request; return UnionPay's verified answer or raise."""
        url = f"{self.gateway}/{path}"
        try:
            response = self._http.post(url, data=self._signed(fields))
        except httpx.TransportError as exc:
            logger.warning("UnionPay %s unreachable: %r", url, exc)
            raise ProviderUnavailable(details={"error": type(exc).__name__}) from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(details={"http_status": response.status_code})
        if response.status_code != 200:
            raise ProviderRejected(
                f"UnionPay answered HTTP {response.status_code}.",
                details={"provider_code": f"HTTP_{response.status_code}"},
            )
        try:
            answer = unionpay_sign.parse_answer(response.content.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ProviderUnavailable(details={"error": "MALFORMED_ANSWER"}) from exc
        if "signature" not in answer:
            # Format and signature refusals come back unsigned; nothing was done.
            if answer.get("respCode", RESP_OK) != RESP_OK:
                raise _refusal(answer, "request")
            raise ProviderUnavailable(details={"error": "MALFORMED_ANSWER"})
        try:
            signed = self._is_signed_by_unionpay(answer)
        except unionpay_certs.CertificateRefused as exc:
            logger.warning("UnionPay answer refused: %s", exc.reason)
            signed = False
        if not signed:
            # An answer we cannot trust says nothing about the outcome.
            raise ProviderUnavailable(
                "UnionPay's answer failed signature verification.",
                details={"error": "INVALID_ANSWER_SIGNATURE"},
            )
        if answer.get("merId") != self.merchant_id or answer.get("orderId") != fields["orderId"]:
            raise ProviderUnavailable(details={"error": "ANSWER_FOR_ANOTHER_ORDER"})
        return answer


def _form_fields(*, body: bytes, form: Mapping[str, str]) -> dict[str, str]:
    """The notification's fields: the parsed form, else the urlencoded body (UTF-8)."""
    if form:
        return {str(key): str(form[key]) for key in form}
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotification("The UnionPay notification is not a form.") from exc


@functools.cache
def _provider_for(
    mer_id: str,
    gateway: str,
    merchant_private_key: str,
    merchant_cert: str,
    root_certs: str,
    middle_certs: str,
    refund_back_url: str,
    timeout: float,
    validate_cn_name: bool,
) -> UnionpayProvider:
    return UnionpayProvider(
        mer_id=mer_id,
        gateway=gateway,
        merchant_private_key=merchant_private_key,
        merchant_cert=merchant_cert,
        root_certs=root_certs,
        middle_certs=middle_certs,
        refund_back_url=refund_back_url,
        timeout=timeout,
        validate_cn_name=validate_cn_name,
    )
