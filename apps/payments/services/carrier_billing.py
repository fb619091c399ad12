"""Phone-bill payments: the carrier texts a code, the subscriber confirms, the bill is charged."""

from __future__ import annotations

from dataclasses import asdict

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.carrier import services as carrier
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.core.phone import mask_phone
from apps.payments.errors import (
    CarrierBillingCodeExpired,
    CarrierBillingCodeInvalid,
    PaymentNotFound,
    PaymentNotPayable,
)
from apps.payments.locks import intent_lock
from apps.payments.models import Method, PaymentEvent, PaymentIntent
from apps.payments.services.common import IntentView, Status, _move, _view
from apps.payments.services.notifications import _apply_paid
from apps.risk import services as risk


def _carrier_billing_prepare(
    intent: PaymentIntent,
    *,
    subject: str,
    decision: risk.Decision | None = None,
    recurring: bool = False,
) -> IntentView:
    """Ask the carrier to text the subscriber a code (network call, no transaction open); a
    ``recurring`` renewal is validated at once (confirm it with an empty code). A charge the
    carrier refuses gives its amount back to the risk caps."""
    from apps.accounts.selectors import user_profile

    msisdn = user_profile(user_id=intent.user_id).phone  # type: ignore[arg-type]
    try:
        state = carrier.billing_prepare(
            msisdn=msisdn, amount_fen=intent.amount_fen, description=subject[:60],
            reference=intent.public_id, idempotency_key=intent.public_id, recurring=recurring,
        )  # fmt: skip
    except (CarrierUnavailable, CarrierRejected, SubscriberNotFound):
        if decision is not None:
            risk.decision_release(decision=decision)
        with transaction.atomic():
            locked = intent_lock(public_id=intent.public_id)
            assert locked is not None
            _move(locked, Status.FAILED, reason="carrier refused or unreachable")
            locked.save(update_fields=["status", "updated_at"])
        raise
    with transaction.atomic():
        locked = intent_lock(public_id=intent.public_id)
        assert locked is not None
        locked.provider_trade_no = state.payment_id
        locked.action = {"kind": "carrier_code", "msisdn": mask_phone(msisdn)}
        _move(locked, Status.PENDING)
        locked.save(update_fields=["provider_trade_no", "action", "status", "updated_at"])
    return _view(locked)


def carrier_billing_validate(*, public_id: str, user_id: int, code: str) -> IntentView:
    """Check the subscriber's SMS code at the carrier without charging yet (a merchant that
    confirms separately, like the gateway's partners). Network call, no transaction; the
    carrier counts wrong codes and keeps a validated payment validated."""
    intent = PaymentIntent.objects.filter(
        public_id=public_id, user_id=user_id, method=Method.CARRIER_BILLING
    ).first()
    if intent is None:
        raise PaymentNotFound()
    if intent.status != Status.PENDING:
        raise PaymentNotPayable(details={"status": intent.status})
    try:
        carrier.billing_validate(payment_id=intent.provider_trade_no, code=code.strip()[:6])
    except CarrierRejected as exc:
        if exc.carrier_code == "CODE_EXPIRED":
            raise CarrierBillingCodeExpired() from exc
        if exc.carrier_code in ("INVALID_CODE", "TOO_MANY_ATTEMPTS"):
            raise CarrierBillingCodeInvalid(details={"carrier_code": exc.carrier_code}) from exc
        raise
    return _view(intent)


def carrier_billing_confirm(*, public_id: str, user_id: int, code: str) -> IntentView:
    """The subscriber's SMS code confirms the charge; the bill is charged and the intent paid.

    Idempotent, also when repeats race: a paid intent answers with itself; a confirm whose
    re-sent code the carrier refuses as ``INVALID_STATE`` (another confirm charged the bill
    first) asks the carrier for the charge and answers its success; the success is applied
    once under the carrier payment's id. Network calls with no transaction open.
    """
    intent = PaymentIntent.objects.filter(
        public_id=public_id, user_id=user_id, method=Method.CARRIER_BILLING
    ).first()
    if intent is None:
        raise PaymentNotFound()
    if intent.status in PaymentIntent.PAID:
        return _view(intent)
    if intent.status != Status.PENDING:
        raise PaymentNotPayable(details={"status": intent.status})
    try:
        state = carrier.billing_validate_and_confirm(
            payment_id=intent.provider_trade_no, code=code.strip()[:6]
        )
    except CarrierRejected as exc:
        if exc.carrier_code == "CODE_EXPIRED":
            raise CarrierBillingCodeExpired() from exc
        if exc.carrier_code in ("INVALID_CODE", "TOO_MANY_ATTEMPTS"):
            raise CarrierBillingCodeInvalid(details={"carrier_code": exc.carrier_code}) from exc
        if exc.carrier_code != "INVALID_STATE":
            raise
        state = carrier.billing_get(payment_id=intent.provider_trade_no)
        if state.status != "succeeded":
            raise
    if state.status != "succeeded":
        raise PaymentNotPayable(details={"carrier_status": state.status})
    _carrier_billing_paid(intent, state)
    return _view(PaymentIntent.objects.get(pk=intent.pk))


def _carrier_billing_paid(intent: PaymentIntent, state: carrier.BillingState) -> None:
    """Apply the carrier's success once, under the carrier payment's id."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = PaymentEvent.objects.create(
                    intent=intent, method=Method.CARRIER_BILLING, kind="carrier", verified=True,
                    dedupe_key=f"carrier_billing:{state.payment_id}", raw=str(asdict(state)),
                )  # fmt: skip
        except IntegrityError:
            return
        event.outcome = _apply_paid(
            public_id=intent.public_id, amount_fen=state.amount_fen, currency="CNY",
            provider_trade_no=state.payment_id, paid_at=timezone.now(),
        )  # fmt: skip
        event.save(update_fields=["outcome"])


def carrier_billing_settle_unanswered(*, public_id: str) -> bool | None:
    """After a confirm the carrier did not answer (it may have billed anyway), ask it about
    the charge: ``True`` it billed (the success applied once, as a confirm's); ``False`` it did
    not, and the charge is now cancelled at the carrier, so no late confirm can bill it;
    ``None`` it cannot say now (the intent stays pending, to be asked again). Network calls,
    no transaction open."""
    intent = PaymentIntent.objects.filter(
        public_id=public_id, method=Method.CARRIER_BILLING
    ).first()
    if intent is None:
        raise PaymentNotFound()
    if intent.status in PaymentIntent.PAID:
        return True
    try:
        state = carrier.billing_get(payment_id=intent.provider_trade_no)
        if state.status != "succeeded":
            try:
                state = carrier.billing_cancel(payment_id=intent.provider_trade_no)
            except CarrierRejected:
                # Charged between the two calls: a charged payment is not cancelled.
                state = carrier.billing_get(payment_id=intent.provider_trade_no)
    except (CarrierUnavailable, CarrierRejected):
        return None
    if state.status == "succeeded":
        _carrier_billing_paid(intent, state)
        return True
    if state.status == "cancelled":
        return False
    return None
