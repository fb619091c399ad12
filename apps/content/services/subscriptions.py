"""Monthly subscriptions: start (paid or with a free trial), renewal on the phone bill by the
beat job exactly once per period, dunning, cancellation, and plan changes with proration.

Periods are ``PERIOD`` (30 days) long. Renewal: at ``next_try_at`` the job claims the period's
``Renewal`` row (unique per subscription and period) under the subscription's row lock, commits,
charges the bill as a ``recurring`` carrier payment (no code: the subscriber agreed when
subscribing), then records the outcome. A second beat run meanwhile finds the row charging or
paid and does nothing, so a period is charged once whatever the concurrency.

Dunning: a failed renewal is tried again ``DUNNING`` after the period's end (day 3, day 7):
three tries over a week. The third failure suspends the subscription (no access); it is
cancelled ``CANCEL_AFTER`` later unless paid. Cancelling stops renewals; access lasts to the
end of the paid period (the entitlement's ``ends_at``).

A subscription renews at the price point it was bought at (its approved price of the day),
or at the product's default one when that is taken off sale or the plan changed.

Plan change (proration, docs/content.md), between products' default price points: to a dearer product, the difference for the days
left in the period is charged now, ``(new - old) * left / period`` rounded half-up to whole
fen, and the new product applies at once; to a cheaper one, nothing is refunded and the new
product applies from the next period.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.carrier.errors import CarrierRejected, CarrierUnavailable
from apps.content import limits
from apps.content.errors import ChargeStateConflict, ProductNotFound, ProductNotOnSale
from apps.content.locks import charge_lock, subscription_lock
from apps.content.models import (
    Charge,
    ContentProduct,
    Entitlement,
    PricePoint,
    Renewal,
    Subscription,
)
from apps.content.services.entitlements import entitlement_grant
from apps.core.audit import audited_transition
from apps.core.errors import DomainError
from apps.core.money import round_fen
from apps.payments import services as payments
from apps.risk import services as risk

logger = logging.getLogger(__name__)
Status = Subscription.Status
PERIOD = timedelta(days=30)
# After the period's end: the second try at day 3, the third at day 7.
DUNNING = (timedelta(days=3), timedelta(days=7))
CANCEL_AFTER = timedelta(days=7)
# A renewal still "charging" this long after its claim lost its worker (wall-clock time).
INTERRUPTED_AFTER = timedelta(minutes=30)
_OPEN_INTENT = {"created", "pending", "review"}


def _move(sub: Subscription, status: str, **after: object) -> None:
    audited_transition(
        sub, status, object_type="content_subscription", object_id=sub.pk,
        refused=lambda details: ChargeStateConflict(details=details), after=after,
    )  # fmt: skip


def _lock(sub_id: int) -> Subscription:
    return subscription_lock(subscription_id=sub_id)


def subscription_from_charge(charge: Charge, *, now: datetime) -> None:
    """A first paid charge of a monthly product starts a subscription for its period (in the
    payment's transaction, the charge locked); a renewal's charge moves its subscription on."""
    if charge.subscription_id is not None:
        _renewal_paid(charge, now=now)
        return
    sub = Subscription.objects.create(
        user_id=charge.user_id, msisdn=charge.msisdn, cp_id=charge.cp_id, product_id=charge.product_id,
        price_point_id=charge.price_point_id, status=Status.ACTIVE, period_start=now, period_end=now + PERIOD, next_try_at=now + PERIOD,
    )  # fmt: skip
    Charge.objects.filter(pk=charge.pk).update(subscription_id=sub.pk)
    entitlement_grant(user_id=charge.user_id, product=charge.product, source=Entitlement.Source.CHARGE,
                      reference=charge.pk, now=now, ends_at=sub.period_end)  # fmt: skip


def _renewal_paid(charge: Charge, *, now: datetime) -> None:
    sub = _lock(charge.subscription_id)  # type: ignore[arg-type]
    renewal = Renewal.objects.filter(subscription=sub, charge_id=charge.pk).first()
    if renewal is None:  # a proration charge: the product changes now, the period stays
        entitlement_grant(user_id=sub.user_id, product=charge.product, source=Entitlement.Source.CHARGE,
                          reference=charge.pk, now=now, ends_at=sub.period_end)  # fmt: skip
        return
    renewal.status = Renewal.Status.PAID
    renewal.save(update_fields=["status", "updated_at"])
    start = renewal.period_start
    sub.period_start, sub.period_end = start, start + PERIOD
    _move(sub, Status.ACTIVE, period_start=start.isoformat())
    sub.next_try_at, sub.failures, sub.suspended_at = sub.period_end, 0, None
    sub.save()
    entitlement_grant(user_id=sub.user_id, product=charge.product, source=Entitlement.Source.CHARGE,
                      reference=charge.pk, now=start, ends_at=sub.period_end)  # fmt: skip


def _claim(sub_id: int, now: datetime) -> Charge | None:
    """Claim the due period's renewal and open its charge, or None when not due, already
    charging or paid (another run has it). Locks the subscription row."""
    with transaction.atomic():
        sub = _lock(sub_id)
        if sub.next_try_at is None or sub.next_try_at > now or sub.status == Status.CANCELLED:
            return None
        if sub.status == Status.SUSPENDED:
            return None
        start = sub.period_end
        renewal, _created = Renewal.objects.get_or_create(subscription=sub, period_start=start)
        if renewal.status == Renewal.Status.PAID or (
            renewal.status == Renewal.Status.CHARGING and renewal.attempts > sub.failures
        ):
            return None
        product = sub.next_product or sub.product
        if sub.next_product is not None:
            sub.product, sub.next_product, sub.price_point = product, None, None
            sub.save(update_fields=["product", "next_product", "price_point", "updated_at"])
        point = _renewal_point(sub)
        renewal.attempts += 1
        charge = Charge.objects.create(
            id=f"CR{sub.pk}T{int(start.timestamp())}A{renewal.attempts}", cp_id=sub.cp_id, product=product,
            price_point=point, user_id=sub.user_id, msisdn=sub.msisdn, amount_fen=point.price_fen,
            channel=Charge.Channel.SUBSCRIPTION, cp_order_id=f"renew:{sub.pk}:{int(start.timestamp())}:{renewal.attempts}",
            subscription_id=sub.pk,
        )  # fmt: skip
        renewal.status, renewal.charge_id = Renewal.Status.CHARGING, charge.pk
        renewal.save(update_fields=["status", "attempts", "charge_id", "updated_at"])
    return charge


def _renewal_point(sub: Subscription) -> PricePoint:
    """The price point a period is charged at: the subscription's while it is on sale (at its
    approved price of the day), else the product's default."""
    point = sub.price_point
    if point is not None and point.product_id == sub.product_id and point.sellable:
        return point
    return PricePoint.objects.get(product_id=sub.product_id, is_default=True)


def _charge_recurring(charge: Charge) -> None:
    """Charge the bill for a renewal or a proration (network calls, no transaction open).

    Risk decides first (``content_charge``): nobody confirms a renewal, so a challenge refuses
    it like a block, and a content cap passed refuses it (``CapExceeded``); the caller records
    the failure (dunning)."""
    decision = limits.charge_decide(
        user_id=charge.user_id, msisdn=charge.msisdn, cp_id=charge.cp_id,
        product_id=charge.product_id, amount_fen=charge.amount_fen, reference=charge.pk,
        confirmed_by_subscriber=False,
    )  # fmt: skip
    try:
        _charge_bill(charge)
    except CarrierUnavailable:
        raise  # the carrier may have billed: the amount stays counted
    except (DomainError, CarrierRejected):
        risk.decision_release(decision=decision)  # refused: nothing was billed
        raise


def _charge_bill(charge: Charge) -> None:
    intent = payments.intent_start(
        purpose="content", reference=charge.pk, user_id=charge.user_id, method="carrier_billing", channel="",
        amount_fen=charge.amount_fen, subject=charge.product.title, client_ip="",
        idempotency_key=f"content:{charge.pk}:carrier_billing", expires_at=timezone.now() + timedelta(minutes=15),
        return_url="", recurring=True, msisdn=charge.msisdn,
    )  # fmt: skip
    Charge.objects.filter(pk=charge.pk).update(intent_public_id=intent.public_id)
    payments.carrier_billing_confirm(public_id=intent.public_id, user_id=charge.user_id, code="")


def subscription_renew(*, subscription_id: int, now: datetime | None = None) -> str:
    """Renew one subscription if due: ``paid``, ``failed`` (dunning moved on), or ``skipped``."""
    now = now or timezone.now()
    charge = _claim(subscription_id, now)
    if charge is None:
        return "skipped"
    try:
        _charge_recurring(charge)
    except (DomainError, CarrierRejected) as exc:
        _renewal_failed(charge, reason=getattr(exc, "carrier_code", "") or exc.code, now=now)
        return "failed"
    except CarrierUnavailable:
        _renewal_failed(charge, reason="CARRIER_UNAVAILABLE", now=now)
        return "failed"
    return (
        "paid" if Charge.objects.get(pk=charge.pk).status == Charge.Status.SUCCEEDED else "failed"
    )


def _renewal_failed(charge: Charge, *, reason: str, now: datetime) -> None:
    """Record a failed try: the charge fails, and the subscription is retried (day 3, day 7)
    or, at the third failure, suspended."""
    with transaction.atomic():
        locked = charge_lock(charge_id=charge.pk)
        if locked is not None and locked.status == Charge.Status.PENDING:
            audited_transition(locked, Charge.Status.FAILED, object_type="content_charge", object_id=locked.pk,
                               refused=lambda d: ChargeStateConflict(details=d), after={"reason": reason})  # fmt: skip
            locked.save(update_fields=["status", "updated_at"])
        sub = _lock(charge.subscription_id)  # type: ignore[arg-type]
        Renewal.objects.filter(subscription=sub, charge_id=charge.pk).update(
            status=Renewal.Status.FAILED
        )
        if sub.status == Status.CANCELLED:
            return
        sub.failures += 1
        if sub.failures >= len(DUNNING) + 1:
            _move(sub, Status.SUSPENDED, reason=reason)
            sub.suspended_at, sub.next_try_at = now, None
        else:
            _move(sub, Status.PAST_DUE, reason=reason, failures=sub.failures)
            sub.next_try_at = sub.period_end + DUNNING[sub.failures - 1]
        sub.save()


def subscription_cancel(*, subscription_id: int, user_id: int | None = None) -> Subscription:
    """Cancel now: no more renewals; access lasts to the end of the paid period. Idempotent."""
    with transaction.atomic():
        sub = _lock(subscription_id)
        if user_id is not None and sub.user_id != user_id:
            raise ProductNotFound()
        if sub.status != Status.CANCELLED:
            _move(sub, Status.CANCELLED)
            sub.cancelled_at, sub.next_try_at = timezone.now(), None
            sub.save()
            from apps.content.services.notifications import notify_subscription

            notify_subscription(sub=sub, event="subscription.cancelled")
    return sub


def renewals_interrupted_settle(*, now: datetime, limit: int = 500) -> int:
    """Count as failed the renewals whose worker died between claiming the period and
    finishing the charge (``charging`` for ``INTERRUPTED_AFTER`` of wall-clock time): the
    failure goes through dunning like any other, so the period is tried again (a new charge)
    instead of never. Only when no payment of the charge is open or paid: one the carrier may
    still settle is left to payments' pending-intent sweeper (a late success then pays the
    renewal; one whose charge was failed here is refunded by payments, the owner declining).
    Returns how many were settled."""
    from apps.payments.selectors import intents_for

    stale = Renewal.objects.filter(
        status=Renewal.Status.CHARGING, updated_at__lt=timezone.now() - INTERRUPTED_AFTER
    ).exclude(charge_id="")
    settled = 0
    for renewal in stale.order_by("updated_at")[:limit]:
        charge = Charge.objects.select_related("product").filter(pk=renewal.charge_id).first()
        if charge is None or charge.status != Charge.Status.PENDING:
            continue
        statuses = {i.status for i in intents_for(purpose="content", reference=charge.pk)}
        if statuses & (_OPEN_INTENT | {"succeeded", "partially_refunded", "refunded"}):
            continue
        with transaction.atomic():  # again under the charge's lock: a concurrent run settles once
            locked = charge_lock(charge_id=charge.pk)
            if locked is None or locked.status != Charge.Status.PENDING:
                continue
            _renewal_failed(charge, reason="RENEWAL_INTERRUPTED", now=now)
        settled += 1
    return settled


def subscriptions_renew_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Beat: settle interrupted renewals, renew what is due and cancel what stayed suspended
    past ``CANCEL_AFTER``. Concurrent runs are safe (see the module's docstring)."""
    now = now or timezone.now()
    counts = {"paid": 0, "failed": 0, "skipped": 0, "cancelled": 0}
    counts["interrupted"] = renewals_interrupted_settle(now=now, limit=limit)
    due = list(
        Subscription.objects.filter(next_try_at__lte=now)
        .order_by("next_try_at")
        .values_list("pk", flat=True)[:limit]
    )
    for sub_id in due:
        try:
            counts[subscription_renew(subscription_id=sub_id, now=now)] += 1
        except Exception:
            logger.exception("subscription %s could not be renewed", sub_id)
    stale = Subscription.objects.filter(
        status=Status.SUSPENDED, suspended_at__lte=now - CANCEL_AFTER
    )
    for sub_id in stale.values_list("pk", flat=True)[:limit]:
        subscription_cancel(subscription_id=sub_id)
        counts["cancelled"] += 1
    return counts


def proration_fen(*, old_price_fen: int, new_price_fen: int, period_start: datetime, period_end: datetime,
                  now: datetime) -> int:  # fmt: skip
    """What a plan change costs now: the price difference for the part of the period left,
    rounded half-up to whole fen; 0 for a cheaper plan (it starts next period, nothing back)."""
    if new_price_fen <= old_price_fen or now >= period_end:
        return 0
    left = Decimal((period_end - max(now, period_start)).total_seconds())
    whole = Decimal((period_end - period_start).total_seconds())
    return round_fen(Decimal(new_price_fen - old_price_fen) * left / whole)


def subscription_change_plan(
    *, subscription_id: int, product_id: int, now: datetime | None = None
) -> int:
    """Move to another monthly product of the same CP (proration rules in the module's
    docstring); returns the fen charged now (0 for a downgrade, scheduled for next period)."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = _lock(subscription_id)
        new = ContentProduct.objects.filter(
            pk=product_id, cp_id=sub.cp_id, billing_mode="monthly"
        ).first()
        if new is None:
            raise ProductNotFound()
        if new.status != ContentProduct.Status.APPROVED:
            raise ProductNotOnSale()
        if sub.status not in (Status.ACTIVE, Status.TRIALING):
            raise ChargeStateConflict(details={"status": sub.status})
        amount = 0 if sub.status == Status.TRIALING else proration_fen(
            old_price_fen=sub.product.price_fen, new_price_fen=new.price_fen,
            period_start=sub.period_start, period_end=sub.period_end, now=now,
        )  # fmt: skip
        if amount == 0:
            if new.price_fen <= sub.product.price_fen and sub.status != Status.TRIALING:
                sub.next_product = new
            else:
                sub.product, sub.price_point = new, None
            sub.save(update_fields=["product", "next_product", "price_point", "updated_at"])
            return 0
        try:
            with transaction.atomic():
                charge = Charge.objects.create(
                    id=f"CP{sub.pk}T{int(now.timestamp())}", cp_id=sub.cp_id, product=new, user_id=sub.user_id,
                    msisdn=sub.msisdn, amount_fen=amount, channel=Charge.Channel.SUBSCRIPTION,
                    cp_order_id=f"prorate:{sub.pk}:{int(now.timestamp())}", subscription_id=sub.pk,
                )  # fmt: skip
        except IntegrityError as exc:
            raise ChargeStateConflict(details={"plan_change": "in progress"}) from exc
    _charge_recurring(charge)
    with transaction.atomic():
        sub = _lock(subscription_id)
        if Charge.objects.get(pk=charge.pk).status == Charge.Status.SUCCEEDED:
            sub.product, sub.next_product, sub.price_point = new, None, None
            sub.save(update_fields=["product", "next_product", "price_point", "updated_at"])
    return amount
