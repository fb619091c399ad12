"""What every payment provider the sandbox plays shares: keys, amounts, trades, refunds, notifications.

A provider module (``alipay``, ``unionpay``, later ``wechat``) parses and signs its own messages
and uses this module for the rest:

- keys: ``private_key(name)`` / ``public_key(name)`` load the dev keys of ``config.devkeys``
  (e.g. ``"alipay-platform"``); ``rsa_sign`` / ``rsa_verify`` are SHA256withRSA (PKCS#1 v1.5)
  with base64 signatures, the primitive under Alipay RSA2, UnionPay 01 and WeChat Pay APIv3;
- amounts: ``yuan(1234) == "12.34"`` and ``fen_from_yuan("12.34") == 1234``;
- trades: ``trade_open`` (one ``PayTrade`` per provider, merchant and out_trade_no; a repeat
  with another amount is refused), ``trade_pay`` (idempotent, row-locked), ``trade_close``;
- refunds: ``refund_apply`` (idempotent per out_request_no, refuses more than was paid);
- notifications: ``schedule_notifications(trade=..., build=..., accepted=...)`` sends what the
  trade's mode (``notify_mode_for``) asks for after ``knobs.pay_notify_delay_ms``: ``build``
  makes one signed body per ``Variant``, ``accepted`` says whether the merchant's answer ends
  the retries (Alipay: body ``success``; UnionPay: HTTP 200). Every notification is a
  ``PayNotification`` row that counts its attempts; ``notifications_for(out_trade_no)`` lists
  them as JSON-ready dicts for a ``GET /sandbox/pay/notifications`` view;
- pages: ``cashier_context`` (the notification-mode select every cashier shows) and
  ``error_page``.

Refusals are ``PayRefusal(code, message)``; each provider turns the code into its own.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from apps.sandbox.faults import knobs_get
from apps.sandbox.models import Knobs, PayNotification, PayRefund, PayTrade
from apps.sandbox.scheduler import call_later

logger = logging.getLogger(__name__)

FEN_PER_YUAN = 100
MAX_AMOUNT_FEN = 100_000_000_00  # 100 million yuan, Alipay's ceiling for one trade
_POST_TIMEOUT_S = 3.0
# Waits before the 2nd, 3rd, 4th and 5th (last) attempt to deliver one notification.
_BACKOFF_S = (0.5, 1.0, 2.0, 4.0)
# Between two notifications of one trade, so that they arrive in the order they were made.
_SEQUENCE_GAP_S = 0.05
_KEPT_RESPONSE_CHARS = 1000


class PayRefusal(Exception):
    """A refusal a provider gives on purpose; ``code`` is the sandbox's, mapped per provider."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- keys and signatures ---------------------------------------------------------------------


@functools.cache
def private_key(name: str) -> RSAPrivateKey:
    """The dev private key ``name`` (``config.devkeys``), created on first use."""
    from config.devkeys import dev_rsa_private_pem

    key = serialization.load_pem_private_key(dev_rsa_private_pem(name).encode(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


@functools.cache
def public_key(name: str) -> RSAPublicKey:
    """The public half of the dev key ``name``."""
    return private_key(name).public_key()


def rsa_sign(key: RSAPrivateKey, message: bytes) -> str:
    """Base64 of SHA256withRSA (PKCS#1 v1.5) over ``message``."""
    raw = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def rsa_verify(key: RSAPublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is SHA256withRSA of ``message`` under ``key``."""
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


# --- amounts and numbers ---------------------------------------------------------------------


def yuan(amount_fen: int) -> str:
    """``1234`` -> ``"12.34"`` (no symbol, no separators), by integer arithmetic."""
    sign = "-" if amount_fen < 0 else ""
    whole, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{fen:02d}"


def fen_from_yuan(value: str) -> int | None:
    """``"12.34"`` -> ``1234``; None unless a positive amount with at most two decimals."""
    whole, _, fraction = value.partition(".")
    if not (whole.isascii() and whole.isdigit()) or len(fraction) > 2:
        return None
    if fraction and not (fraction.isascii() and fraction.isdigit()):
        return None
    amount = int(whole) * FEN_PER_YUAN + int(fraction.ljust(2, "0") or "0")
    return amount if 0 < amount <= MAX_AMOUNT_FEN else None


def new_number(prefix: str, length: int) -> str:
    """``prefix`` followed by random digits up to ``length`` characters (trade and refund nos)."""
    return prefix + "".join(secrets.choice("0123456789") for _ in range(length - len(prefix)))


# --- trades and refunds ----------------------------------------------------------------------


@dataclass(frozen=True)
class TradeRequest:
    """What a merchant asked for when it opened a trade."""

    provider: str
    merchant_id: str
    out_trade_no: str
    amount_fen: int
    subject: str
    channel: str
    notify_url: str
    return_url: str
    expires_at: datetime | None
    extra: dict[str, Any]


def trade_open(*, request: TradeRequest, trade_no: str) -> PayTrade:
    """The trade for (provider, merchant, out_trade_no), created on first sight.

    A repeat (the buyer reloading the cashier) gets the same trade; a repeat with another
    amount is ``TRADE_CONFLICT`` and a closed trade ``TRADE_CLOSED``. Two racing first requests
    meet at the unique constraint and the loser reads the winner's row.
    """
    lookup = {
        "provider": request.provider,
        "merchant_id": request.merchant_id,
        "out_trade_no": request.out_trade_no,
    }
    trade = PayTrade.objects.filter(**lookup).first()
    if trade is None:
        extra = dict(request.extra)
        if request.expires_at is not None:
            extra["expires_at"] = request.expires_at.isoformat()
        candidate = PayTrade(
            **lookup,
            trade_no=trade_no,
            amount_fen=request.amount_fen,
            subject=request.subject[:256],
            channel=request.channel,
            notify_url=request.notify_url,
            return_url=request.return_url,
            extra=extra,
        )
        try:
            with transaction.atomic():
                candidate.save(force_insert=True)
        except IntegrityError:
            trade = PayTrade.objects.get(**lookup)
        else:
            return candidate
    if trade.amount_fen != request.amount_fen:
        raise PayRefusal(
            "TRADE_CONFLICT",
            f"订单 {request.out_trade_no} 已以金额 {yuan(trade.amount_fen)} 元创建，不能改为 "
            f"{yuan(request.amount_fen)} 元。",
        )
    if trade.status == PayTrade.Status.CLOSED:
        raise PayRefusal("TRADE_CLOSED", f"订单 {request.out_trade_no} 已关闭。")
    return trade


def _expired(trade: PayTrade) -> bool:
    raw = trade.extra.get("expires_at") if isinstance(trade.extra, dict) else None
    return bool(raw) and datetime.fromisoformat(str(raw)) < timezone.now()


def trade_pay(*, trade_pk: int, notify_mode: str) -> tuple[PayTrade, bool]:
    """Mark the trade paid; return it and whether this call paid it (and must notify).

    Idempotent: paying a paid trade changes nothing and returns False. Locks the trade row, so
    two clicks racing on "确认付款" notify once. A trade past its expiry is closed instead and
    ``TRADE_CLOSED`` raised.
    """
    with transaction.atomic():
        trade = PayTrade.objects.select_for_update().get(pk=trade_pk)
        if trade.status == PayTrade.Status.SUCCEEDED:
            return trade, False
        if trade.status == PayTrade.Status.PENDING and _expired(trade):
            trade.status = PayTrade.Status.CLOSED
            trade.save(update_fields=["status"])
        if trade.status == PayTrade.Status.CLOSED:
            closed = True
        else:
            closed = False
            trade.status = PayTrade.Status.SUCCEEDED
            trade.paid_at = timezone.now()
            trade.notify_mode = notify_mode
            trade.save(update_fields=["status", "paid_at", "notify_mode"])
    if closed:
        raise PayRefusal("TRADE_CLOSED", "订单已关闭（超时或已取消），不能付款。")
    return trade, True


def trade_close(*, trade_pk: int) -> PayTrade:
    """Close a pending trade (the buyer cancelled); a paid or closed trade stays as it is."""
    PayTrade.objects.filter(pk=trade_pk, status=PayTrade.Status.PENDING).update(
        status=PayTrade.Status.CLOSED
    )
    return PayTrade.objects.get(pk=trade_pk)


def refunded_fen(trade: PayTrade) -> int:
    total = PayRefund.objects.filter(trade=trade).aggregate(total=Sum("amount_fen"))["total"]
    return int(total or 0)


def refund_apply(
    *, trade_pk: int, out_request_no: str, amount_fen: int, refund_no: str
) -> tuple[PayRefund, bool]:
    """Refund ``amount_fen`` of a paid trade; return the refund and whether this call made it.

    Idempotent per (trade, out_request_no): a repeat returns the first refund whatever its
    amount, as Alipay does. Refuses ``TRADE_NOT_PAID`` and ``REFUND_EXCEEDS`` (the refunds
    would pass the paid amount). The trade row is locked so concurrent refunds add up right.
    """
    with transaction.atomic():
        trade = PayTrade.objects.select_for_update().get(pk=trade_pk)
        existing = PayRefund.objects.filter(trade=trade, out_request_no=out_request_no).first()
        if existing is not None:
            return existing, False
        if trade.status != PayTrade.Status.SUCCEEDED:
            raise PayRefusal("TRADE_NOT_PAID", "交易未支付成功，不能退款。")
        if amount_fen <= 0 or refunded_fen(trade) + amount_fen > trade.amount_fen:
            raise PayRefusal("REFUND_EXCEEDS", "退款金额超过可退金额。")
        refund = PayRefund.objects.create(
            trade=trade, out_request_no=out_request_no, refund_no=refund_no, amount_fen=amount_fen
        )
    return refund, True


# --- notifications ---------------------------------------------------------------------------


class NotifyMode(enum.StrEnum):
    """The ``Knobs.pay_notify_mode`` values, and what the cashier's select offers."""

    NORMAL = "normal"  # one notification of the real outcome
    DUPLICATE = "duplicate"  # the same notification three times
    OUT_OF_ORDER = "out_of_order"  # the real outcome, then a stale "not paid yet" one
    LOST = "lost"  # recorded, never sent: the merchant must query
    WRONG_AMOUNT = "wrong_amount"  # correctly signed, amount one fen too high


class Variant(enum.StrEnum):
    """Which body a provider's ``build`` function makes."""

    PAID = "paid"  # the trade as it is: paid, with its amount
    STALE = "stale"  # the trade before it was paid (Alipay WAIT_BUYER_PAY, UnionPay 05)
    WRONG_AMOUNT = "wrong_amount"  # paid, with amount_fen + 1


_PLANS: dict[str, tuple[Variant, ...]] = {
    NotifyMode.NORMAL: (Variant.PAID,),
    NotifyMode.DUPLICATE: (Variant.PAID, Variant.PAID, Variant.PAID),
    NotifyMode.OUT_OF_ORDER: (Variant.PAID, Variant.STALE),
    NotifyMode.LOST: (),
    NotifyMode.WRONG_AMOUNT: (Variant.WRONG_AMOUNT,),
}


@dataclass(frozen=True)
class Outgoing:
    """One signed notification: its body, content type and any headers (WeChat Pay signs there)."""

    body: str
    content_type: str = "application/x-www-form-urlencoded; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, **self.headers}


Builder = Callable[[PayTrade, Variant], Outgoing]
Acceptor = Callable[[httpx.Response], bool]


def notify_mode_choices() -> list[tuple[str, str]]:
    """(value, 中文 label) of every mode, from the knob's own choices."""
    field = Knobs._meta.get_field("pay_notify_mode")
    return [(str(value), str(label)) for value, label in field.choices or []]


def notify_mode_parse(value: str | None, *, default: str) -> str:
    return value if value in _PLANS else default


def notify_mode_for(trade: PayTrade) -> str:
    """The trade's own mode (chosen at the cashier), else the global knob."""
    return trade.notify_mode or knobs_get().pay_notify_mode


def schedule_notifications(*, trade: PayTrade, build: Builder, accepted: Acceptor) -> None:
    """Send the trade's notifications to its ``notify_url`` after ``knobs.pay_notify_delay_ms``.

    ``build(trade, variant)`` must return a signed body; it runs on a timer thread when the
    notifications go out. Call once per paid trade (``trade_pay`` says when).
    """
    if not trade.notify_url:
        return
    delay_s = knobs_get().pay_notify_delay_ms / 1000
    call_later(
        delay_s, functools.partial(_dispatch, trade_pk=trade.pk, build=build, accepted=accepted)
    )


def _dispatch(*, trade_pk: int, build: Builder, accepted: Acceptor) -> None:
    """Record the mode's notifications, then send them one after another."""
    trade = PayTrade.objects.get(pk=trade_pk)
    mode = notify_mode_for(trade)
    variants = _PLANS.get(mode, _PLANS[NotifyMode.NORMAL])
    if not variants:
        body = build(trade, Variant.PAID)
        PayNotification.objects.create(
            trade=trade,
            url=trade.notify_url,
            body=body.body,
            headers=body.all_headers(),
            mode=mode,
        )
        logger.info("notification for %s lost on purpose", trade)
        return
    # Built once per variant: the duplicates are byte for byte the same notification.
    bodies: dict[Variant, Outgoing] = {}
    row_pks = []
    for variant in variants:
        if variant not in bodies:
            bodies[variant] = build(trade, variant)
        row = PayNotification.objects.create(
            trade=trade,
            url=trade.notify_url,
            body=bodies[variant].body,
            headers=bodies[variant].all_headers(),
            mode=mode,
        )
        row_pks.append(row.pk)
    _send_in_order(row_pks=tuple(row_pks), accepted=accepted)


def _send_in_order(*, row_pks: tuple[int, ...], accepted: Acceptor) -> None:
    """Send the rows strictly one after another: the next row's first attempt starts a short
    gap after the previous row was accepted (or given up on), never while it is still being
    retried. So "out of order" means exactly the planned order (the real outcome, then the
    stale one), however slow the merchant or the machine is."""
    _attempt(row_pk=row_pks[0], accepted=accepted, attempt=1, rest=row_pks[1:])


def _next_in_order(*, rest: tuple[int, ...], accepted: Acceptor) -> None:
    if rest:
        call_later(
            _SEQUENCE_GAP_S, functools.partial(_send_in_order, row_pks=rest, accepted=accepted)
        )


def _attempt(*, row_pk: int, accepted: Acceptor, attempt: int, rest: tuple[int, ...] = ()) -> None:
    """One delivery attempt, recorded on the row; a refusal schedules the next after backoff.
    ``rest`` (the rows planned after this one) go out once this one is settled."""
    row = PayNotification.objects.get(pk=row_pk)
    status: int | None = None
    try:
        response = httpx.post(
            row.url, content=row.body.encode("utf-8"), headers=row.headers, timeout=_POST_TIMEOUT_S
        )
        status, answer, done = response.status_code, response.text, accepted(response)
    except httpx.HTTPError as exc:
        answer, done = repr(exc), False
    PayNotification.objects.filter(pk=row_pk).update(
        attempts=F("attempts") + 1,
        response_status=status,
        response_body=answer[:_KEPT_RESPONSE_CHARS],
    )
    if done:
        _next_in_order(rest=rest, accepted=accepted)
        return
    if attempt > len(_BACKOFF_S):
        logger.warning(
            "notification %s to %s abandoned after %d attempts", row_pk, row.url, attempt
        )
        _next_in_order(rest=rest, accepted=accepted)
        return
    call_later(
        _BACKOFF_S[attempt - 1],
        functools.partial(
            _attempt, row_pk=row_pk, accepted=accepted, attempt=attempt + 1, rest=rest
        ),
    )


def notifications_for(out_trade_no: str, provider: str | None = None) -> list[dict[str, Any]]:
    """Every notification made for trades with this out_trade_no, oldest first, JSON-ready."""
    rows = PayNotification.objects.filter(trade__out_trade_no=out_trade_no).select_related("trade")
    if provider is not None:
        rows = rows.filter(trade__provider=provider)
    return [
        {
            "provider": row.trade.provider,
            "merchant_id": row.trade.merchant_id,
            "out_trade_no": row.trade.out_trade_no,
            "trade_no": row.trade.trade_no,
            "url": row.url,
            "mode": row.mode,
            "body": row.body,
            "headers": row.headers,
            "attempts": row.attempts,
            "response_status": row.response_status,
            "response_body": row.response_body,
            "created_at": timezone.localtime(row.created_at).isoformat(),
        }
        for row in rows.order_by("created_at", "pk")
    ]
