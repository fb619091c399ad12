"""Carrier billing, shaped like CAMARA's: prepare a charge, the subscriber confirms it with an
SMS code (validate), the merchant confirms (the bill is charged) or cancels; refunds credit it back.

Prepaid subscribers are charged against their balance, which must cover the amount.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.sandbox import sms
from apps.sandbox.errors import SandboxError, invalid_argument, not_found
from apps.sandbox.models import CarrierPayment, Knobs, Subscriber

MAX_CODE_ATTEMPTS = 3
# The text says "5分钟内有效": a code typed later is refused and the merchant prepares anew.
CODE_LIFETIME = timedelta(minutes=5)


def _body(payment: CarrierPayment) -> dict[str, Any]:
    return {
        "payment_id": payment.payment_id,
        "msisdn": payment.msisdn,
        "amount_fen": payment.amount_fen,
        "status": payment.status,
        "refunded_fen": payment.refunded_fen,
        "merchant_reference": payment.merchant_reference,
    }


def _get(payment_id: str, *, lock: bool = False) -> CarrierPayment:
    qs = CarrierPayment.objects.filter(payment_id=payment_id)
    payment = (qs.select_for_update() if lock else qs).first()
    if payment is None:
        raise not_found("No such payment.")
    return payment


def billing_prepare(
    *, idempotency_key: str, payload: dict[str, Any], knobs: Knobs
) -> tuple[int, dict[str, Any]]:
    """Open a charge and text the subscriber a code; idempotent per key. A ``recurring`` charge
    (a monthly subscription's renewal, which the subscriber agreed to when subscribing, as the
    BOSS knows its 包月 orders) needs no code: it is validated at once and no SMS is sent."""
    unknown = set(payload) - {
        "msisdn",
        "amount_fen",
        "description",
        "merchant_reference",
        "recurring",
    }
    if unknown or not isinstance(payload.get("amount_fen"), int) or payload["amount_fen"] <= 0:
        raise invalid_argument("Body needs msisdn and a positive integer amount_fen, nothing else.")
    existing = CarrierPayment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return 200, _body(existing)
    subscriber = Subscriber.objects.filter(msisdn=str(payload.get("msisdn", ""))).first()
    if subscriber is None:
        raise SandboxError(404, "SUBSCRIBER_NOT_FOUND", "Not a subscriber of this carrier.")
    if subscriber.status != Subscriber.Status.ACTIVE:
        raise SandboxError(403, "SUBSCRIBER_NOT_ACTIVE", "The line is suspended or closed.")
    if subscriber.balance_fen < payload["amount_fen"]:
        raise SandboxError(
            402, "INSUFFICIENT_BALANCE", "The prepaid balance does not cover the amount."
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    payment = CarrierPayment(
        payment_id="CB" + secrets.token_hex(10), idempotency_key=idempotency_key, msisdn=subscriber.msisdn,
        amount_fen=payload["amount_fen"], description=str(payload.get("description", ""))[:200],
        merchant_reference=str(payload.get("merchant_reference", ""))[:64], code=code,
    )  # fmt: skip
    if payload.get("recurring") is True:
        payment.status = CarrierPayment.Status.VALIDATED
    try:
        with transaction.atomic():
            payment.save(force_insert=True)
    except IntegrityError:
        return 200, _body(CarrierPayment.objects.get(idempotency_key=idempotency_key))
    if payment.status == CarrierPayment.Status.VALIDATED:
        return 201, _body(payment)
    yuan = f"{payment.amount_fen // 100}.{payment.amount_fen % 100:02d}"
    sms.sms_accept(
        idempotency_key=f"billing:{payment.payment_id}",
        payload={"to": subscriber.msisdn, "sender": "10086",
                 "text": f"【中国移动】您正在使用话费支付{yuan}元（{payment.description}），验证码{code}，5分钟内有效。"},
        knobs=knobs,
    )  # fmt: skip
    return 201, _body(payment)


def billing_validate(*, payment_id: str, code: str) -> dict[str, Any]:
    """The subscriber's code; a wrong one counts (committed) and three lock the payment; any
    code after ``CODE_LIFETIME`` is ``CODE_EXPIRED`` (410)."""
    wrong_left: int | None = None
    with transaction.atomic():
        payment = _get(payment_id, lock=True)
        if payment.status == CarrierPayment.Status.VALIDATED:
            return _body(payment)
        if payment.status != CarrierPayment.Status.PREPARED:
            raise SandboxError(409, "INVALID_STATE", f"The payment is {payment.status}.")
        if payment.created_at <= timezone.now() - CODE_LIFETIME:
            raise SandboxError(410, "CODE_EXPIRED", "The code has expired; prepare a new payment.")
        if payment.attempts >= MAX_CODE_ATTEMPTS:
            raise SandboxError(
                403, "TOO_MANY_ATTEMPTS", "Too many wrong codes; prepare a new payment."
            )
        if secrets.compare_digest(payment.code, str(code)):
            payment.status = CarrierPayment.Status.VALIDATED
            payment.save(update_fields=["status"])
        else:
            payment.attempts += 1
            payment.save(update_fields=["attempts"])
            wrong_left = MAX_CODE_ATTEMPTS - payment.attempts
    if wrong_left is not None:
        raise SandboxError(400, "INVALID_CODE", f"Wrong code; {wrong_left} attempts left.")
    return _body(payment)


@transaction.atomic
def billing_confirm(*, payment_id: str) -> dict[str, Any]:
    """Charge the bill once; a repeat returns the same result."""
    payment = _get(payment_id, lock=True)
    if payment.status == CarrierPayment.Status.SUCCEEDED:
        return _body(payment)
    if payment.status != CarrierPayment.Status.VALIDATED:
        raise SandboxError(
            409, "INVALID_STATE", "The subscriber has not confirmed the payment with the code."
        )
    subscriber = Subscriber.objects.select_for_update().get(msisdn=payment.msisdn)
    if subscriber.balance_fen < payment.amount_fen:
        raise SandboxError(
            402, "INSUFFICIENT_BALANCE", "The prepaid balance does not cover the amount."
        )
    subscriber.balance_fen -= payment.amount_fen
    subscriber.save(update_fields=["balance_fen", "updated_at"])
    payment.status = CarrierPayment.Status.SUCCEEDED
    payment.charged_at = timezone.now()
    payment.save(update_fields=["status", "charged_at"])
    return _body(payment)


@transaction.atomic
def billing_cancel(*, payment_id: str) -> dict[str, Any]:
    payment = _get(payment_id, lock=True)
    if payment.status in (CarrierPayment.Status.PREPARED, CarrierPayment.Status.VALIDATED):
        payment.status = CarrierPayment.Status.CANCELLED
        payment.save(update_fields=["status"])
    elif payment.status != CarrierPayment.Status.CANCELLED:
        raise SandboxError(409, "INVALID_STATE", "A charged payment is refunded, not cancelled.")
    return _body(payment)


@transaction.atomic
def billing_refund(*, payment_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Credit part or all of a charge back; idempotent per refund reference. A line closed
    since the charge is refused (``LINE_CLOSED``): there is no bill left to credit."""
    reference, amount = str(payload.get("refund_reference", "")), payload.get("amount_fen")
    if not reference or not isinstance(amount, int) or amount <= 0:
        raise invalid_argument("Body needs refund_reference and a positive integer amount_fen.")
    payment = _get(payment_id, lock=True)
    if reference in payment.refunds:
        if payment.refunds[reference] != amount:
            raise SandboxError(
                409, "IDEMPOTENCY_CONFLICT", "This refund reference was used with another amount."
            )
        return {**_body(payment), "refund_reference": reference}
    if (
        payment.status != CarrierPayment.Status.SUCCEEDED
        or payment.refunded_fen + amount > payment.amount_fen
    ):
        raise SandboxError(
            409, "REFUND_EXCEEDS_PAYMENT", "More than was charged cannot be refunded."
        )
    subscriber = Subscriber.objects.select_for_update().get(msisdn=payment.msisdn)
    if subscriber.status == Subscriber.Status.CANCELLED:
        # A closed line (销户) has no bill to credit: the merchant refunds some other way.
        raise SandboxError(403, "LINE_CLOSED", "The line is closed; nothing can be credited to it.")
    subscriber.balance_fen += amount
    subscriber.save(update_fields=["balance_fen", "updated_at"])
    payment.refunded_fen += amount
    payment.refunds = {**payment.refunds, reference: amount}
    payment.refunded_at = {**payment.refunded_at, reference: timezone.now().isoformat()}
    payment.save(update_fields=["refunded_fen", "refunds", "refunded_at"])
    return {**_body(payment), "refund_reference": reference}


def billing_get(*, payment_id: str) -> dict[str, Any]:
    return _body(_get(payment_id))
