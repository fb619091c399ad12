"""Carrier billing for partners: charge a subscriber's phone bill through the payments app.

A ``BillingCharge`` is the owner's object of a payments intent (purpose ``gateway``, reference
the charge id, method ``carrier_billing``), so the money takes the same road as the mall's
phone-bill payments: the per-subscriber caps, the carrier's texted code, one ledger posting per
payment, refunds by the payments services. The handler registered in ``GatewayConfig.ready``
moves the charge when payments settles or refunds it.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.services import user_ensure_for_phone
from apps.carrier import services as carrier
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.core.audit import audited_transition
from apps.core.errors import DomainError
from apps.gateway import billing_events, locks
from apps.gateway.capability_errors import (
    CapabilityNotFound,
    ChargeStateConflict,
    IdentifierNotFound,
    InvalidAuthorizationId,
    NetworkUnavailable,
    ReferenceCodeInUse,
    RefundDenied,
    RefundInvalidPaymentStatus,
    RefundPaymentNotEligible,
    RefundUnauthorizedAmount,
)
from apps.gateway.context import GatewayApp
from apps.gateway.models import BillingCharge, ChargeRequestDetail, Subscription
from apps.payments import selectors as payment_selectors
from apps.payments import services as payments
from apps.payments.errors import RefundNotAllowed
from apps.payments.handlers import PaymentFact, PurposeHandler, RefundFact
from apps.risk import services as risk

PURPOSE = billing_events.PURPOSE
# How long a prepared charge waits for the subscriber's code.
PREPARED_TTL = timedelta(minutes=15)
# A charge neither charged nor cancelled this long after it was opened is settled by asking the
# carrier (``charges_unsettled_settle``): its code has lapsed, so nothing can confirm it any more.
UNSETTLED_AFTER = PREPARED_TTL + timedelta(minutes=5)
logger = logging.getLogger(__name__)
Status = BillingCharge.Status


@dataclass(frozen=True)
class ChargeView:
    payment_id: str
    phone_number: str
    amount_fen: int
    refunded_fen: int
    description: str
    merchant_reference: str
    status: str
    created_at: datetime
    updated_at: datetime
    authorization_id: str
    # The partner's CAMARA request as it came ({} for a charge made through the old paths).
    request: dict[str, Any]


def _view(charge: BillingCharge, request: dict[str, Any] | None = None) -> ChargeView:
    if request is None:
        detail = ChargeRequestDetail.objects.filter(charge_id=charge.pk).first()
        request = detail.request if detail else {}
    return ChargeView(
        payment_id=charge.pk, phone_number=charge.msisdn, amount_fen=charge.amount_fen,
        refunded_fen=charge.refunded_fen, description=charge.description,
        merchant_reference=charge.merchant_reference, status=charge.status,
        created_at=charge.created_at, updated_at=charge.updated_at,
        authorization_id=charge.intent_public_id, request=request,
    )  # fmt: skip


# A charge id as the gateway makes them (``GC`` + date + hex); anything else names nothing,
# and is not sent to the database (a NUL byte there is an error, not a miss).
_CHARGE_ID = re.compile(r"^[A-Z0-9]{1,32}$")


def _get(app_id: int, payment_id: str) -> BillingCharge:
    if not _CHARGE_ID.match(payment_id):
        raise CapabilityNotFound()
    charge = BillingCharge.objects.filter(pk=payment_id, app_id=app_id).first()
    if charge is None:
        raise CapabilityNotFound()
    return charge


def _move(charge: BillingCharge, status: str) -> None:
    """One transition (charge row locked by the caller), audited, saved."""
    audited_transition(
        charge, status, object_type="gateway_charge", object_id=charge.pk,
        refused=lambda details: ChargeStateConflict(details=details),
    )  # fmt: skip
    charge.save(update_fields=["status", "updated_at"])


def charge_prepare(
    *,
    gateway_app: GatewayApp,
    msisdn: str,
    amount_fen: int,
    description: str,
    merchant_reference: str,
    callback_url: str,
    request: dict[str, Any] | None = None,
    merchant_identifier: str = "",
    pre_authorised: bool = False,
) -> ChargeView:
    """Open a charge; the carrier texts the subscriber a code (none when ``pre_authorised``:
    the subscriber consented under the partner's pre-authorised agreement, and the carrier
    validates the charge at once). Network call after commit.

    ``request`` is the partner's CAMARA request, kept to answer it back (without secrets).
    The subscriber's daily and monthly caps are the payments app's (an advisory lock per
    subscriber). Repeats are the pipeline's (Idempotency-Key / clientCorrelator).
    """
    decision = risk.enforce(
        event=risk.Event(kind=risk.Kind.GATEWAY_BILLING, msisdn=msisdn, partner_id=str(gateway_app.app_id),
                         amount_fen=amount_fen, reference=merchant_reference[:64]),
    )  # fmt: skip
    user_id = user_ensure_for_phone(phone=msisdn)
    try:
        with transaction.atomic():
            charge = BillingCharge.objects.create(
                id=f"GC{timezone.localtime():%y%m%d}{secrets.token_hex(8).upper()}",
                app_id=gateway_app.app_id, environment=gateway_app.environment,
                client_id=gateway_app.client_id, callback_url=callback_url, msisdn=msisdn,
                amount_fen=amount_fen, description=description[:60],
                merchant_reference=merchant_reference[:64],
                reference_code=(merchant_reference[:64] or None) if request is not None else None,
            )  # fmt: skip
            if request is not None:
                ChargeRequestDetail.objects.create(
                    charge=charge, request=request, merchant_identifier=merchant_identifier[:64]
                )
    except IntegrityError as exc:
        # Another request took this referenceCode since the view checked it: nothing opened,
        # and what the decision counted goes back to the caps.
        risk.decision_release(decision=decision)
        raise ReferenceCodeInUse() from exc
    try:
        intent = payments.intent_start(
            purpose=PURPOSE, reference=charge.pk, user_id=user_id, method="carrier_billing",
            channel="", amount_fen=amount_fen, subject=description, client_ip="",
            idempotency_key=f"gateway:{charge.pk}", expires_at=timezone.now() + PREPARED_TTL,
            return_url="", recurring=pre_authorised, msisdn=msisdn,
        )  # fmt: skip
    except DomainError as exc:
        with transaction.atomic():
            locked = _locked(charge.pk)
            _move(locked, Status.FAILED)
        if isinstance(exc, SubscriberNotFound):
            raise IdentifierNotFound() from exc
        if isinstance(exc, CarrierUnavailable):
            raise NetworkUnavailable() from exc
        raise
    BillingCharge.objects.filter(pk=charge.pk).update(intent_public_id=intent.public_id)
    charge.intent_public_id = intent.public_id
    return _view(charge, request or {})


def charge_one_step(
    *,
    gateway_app: GatewayApp,
    msisdn: str,
    amount_fen: int,
    description: str,
    merchant_reference: str,
    callback_url: str,
    request: dict[str, Any],
    merchant_identifier: str = "",
) -> ChargeView:
    """CAMARA's one-step payment, for a partner whose package carries the carrier's
    pre-authorised agreement (``pre_authorised_billing``; the view checks it): the charge is
    opened validated and the bill charged at once, with the same caps, risk rules and ledger
    as the two steps. A charge the carrier refuses is cancelled and the refusal raised. One
    it does not answer may have been billed: the carrier is asked (by its payment id); billed,
    it succeeds; not billed, it is cancelled at the carrier, then here, and ``NetworkUnavailable``
    raised; if the carrier cannot say, it is left ``pending`` (unconfirmed, not cancelled: a
    cancel here could lose a success the carrier billed) and ``NetworkUnavailable`` raised. Network calls, no transaction open."""
    view = charge_prepare(
        gateway_app=gateway_app, msisdn=msisdn, amount_fen=amount_fen, description=description,
        merchant_reference=merchant_reference, callback_url=callback_url, request=request,
        merchant_identifier=merchant_identifier, pre_authorised=True,
    )  # fmt: skip
    user_id = user_ensure_for_phone(phone=msisdn)
    try:
        payments.carrier_billing_confirm(public_id=view.authorization_id, user_id=user_id, code="")
    except CarrierUnavailable as exc:
        billed = payments.carrier_billing_settle_unanswered(public_id=view.authorization_id)
        if billed is None:
            raise NetworkUnavailable() from exc
        if not billed:
            charge_cancel(app_id=gateway_app.app_id, payment_id=view.payment_id)
            raise NetworkUnavailable() from exc
    except DomainError:
        charge_cancel(app_id=gateway_app.app_id, payment_id=view.payment_id)
        raise
    return _view(BillingCharge.objects.get(pk=view.payment_id), request)


def pre_authorised_billing(*, app_id: int) -> bool:
    """Whether one of the app's current subscriptions is to a package that carries the
    carrier's pre-authorised (one-step) carrier-billing agreement. Reads only."""
    now = timezone.now()
    current = Subscription.objects.filter(
        app_id=app_id, status=Subscription.Status.ACTIVE, starts_at__lte=now,
        package__is_active=True, package__carrier_billing_one_step=True,
    )  # fmt: skip
    return current.exclude(ends_at__lte=now).exists()


def charge_get(*, app_id: int, payment_id: str, phone_number: str | None = None) -> ChargeView:
    """One of the app's charges (of ``phone_number`` only, for a three-legged token)."""
    charge = _get(app_id, payment_id)
    if phone_number is not None and charge.msisdn != phone_number:
        raise CapabilityNotFound()
    return _view(charge)


def charge_reference_taken(*, app_id: int, reference: str) -> bool:
    """Whether one of the app's CAMARA payments already has this ``referenceCode``. Reads only:
    the early, cheap answer; two requests racing with the same new reference are told apart by
    the unique ``(app, reference_code)`` when the charge is opened (``ReferenceCodeInUse``)."""
    return BillingCharge.objects.filter(app_id=app_id, reference_code=reference[:64]).exists()


@dataclass(frozen=True)
class ChargePage:
    charges: tuple[ChargeView, ...]
    total: int


def charge_list(
    *,
    app_id: int,
    phone_number: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    statuses: tuple[str, ...],
    merchant_identifier: str,
    newest_first: bool,
    offset: int,
    limit: int,
) -> ChargePage:
    """The app's charges (of one number for a three-legged token), filtered and one page of
    them, with how many match in all. Reads only."""
    rows = BillingCharge.objects.filter(app_id=app_id)
    if phone_number is not None:
        rows = rows.filter(msisdn=phone_number)
    if created_from is not None:
        rows = rows.filter(created_at__gte=created_from)
    if created_to is not None:
        rows = rows.filter(created_at__lte=created_to)
    if statuses:
        rows = rows.filter(status__in=statuses)
    if merchant_identifier:
        rows = rows.filter(detail__merchant_identifier=merchant_identifier)
    total = rows.count()
    order = ("-created_at", "-id") if newest_first else ("created_at", "id")
    page = list(rows.select_related("detail").order_by(*order)[offset : offset + limit])
    views = tuple(_view(c, c.detail.request if hasattr(c, "detail") else {}) for c in page)
    return ChargePage(charges=views, total=total)


def charge_validate(
    *, app_id: int, payment_id: str, code: str, authorization_id: str | None = None
) -> ChargeView:
    """The subscriber's code, checked at the carrier; the charge is then ``validated``.

    ``authorization_id`` (CAMARA's) must be the one the prepared charge answered with.
    """
    charge = _get(app_id, payment_id)
    if authorization_id is not None and authorization_id != charge.intent_public_id:
        raise InvalidAuthorizationId()
    if charge.status not in (Status.PENDING, Status.VALIDATED):
        raise ChargeStateConflict(details={"status": charge.status})
    user_id = user_ensure_for_phone(phone=charge.msisdn)
    try:
        payments.carrier_billing_validate(
            public_id=charge.intent_public_id, user_id=user_id, code=code
        )
    except CarrierUnavailable as exc:
        raise NetworkUnavailable() from exc
    with transaction.atomic():
        locked = _locked(charge.pk)
        if locked.status == Status.PENDING:
            _move(locked, Status.VALIDATED)
    return _view(locked)


def charge_confirm(*, app_id: int, payment_id: str) -> ChargeView:
    """Charge the bill once the code was validated. Idempotent: the carrier answers a repeat
    with the first result and payments applies the success once."""
    charge = _get(app_id, payment_id)
    if charge.status == Status.SUCCEEDED:
        return _view(charge)
    if charge.status != Status.VALIDATED:
        raise ChargeStateConflict(details={"status": charge.status})
    user_id = user_ensure_for_phone(phone=charge.msisdn)
    try:
        # Validated at the carrier already: the code is not checked again.
        payments.carrier_billing_confirm(
            public_id=charge.intent_public_id, user_id=user_id, code=""
        )
    except CarrierUnavailable as exc:
        raise NetworkUnavailable() from exc
    return _view(BillingCharge.objects.get(pk=charge.pk))


def charge_cancel(
    *, app_id: int, payment_id: str, reason: str = "cancelled by the partner"
) -> ChargeView:
    """Give up a charge that was not confirmed: the intent stops waiting, the carrier cancels."""
    charge = _get(app_id, payment_id)
    if charge.status == Status.CANCELLED:
        return _view(charge)
    with transaction.atomic():
        locked = _locked(charge.pk)
        if locked.status not in (Status.PENDING, Status.VALIDATED):
            raise ChargeStateConflict(details={"status": locked.status})
        _move(locked, Status.CANCELLED)
        _owe_callback(locked)
    # The carrier's prepared payment is left to lapse: only a confirm charges the bill, and
    # a cancelled charge is never confirmed (a success arriving anyway is refunded).
    if charge.intent_public_id:
        payments.intent_cancel(public_id=charge.intent_public_id, reason=reason)
    return _view(locked)


def charges_unsettled_settle(
    *, older_than: timedelta = UNSETTLED_AFTER, limit: int = 200
) -> dict[str, int]:
    """Beat job: settle the charges still ``pending`` or ``validated`` ``older_than`` after
    they were opened (a one-step charge whose confirmation the carrier did not answer, a
    prepared one whose code never came or that the partner never confirmed) by asking the
    carrier (``payments.carrier_billing_settle_unanswered``): billed, the success is applied
    once and the charge succeeds (the purpose handler); not billed, it is cancelled at the
    carrier first (so no late confirm can bill it), then here, and the partner is called back;
    if the carrier cannot say, the charge is left for the next run. Returns how many went
    which way. Network calls, no transaction open; safe to run twice at once (each answer
    applies once, a charge another run settled is skipped)."""
    cutoff = timezone.now() - older_than
    # Least recently asked first (a charge the carrier cannot answer is touched below), so
    # charges it keeps failing on never hide newer ones from a run.
    rows = list(
        BillingCharge.objects.filter(
            status__in=(Status.PENDING, Status.VALIDATED), created_at__lt=cutoff
        )
        .exclude(intent_public_id="")
        .order_by("updated_at", "pk")
        .values_list("pk", "app_id", "intent_public_id")[:limit]
    )
    counts = {"succeeded": 0, "cancelled": 0, "unknown": 0}
    for charge_id, app_id, public_id in rows:
        try:
            billed = payments.carrier_billing_settle_unanswered(public_id=public_id)
        except Exception:  # one charge's failure must not stop the others
            logger.exception("could not settle phone-bill charge %s", charge_id)
            billed = None
        if billed is None:
            counts["unknown"] += 1
            BillingCharge.objects.filter(
                pk=charge_id, status__in=(Status.PENDING, Status.VALIDATED)
            ).update(updated_at=timezone.now())
            continue
        if billed:
            counts["succeeded"] += 1
            continue
        try:
            charge_cancel(app_id=app_id, payment_id=charge_id, reason="not confirmed in time")
        except ChargeStateConflict:
            continue  # settled by someone else between the two calls
        counts["cancelled"] += 1
    return counts


@dataclass(frozen=True)
class ChargeRefundView:
    refund_id: str
    payment_id: str
    amount_fen: int
    status: str
    created_at: datetime


def charge_refund(
    *,
    app_id: int,
    payment_id: str,
    amount_fen: int | None,
    reason: str,
    request: dict[str, Any] | None = None,
) -> ChargeRefundView:
    """Give part (``amount_fen``) or all (None: what is left) of a charge back, approved at
    once (the partner is the merchant) when the business rules allow it (``_refund_allowed``).
    ``request`` is the partner's CAMARA refund request, kept with the refund to answer it back.

    Refunds go through ``payments.refund_automatic``, keyed by how many this charge already
    has, so a repeat cannot refund twice and the total never exceeds what was charged.
    Locks the charge row, then the payments rows.
    """
    charge = _get(app_id, payment_id)
    if charge.status != Status.SUCCEEDED:
        raise (ChargeStateConflict if request is None else RefundInvalidPaymentStatus)(
            details={"status": charge.status}
        )
    _refund_allowed(charge, camara=request is not None)
    with transaction.atomic():
        # The owner's row first (the payments lock order), so two refunds cannot both pass
        # the check below; refund_automatic alone would clamp the second to what is left.
        locks.billing_charge_lock(charge.pk)
        taken = payment_selectors.refunds_for(purpose=PURPOSE, reference=charge.pk)
        refundable = charge.amount_fen - sum(r.amount_fen for r in taken if r.status != "rejected")
        if amount_fen is None:
            amount_fen = refundable
        if amount_fen > refundable or amount_fen <= 0:
            if request is not None:
                raise RefundUnauthorizedAmount(details={"refundable_fen": refundable})
            raise RefundNotAllowed(details={"refundable_fen": refundable})
        refund = payments.refund_automatic(
            purpose=PURPOSE, reference=charge.pk, amount_fen=amount_fen,
            reason=reason or "partner refund", key=f"gateway:{charge.pk}:{len(taken)}",
        )  # fmt: skip
        if refund is not None and request is not None:
            detail, _created = ChargeRequestDetail.objects.get_or_create(charge=charge)
            detail.refunds[refund.public_id] = request
            detail.save(update_fields=["refunds"])
    if refund is None:
        raise ChargeStateConflict(details={"status": charge.status})
    return ChargeRefundView(
        refund_id=refund.public_id, payment_id=charge.pk, amount_fen=refund.amount_fen,
        status=refund.status, created_at=refund.created_at,
    )  # fmt: skip


def _refund_allowed(charge: BillingCharge, *, camara: bool) -> None:
    """The business rules a refund meets before it is accepted (network call, no transaction
    open): the charge is within the carrier's refund period (``CARRIER_BILLING_REFUND_DAYS``),
    and the line is not closed (a closed line has no bill to credit). When the carrier does
    not answer, the refund is accepted: the carrier refuses it when it is carried out, and it
    ends ``denied``."""
    if charge.created_at < timezone.now() - timedelta(days=settings.CARRIER_BILLING_REFUND_DAYS):
        details = {"reason": "refund_period_over", "days": settings.CARRIER_BILLING_REFUND_DAYS}
        raise (RefundPaymentNotEligible if camara else RefundNotAllowed)(details=details)
    try:
        line = carrier.subscriber_lookup(msisdn=charge.msisdn)
    except (CarrierUnavailable, CarrierRejected):
        return
    except SubscriberNotFound:
        line = None
    if line is None or line.status == "cancelled":
        raise (RefundDenied if camara else RefundNotAllowed)(details={"reason": "line_closed"})


@dataclass(frozen=True)
class ChargeRefundDetail:
    refund_id: str
    amount_fen: int
    status: str  # the payments refund's state
    created_at: datetime
    reason: str
    request: dict[str, Any]  # the partner's CAMARA request ({} for the old paths)


def charge_refunds(
    *, app_id: int, payment_id: str, phone_number: str | None = None
) -> tuple[ChargeRefundDetail, ...]:
    """The refunds of one of the app's charges, oldest first. Reads only."""
    charge = _get(app_id, payment_id)
    if phone_number is not None and charge.msisdn != phone_number:
        raise CapabilityNotFound()
    detail = ChargeRequestDetail.objects.filter(charge_id=charge.pk).first()
    asked = detail.refunds if detail else {}
    return tuple(
        ChargeRefundDetail(
            refund_id=r.public_id,
            amount_fen=r.amount_fen,
            status=r.status,
            created_at=r.created_at,
            reason=r.reason,
            request=asked.get(r.public_id, {}),
        )
        for r in payment_selectors.refunds_for(purpose=PURPOSE, reference=charge.pk)
    )


def charge_refundable_fen(*, app_id: int, payment_id: str, phone_number: str | None = None) -> int:
    """What can still be refunded of a charge: nothing unless it succeeded. Reads only."""
    charge = _get(app_id, payment_id)
    if phone_number is not None and charge.msisdn != phone_number:
        raise CapabilityNotFound()
    if charge.status != Status.SUCCEEDED:
        return 0
    taken = payment_selectors.refunds_for(purpose=PURPOSE, reference=charge.pk)
    return charge.amount_fen - sum(r.amount_fen for r in taken if r.status not in DENIED_REFUNDS)


# The payments refund states that gave nothing back.
DENIED_REFUNDS = frozenset({"rejected", "failed"})


# --- The payments handler -------------------------------------------------------------------


def _locked(charge_id: str) -> BillingCharge:
    charge = locks.billing_charge_lock(charge_id)
    assert charge is not None  # read just before, and charges are never deleted
    return charge


def _lock(reference: str) -> None:
    locks.billing_charge_lock(reference)


def _on_succeeded(fact: PaymentFact) -> bool:
    """Take the money if the charge still wants it (row locked by ``_lock`` first)."""
    charge = locks.billing_charge_lock(fact.reference)
    if charge is None or fact.amount_fen != charge.amount_fen:
        return False
    if charge.status not in (Status.PENDING, Status.VALIDATED):
        return False
    _move(charge, Status.SUCCEEDED)
    _owe_callback(charge)
    return True


def _on_refunded(fact: RefundFact) -> None:
    if not fact.intent_settled:
        return
    charge = locks.billing_charge_lock(fact.reference)
    if charge is None:
        return
    charge.refunded_fen += fact.amount_fen
    charge.save(update_fields=["refunded_fen", "updated_at"])
    billing_events.refund_notify(charge, refund_pk=fact.refund_id)


def _owe_callback(charge: BillingCharge) -> None:
    billing_events.charge_notify(charge)


def _describe(reference: str) -> str:
    return f"合作伙伴话费支付 {reference}"


HANDLER = PurposeHandler(
    on_succeeded=_on_succeeded, on_refunded=_on_refunded, describe=_describe, lock=_lock
)
