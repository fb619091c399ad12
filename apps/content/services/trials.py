"""Free trials of monthly products: asked for by a CP's server (the subscriber confirms with a
texted code, the second confirmation, like a charge) or started by the signed-in subscriber.

One trial per subscriber and product, ever: refused (``TrialAlreadyUsed``) when the subscriber
had the product's trial or subscribed to it before, and held by a partial unique index on the
started trials against two confirmations at once. A started trial is a ``trialing``
subscription with access now; the renewal job charges its first period at the trial's end at
the price point the trial named (the product's default otherwise), through the ordinary
renewal path (``subscriptions_renew_due``), with dunning if that fails.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.carrier import services as carrier
from apps.content.errors import (
    ProductNotFound,
    ProductNotOnSale,
    TrialAlreadyUsed,
    TrialAttemptsExceeded,
    TrialCodeExpired,
    TrialCodeInvalid,
    TrialNotFound,
    TrialNotOffered,
)
from apps.content.locks import trial_lock
from apps.content.models import (
    ContentProduct,
    ContentProvider,
    Entitlement,
    PricePoint,
    Subscription,
    Trial,
)
from apps.content.services.charges import own_subscriber
from apps.content.services.entitlements import entitlement_grant
from apps.content.services.price_points import price_point_for_sale
from apps.core.audit import audited_transition
from apps.core.crypto import keyed_hash
from apps.core.errors import Conflict
from apps.core.money import format_fen
from apps.core.phone import normalize_phone

Status = Trial.Status
CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def _move(trial: Trial, status: str, **after: object) -> None:
    audited_transition(
        trial, status, object_type="content_trial", object_id=trial.pk, after=after,
        refused=lambda details: Conflict(details=details),
    )  # fmt: skip


def _code_hash(trial_id: int, code: str) -> str:
    return keyed_hash(f"{trial_id}:{code}", purpose="content-trial")


def _offered(*, cp_id: int | None, product_id: int) -> ContentProduct:
    product = ContentProduct.objects.select_related("cp").filter(pk=product_id).first()
    if product is None or (cp_id is not None and product.cp_id != cp_id):
        raise ProductNotFound()
    if (
        product.status != ContentProduct.Status.APPROVED
        or product.cp.status != ContentProvider.Status.APPROVED
    ):
        raise ProductNotOnSale(details={"status": product.status})
    if product.billing_mode != ContentProduct.BillingMode.MONTHLY or product.trial_days <= 0:
        raise TrialNotOffered(details={"billing_mode": product.billing_mode})
    return product


def _check_unused(*, user_id: int, product_id: int) -> None:
    used = (
        Trial.objects.filter(user_id=user_id, product_id=product_id, status=Status.STARTED).exists()
        or Subscription.objects.filter(user_id=user_id, product_id=product_id).exists()
    )
    if used:
        raise TrialAlreadyUsed(details={"product_id": product_id})


def trial_request(
    *, cp_id: int, product_id: int, phone_number: str, cp_order_id: str,
    price_point_id: int | None = None, billing_code: str = "",
) -> tuple[Trial, str]:  # fmt: skip
    """The CP's server asks for a subscriber's free trial: the subscriber is texted a code
    (``trial_confirm``). Returns the trial and the code (for the SMS and tests, never a
    response). Idempotent by the CP's order id: a repeat for the same product and number
    returns the first trial and no code (a different one is a ``Conflict``). Refused before
    anything is written: another CP's product or an unknown one, a product not on sale or
    without a trial (``TrialNotOffered``), a price point not on sale, a number the carrier
    does not know (``IdentifierNotFound``), a trial used before (``TrialAlreadyUsed``)."""
    msisdn = normalize_phone(phone_number)
    existing = Trial.objects.filter(cp_id=cp_id, cp_order_id=cp_order_id).first()
    if existing is not None:
        return _same(existing, product_id=product_id, msisdn=msisdn), ""
    product = _offered(cp_id=cp_id, product_id=product_id)
    point = price_point_for_sale(
        product=product, price_point_id=price_point_id, billing_code=billing_code
    )
    user_id = own_subscriber(msisdn)
    _check_unused(user_id=user_id, product_id=product.pk)
    code = f"{secrets.randbelow(1_000_000):06d}"
    try:
        with transaction.atomic():
            trial = Trial.objects.create(
                cp_id=cp_id, product=product, price_point=point, user_id=user_id, msisdn=msisdn,
                cp_order_id=cp_order_id[:64], expires_at=timezone.now() + CODE_TTL,
            )  # fmt: skip
            trial.code_hash = _code_hash(trial.pk, code)
            trial.save(update_fields=["code_hash"])
            text = _("[CarrierHub] Your code %(code)s starts a %(days)d-day free trial of %(title)s; "
                     "after it, %(price)s a month on your phone bill. Cancel any time.") % {
                "code": code, "days": product.trial_days, "title": product.title, "price": format_fen(point.price_fen),
            }  # fmt: skip
            carrier.sms_queue(msisdn=msisdn, text=text, purpose="otp",
                              preview=text.replace(code, "******"))  # fmt: skip
    except IntegrityError:
        existing = Trial.objects.get(cp_id=cp_id, cp_order_id=cp_order_id)
        return _same(existing, product_id=product_id, msisdn=msisdn), ""
    return trial, code


def _same(existing: Trial, *, product_id: int, msisdn: str) -> Trial:
    if (existing.product_id, existing.msisdn) != (product_id, msisdn):
        raise Conflict(details={"cp_order_id": existing.cp_order_id})
    return existing


def trial_get(*, cp_id: int, trial_id: int) -> Trial:
    trial = Trial.objects.filter(pk=trial_id, cp_id=cp_id).first()
    if trial is None:
        raise TrialNotFound()
    return trial


def trial_confirm(*, cp_id: int, trial_id: int, code: str, now: datetime | None = None) -> Trial:
    """The subscriber's texted code starts the trial (the second confirmation). A wrong code
    counts (``TrialCodeInvalid``, committed), ``MAX_ATTEMPTS`` of them or an expired code end
    the request (``TrialAttemptsExceeded``, ``TrialCodeExpired``); a trial used meanwhile is
    refused (``TrialAlreadyUsed``). Idempotent: a started trial answers with itself. Locks the
    trial."""
    now = now or timezone.now()
    failure: Exception | None = None
    with transaction.atomic():
        trial = trial_lock(trial_id=trial_id)
        if trial is None or trial.cp_id != cp_id:
            raise TrialNotFound()
        if trial.status == Status.STARTED:
            return trial
        if trial.status == Status.FAILED:
            raise TrialAttemptsExceeded() if trial.attempts >= MAX_ATTEMPTS else TrialCodeExpired()
        if trial.expires_at is not None and now >= trial.expires_at:
            _move(trial, Status.FAILED, reason="expired")
            trial.save(update_fields=["status", "updated_at"])
            failure = TrialCodeExpired()
        elif not hmac.compare_digest(trial.code_hash, _code_hash(trial.pk, (code or "").strip())):
            trial.attempts += 1
            left = MAX_ATTEMPTS - trial.attempts
            if left <= 0:
                _move(trial, Status.FAILED, reason="attempts")
                failure = TrialAttemptsExceeded()
            else:
                failure = TrialCodeInvalid(details={"attempts_left": left})
            trial.save(update_fields=["status", "attempts", "updated_at"])
    if failure is not None:
        raise failure  # the attempt is committed
    return _start(trial_id=trial_id, now=now)


def _start(*, trial_id: int, now: datetime) -> Trial:
    """Lock the trial again and begin it (see ``_begin``)."""
    try:
        with transaction.atomic():
            trial = trial_lock(trial_id=trial_id)
            assert trial is not None
            if trial.status != Status.STARTED:
                _begin(trial, now=now)
    except IntegrityError as exc:  # another trial of the product started meanwhile
        raise TrialAlreadyUsed(details={"trial_id": trial_id}) from exc
    return trial


def _begin(trial: Trial, *, now: datetime) -> None:
    """The trialing subscription, its access and the CP's notification, in the caller's
    transaction (the trial locked or just made)."""
    _check_unused(user_id=trial.user_id, product_id=trial.product_id)
    product = ContentProduct.objects.get(pk=trial.product_id)
    end = now + timedelta(days=product.trial_days)
    sub = Subscription.objects.create(
        user_id=trial.user_id, msisdn=trial.msisdn, cp_id=trial.cp_id, product=product,
        price_point_id=trial.price_point_id, status=Subscription.Status.TRIALING,
        period_start=now, period_end=end, next_try_at=end,
    )  # fmt: skip
    _move(trial, Status.STARTED, subscription=sub.pk)
    trial.subscription_id = sub.pk
    trial.save(update_fields=["status", "subscription_id", "updated_at"])
    entitlement_grant(user_id=trial.user_id, product=product, source=Entitlement.Source.TRIAL,
                      reference=f"sub:{sub.pk}", now=now, ends_at=end)  # fmt: skip
    from apps.content.services.notifications import notify_subscription

    notify_subscription(sub=sub, event="subscription.trial_started")


def subscription_start_trial(
    *, user_id: int, msisdn: str, product_id: int, now: datetime | None = None
) -> Subscription:
    """A signed-in subscriber (the SMS sign-in proves the number) starts a product's free
    trial on its page, at the default price point: access now, the first charge at the
    trial's end. Once per subscriber and product, ever (``TrialAlreadyUsed``). One
    transaction: the trial is recorded started, or not at all."""
    now = now or timezone.now()
    product = _offered(cp_id=None, product_id=product_id)
    point = PricePoint.objects.get(product=product, is_default=True)
    try:
        with transaction.atomic():
            trial = Trial.objects.create(
                cp_id=product.cp_id, product=product, price_point=point, user_id=user_id,
                msisdn=msisdn, cp_order_id=f"web:{user_id}:{product.pk}",
            )  # fmt: skip
            _begin(trial, now=now)
    except IntegrityError as exc:
        raise TrialAlreadyUsed(details={"product_id": product.pk}) from exc
    return Subscription.objects.get(pk=trial.subscription_id or 0)
