"""The contract every payment provider adapter keeps; the payments app sees nothing else.

An adapter starts a payment (what the buyer's browser must do), verifies and reads an
asynchronous notification with the provider SDK's own signature check, answers it the way
the provider expects, queries a trade, and refunds. Adapters make HTTP calls but never
touch the database: the payments services record intent before and results after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError


class InvalidNotification(DomainError):
    """Signature, timestamp, decryption or shape of a notification is wrong; nothing is done."""

    code = "INVALID_NOTIFICATION"
    http_status = 400
    default_message = _("The notification could not be verified.")


class ProviderUnavailable(DomainError):
    code = "PROVIDER_UNAVAILABLE"
    http_status = 503
    default_message = _("The payment provider is not answering; try again shortly.")


class ProviderRejected(DomainError):
    code = "PROVIDER_REJECTED"
    http_status = 422
    default_message = _("The payment provider refused the request.")


@dataclass(frozen=True)
class PaymentRequest:
    out_trade_no: str  # our intent's public id, unique per merchant
    amount_fen: int
    subject: str
    channel: str  # alipay: page|wap; wechat: native|h5|jsapi; unionpay: front
    notify_url: str
    return_url: str
    client_ip: str
    expires_at: datetime
    openid: str = ""  # WeChat JSAPI only
    # When the intent was opened: UnionPay's txnTime, which its queries must name again.
    started_at: datetime | None = None


@dataclass(frozen=True)
class PaymentAction:
    """What the buyer's browser does next."""

    kind: Literal["redirect", "form", "qr", "jsapi"]
    url: str = ""  # redirect target, or the form's action
    form_fields: dict[str, str] = field(default_factory=dict)  # auto-submitted POST form
    qr_text: str = ""  # WeChat native: the code_url to render as a QR code
    jsapi_params: dict[str, str] = field(default_factory=dict)  # WeChat JSAPI invoke params


@dataclass(frozen=True)
class ProviderNotification:
    """A verified notification, normalised."""

    out_trade_no: str
    provider_trade_no: str
    status: Literal["succeeded", "closed", "pending"]
    amount_fen: int
    currency: str
    merchant_id: str  # Alipay app_id / WeChat mchid / UnionPay merId, checked against ours
    event_id: str  # the provider's id for this notification, for de-duplication
    paid_at: datetime | None
    raw: dict[str, object]


@dataclass(frozen=True)
class TradeState:
    out_trade_no: str
    status: Literal["pending", "succeeded", "closed", "not_found"]
    provider_trade_no: str = ""
    amount_fen: int = 0
    paid_at: datetime | None = None


@dataclass(frozen=True)
class RefundResult:
    out_request_no: str
    status: Literal["succeeded", "processing", "failed"]
    provider_refund_no: str = ""
    amount_fen: int = 0
    error_code: str = ""


@dataclass(frozen=True)
class Ack:
    """The HTTP answer the provider expects to a notification."""

    status: int
    content_type: str
    body: bytes


class Provider(Protocol):
    method: str  # "alipay" | "wechat" | "unionpay"
    merchant_id: str
    # True when ``start`` only signs what the browser takes to the provider (no network call):
    # the payment's start may then sign inside its transaction.
    signs_locally: bool

    def start(self, request: PaymentRequest) -> PaymentAction: ...

    def verify_notification(
        self, *, body: bytes, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> ProviderNotification:
        """Verify with the provider SDK's signature check; raise ``InvalidNotification``."""
        ...

    def ack(self, *, ok: bool) -> Ack: ...

    def query(self, *, out_trade_no: str, started_at: datetime | None = None) -> TradeState:
        """``started_at``: the request's ``started_at`` (UnionPay names it; others ignore it)."""
        ...

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
        """``started_at`` as in ``query``; ``requested_at``: when the refund was asked for, the
        same on every repeat (UnionPay's txnTime of the refund)."""
        ...
