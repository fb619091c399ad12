"""Payment writes: start an intent, apply what providers report, refund; post every move to the ledger.

Rules kept here: no network call inside a transaction or under a lock (intent is recorded and
committed, the provider is called, the result is applied under the intent's row lock); each
notification counts once (its provider event id is a unique key); an amount, currency or
merchant that does not match the intent puts it under review instead of paying; money that
arrives for a reference that no longer wants it is refunded automatically.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.carrier import services as carrier
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.core.audit import audit_record, audited_transition
from apps.core.errors import IdempotencyConflict
from apps.core.locks import advisory_xact_lock
from apps.core.phone import mask_phone
from apps.core.tasks import enqueue_on_commit
from apps.ledger.errors import InsufficientBalance
from apps.ledger.selectors import account_balance
from apps.ledger.services import LineSpec, account_ensure, journal_post
from apps.payments.errors import (
    CarrierBillingCodeInvalid,
    CarrierBillingDailyLimit,
    CarrierBillingMonthlyLimit,
    InsufficientPoints,
    MethodUnavailable,
    PaymentNotFound,
    PaymentNotPayable,
    RefundNotAllowed,
    RefundNotFound,
)
from apps.payments.handlers import PaymentFact, RefundFact, purpose_handler
from apps.payments.models import Method, PaymentEvent, PaymentIntent, Refund
from apps.payments.providers import PROVIDER_METHODS, get_provider
from apps.payments.providers.base import (
    Ack,
    InvalidNotification,
    PaymentRequest,
    ProviderRejected,
    ProviderUnavailable,
)

logger = logging.getLogger(__name__)
Status = PaymentIntent.Status
RStatus = Refund.Status
CHANNELS: dict[str, tuple[str, ...]] = {
    Method.ALIPAY: ("page", "wap"),
    # JSAPI needs the buyer's openid from WeChat sign-in, which the platform does not have yet.
    Method.WECHAT: ("native", "h5"),
    Method.UNIONPAY: ("front", "mobile"),
    Method.POINTS: ("",),
    Method.CARRIER_BILLING: ("",),
}


def new_public_id(prefix: str) -> str:
    """``PI2611271A2B3C4D5E6F7A8B``: alphanumeric, 24 characters (fits every provider)."""
    return f"{prefix}{timezone.localtime():%y%m%d}{secrets.token_hex(8).upper()}"


@dataclass(frozen=True)
class IntentView:
    id: int
    public_id: str
    user_id: int | None
    purpose: str
    reference: str
    method: str
    channel: str
    amount_fen: int
    status: str
    action: dict[str, Any]
    refunded_fen: int
    settles: bool
    review_reason: str
    paid_at: datetime | None
    expires_at: datetime


def _view(intent: PaymentIntent) -> IntentView:
    return IntentView(
        id=intent.pk,
        public_id=intent.public_id,
        user_id=intent.user_id,
        purpose=intent.purpose,
        reference=intent.reference,
        method=intent.method,
        channel=intent.channel,
        amount_fen=intent.amount_fen,
        status=intent.status,
        action=intent.action,
        refunded_fen=intent.refunded_fen,
        settles=intent.settles,
        review_reason=intent.review_reason,
        paid_at=intent.paid_at,
        expires_at=intent.expires_at,
    )


def _move(intent: PaymentIntent, status: str, *, actor_id: int | None = None, **after: Any) -> None:
    """Apply one transition of the intent's state machine, with its audit event (row locked)."""
    audited_transition(
        intent, status, object_type="payment", object_id=intent.public_id, actor_id=actor_id,
        refused=lambda details: PaymentNotPayable(details=details), after=after,
    )  # fmt: skip


def _locked(public_id: str) -> PaymentIntent | None:
    return PaymentIntent.objects.select_for_update().filter(public_id=public_id).first()


# --- Starting a payment -----------------------------------------------------------------------


def intent_start(
    *,
    purpose: str,
    reference: str,
    user_id: int | None,
    method: str,
    channel: str,
    amount_fen: int,
    subject: str,
    client_ip: str,
    idempotency_key: str,
    expires_at: datetime,
    return_url: str,
) -> IntentView:
    """Open a payment and ask the provider how the buyer pays; idempotent per key.

    Provider methods: the intent is committed as ``created``, the provider is called with no
    transaction open, then the intent becomes ``pending`` with the browser's next step in
    ``action``. Points are taken at once (``succeeded``). The same key returns the first
    intent (a different amount or method under it is an ``IdempotencyConflict``).
    """
    if method not in CHANNELS or channel not in CHANNELS[method]:
        raise MethodUnavailable(details={"method": method, "channel": channel})
    if amount_fen <= 0:
        raise MethodUnavailable(details={"amount_fen": amount_fen})
    with transaction.atomic():
        existing = PaymentIntent.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (existing.method, existing.amount_fen, existing.reference) != (
                method,
                amount_fen,
                reference,
            ):
                raise IdempotencyConflict()
            return _view(existing)
        try:
            with transaction.atomic():
                intent = PaymentIntent.objects.create(
                    public_id=new_public_id("PI"), user_id=user_id, purpose=purpose,
                    reference=reference, method=method, channel=channel, amount_fen=amount_fen,
                    idempotency_key=idempotency_key, expires_at=expires_at,
                )  # fmt: skip
        except IntegrityError:
            return _view(PaymentIntent.objects.get(idempotency_key=idempotency_key))
        audit_record(action="payment.created", object_type="payment", object_id=intent.public_id,
                     actor_id=user_id, after={"method": method, "amount_fen": amount_fen, "reference": reference})  # fmt: skip
        if method == Method.POINTS:
            _points_take(intent)
            return _view(intent)
        if method == Method.CARRIER_BILLING:
            _carrier_billing_check_limits(intent)
    if method == Method.CARRIER_BILLING:
        return _carrier_billing_prepare(intent, subject=subject)
    provider = get_provider(method)
    notify_url = settings.PAYMENTS_PUBLIC_BASE_URL + reverse("payments:notify", args=[method])
    try:
        action = provider.start(
            PaymentRequest(
                out_trade_no=intent.public_id, amount_fen=amount_fen, subject=subject[:120],
                channel=channel, notify_url=notify_url, return_url=return_url,
                client_ip=client_ip or "127.0.0.1", expires_at=expires_at,
            )
        )  # fmt: skip
    except (ProviderUnavailable, ProviderRejected):
        with transaction.atomic():
            locked = _locked(intent.public_id)
            assert locked is not None
            if locked.can_move_to(Status.FAILED):
                _move(locked, Status.FAILED, reason="provider refused or unreachable at start")
                locked.save(update_fields=["status", "updated_at"])
        raise
    with transaction.atomic():
        locked = _locked(intent.public_id)
        assert locked is not None
        locked.action = asdict(action)
        fields = ["action", "updated_at"]
        if locked.status == Status.CREATED:
            _move(locked, Status.PENDING)
            fields.append("status")
        locked.save(update_fields=fields)
    return _view(locked)


def intent_cancel(*, public_id: str, reason: str) -> bool:
    """Stop waiting for a payment (its order was cancelled or expired); idempotent.

    A success that arrives later is still taken and then refunded automatically.
    """
    with transaction.atomic():
        intent = _locked(public_id)
        if intent is None:
            raise PaymentNotFound()
        if intent.status not in (Status.CREATED, Status.PENDING):
            return False
        _move(intent, Status.CANCELLED, reason=reason)
        intent.save(update_fields=["status", "updated_at"])
    return True


# --- Points -----------------------------------------------------------------------------------

POINTS_ACCOUNT = "points:user:{user_id}"


def points_account(user_id: int) -> str:
    code = POINTS_ACCOUNT.format(user_id=user_id)
    account_ensure(code=code, name=f"用户{user_id}积分", kind="liability", unit="POINTS")
    return code


def points_balance(*, user_id: int) -> int:
    """Points the user holds (one point is worth one fen)."""
    return -account_balance(code=points_account(user_id))


def points_grant(*, user_id: int, points: int, key: str, reason: str) -> None:
    """Give a user points (campaigns, the demo seed); idempotent per key."""
    journal_post(
        idempotency_key=f"points:grant:{key}", kind="points.granted", reference=f"user:{user_id}",
        lines=[LineSpec("points:issued", points), LineSpec(points_account(user_id), -points)],
        description=reason,
    )  # fmt: skip


def _points_take(intent: PaymentIntent) -> None:
    """Pay ``intent`` from the user's points, in the caller's transaction (intent row new).

    The ledger checks the holding under its balance lock, so two concurrent spends cannot
    together take more points than the user holds; its refusal is ``InsufficientPoints``.
    """
    if intent.user_id is None:
        raise MethodUnavailable()
    account = points_account(intent.user_id)
    try:
        journal_post(
            idempotency_key=f"payment:{intent.public_id}:points", kind="points.redeemed",
            reference=f"{intent.purpose}:{intent.reference}",
            lines=[LineSpec(account, intent.amount_fen), LineSpec("points:redeemed", -intent.amount_fen)],
        )  # fmt: skip
    except InsufficientBalance as exc:
        raise InsufficientPoints(details={"balance": exc.details["held"]}) from exc
    _succeed(intent, provider_trade_no="", paid_at=timezone.now())


# --- Phone bill (carrier billing) -------------------------------------------------------------


def _carrier_billing_check_limits(intent: PaymentIntent) -> None:
    """Refuse a charge that would take the user over the daily or monthly cap (in the caller's
    transaction, which holds the new intent; concurrent charges are serialised per user)."""
    if intent.user_id is None:
        raise MethodUnavailable()
    advisory_xact_lock("carrier-billing", str(intent.user_id))
    now = timezone.localtime()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    spent = PaymentIntent.objects.filter(
        user_id=intent.user_id, method=Method.CARRIER_BILLING,
        status__in=[Status.CREATED, Status.PENDING, *PaymentIntent.PAID], created_at__gte=day.replace(day=1),
    ).exclude(pk=intent.pk)  # fmt: skip
    month_total = sum(spent.values_list("amount_fen", flat=True))
    day_total = sum(spent.filter(created_at__gte=day).values_list("amount_fen", flat=True))
    if day_total + intent.amount_fen > settings.CARRIER_BILLING_DAILY_LIMIT_FEN:
        raise CarrierBillingDailyLimit(
            details={"limit_fen": settings.CARRIER_BILLING_DAILY_LIMIT_FEN, "spent_fen": day_total}
        )
    if month_total + intent.amount_fen > settings.CARRIER_BILLING_MONTHLY_LIMIT_FEN:
        raise CarrierBillingMonthlyLimit(
            details={
                "limit_fen": settings.CARRIER_BILLING_MONTHLY_LIMIT_FEN,
                "spent_fen": month_total,
            }
        )


def _carrier_billing_prepare(intent: PaymentIntent, *, subject: str) -> IntentView:
    """Ask the carrier to text the subscriber a code (network call, no transaction open)."""
    from apps.accounts.selectors import user_profile

    msisdn = user_profile(user_id=intent.user_id).phone  # type: ignore[arg-type]
    try:
        state = carrier.billing_prepare(
            msisdn=msisdn, amount_fen=intent.amount_fen, description=subject[:60],
            reference=intent.public_id, idempotency_key=intent.public_id,
        )  # fmt: skip
    except (CarrierUnavailable, CarrierRejected, SubscriberNotFound):
        with transaction.atomic():
            locked = _locked(intent.public_id)
            assert locked is not None
            _move(locked, Status.FAILED, reason="carrier refused or unreachable")
            locked.save(update_fields=["status", "updated_at"])
        raise
    with transaction.atomic():
        locked = _locked(intent.public_id)
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
        if exc.carrier_code in ("INVALID_CODE", "TOO_MANY_ATTEMPTS"):
            raise CarrierBillingCodeInvalid(details={"carrier_code": exc.carrier_code}) from exc
        raise
    return _view(intent)


def carrier_billing_confirm(*, public_id: str, user_id: int, code: str) -> IntentView:
    """The subscriber's SMS code confirms the charge; the bill is charged and the intent paid.

    Idempotent: the carrier answers a repeated confirm with the first result, and the
    success is applied once under the carrier payment's id.
    """
    intent = PaymentIntent.objects.filter(
        public_id=public_id, user_id=user_id, method=Method.CARRIER_BILLING
    ).first()
    if intent is None:
        raise PaymentNotFound()
    if intent.status != Status.PENDING:
        raise PaymentNotPayable(details={"status": intent.status})
    try:
        state = carrier.billing_validate_and_confirm(
            payment_id=intent.provider_trade_no, code=code.strip()[:6]
        )
    except CarrierRejected as exc:
        if exc.carrier_code in ("INVALID_CODE", "TOO_MANY_ATTEMPTS"):
            raise CarrierBillingCodeInvalid(details={"carrier_code": exc.carrier_code}) from exc
        raise
    if state.status != "succeeded":
        raise PaymentNotPayable(details={"carrier_status": state.status})
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = PaymentEvent.objects.create(
                    intent=intent, method=Method.CARRIER_BILLING, kind="carrier", verified=True,
                    dedupe_key=f"carrier_billing:{state.payment_id}", raw=str(asdict(state)),
                )  # fmt: skip
        except IntegrityError:
            return _view(PaymentIntent.objects.get(pk=intent.pk))
        event.outcome = _apply_paid(
            public_id=public_id, amount_fen=state.amount_fen, currency="CNY",
            provider_trade_no=state.payment_id, paid_at=timezone.now(),
        )  # fmt: skip
        event.save(update_fields=["outcome"])
    return _view(PaymentIntent.objects.get(pk=intent.pk))


# --- What providers report --------------------------------------------------------------------


def notification_receive(
    *, method: str, body: bytes, headers: dict[str, str], form: dict[str, str]
) -> Ack:
    """Verify and apply one provider notification; any number of repeats has one effect.

    Refused (bad signature, stale timestamp...): stored unverified, nothing else happens,
    and the provider is told it failed. Verified: recorded under the provider's event id
    (a repeat stops here), then applied to the intent under its row lock.
    """
    if method not in PROVIDER_METHODS:
        raise PaymentNotFound()
    provider = get_provider(method)
    raw = body.decode("utf-8", errors="replace")[:20000]
    try:
        note = provider.verify_notification(body=body, headers=headers, form=form)
    except InvalidNotification as exc:
        PaymentEvent.objects.create(method=method, kind="notification", raw=raw, headers=headers,
                                    outcome=f"invalid:{exc.message}"[:64])  # fmt: skip
        return provider.ack(ok=False)
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = PaymentEvent.objects.create(
                    method=method, kind="notification", dedupe_key=f"{method}:{note.event_id}",
                    verified=True, raw=raw, headers=headers,
                )  # fmt: skip
        except IntegrityError:
            return provider.ack(ok=True)  # already applied
        if note.merchant_id != provider.merchant_id:
            outcome = _review(note.out_trade_no, f"merchant {note.merchant_id} is not ours")
        elif note.status != "succeeded":
            outcome = f"ignored:{note.status}"  # a stale or out-of-order state
        else:
            outcome = _apply_paid(
                public_id=note.out_trade_no, amount_fen=note.amount_fen, currency=note.currency,
                provider_trade_no=note.provider_trade_no, paid_at=note.paid_at,
            )  # fmt: skip
        event.intent = PaymentIntent.objects.filter(public_id=note.out_trade_no).first()
        event.outcome = outcome
        event.save(update_fields=["intent", "outcome"])
    return provider.ack(ok=True)


def intent_sync(*, public_id: str) -> str:
    """Ask the provider about a pending intent (a lost notification); apply a success once."""
    intent = PaymentIntent.objects.filter(public_id=public_id).first()
    if intent is None:
        raise PaymentNotFound()
    if intent.method not in PROVIDER_METHODS:
        return "not_applicable"
    state = get_provider(intent.method).query(out_trade_no=public_id)
    if state.status != "succeeded":
        return state.status
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = PaymentEvent.objects.create(
                    intent=intent, method=intent.method, kind="query", verified=True,
                    dedupe_key=f"{intent.method}:query:{public_id}", raw=str(asdict(state)),
                )  # fmt: skip
        except IntegrityError:
            return "already_applied"
        outcome = _apply_paid(
            public_id=public_id, amount_fen=state.amount_fen, currency="CNY",
            provider_trade_no=state.provider_trade_no, paid_at=state.paid_at,
        )  # fmt: skip
        event.outcome = outcome
        event.save(update_fields=["outcome"])
    return outcome


def _review(public_id: str, reason: str) -> str:
    intent = _locked(public_id)
    if intent is None:
        return "unknown_intent"
    if intent.can_move_to(Status.REVIEW):
        _move(intent, Status.REVIEW, reason=reason)
        intent.review_reason = reason[:200]
        intent.save(update_fields=["status", "review_reason", "updated_at"])
    return "review"


def _apply_paid(
    *,
    public_id: str,
    amount_fen: int,
    currency: str,
    provider_trade_no: str,
    paid_at: datetime | None,
) -> str:
    """Mark the intent paid if the money matches it exactly; runs in the caller's transaction.

    Locks the owner's object first (via its handler), then the intent, then the ledger.
    """
    found = (
        PaymentIntent.objects.filter(public_id=public_id)
        .values_list("purpose", "reference")
        .first()
    )
    if found is not None:
        owner_lock = purpose_handler(found[0]).lock
        if owner_lock is not None:
            owner_lock(found[1])
    intent = _locked(public_id)
    if intent is None:
        return "unknown_intent"
    if intent.status in PaymentIntent.PAID:
        return "already_paid"
    if amount_fen != intent.amount_fen or currency != intent.currency:
        return _review(
            public_id,
            f"paid {amount_fen} {currency}, expected {intent.amount_fen} {intent.currency}",
        )
    return _succeed(intent, provider_trade_no=provider_trade_no, paid_at=paid_at or timezone.now())


def _succeed(intent: PaymentIntent, *, provider_trade_no: str, paid_at: datetime) -> str:
    """Record the money, book it, and hand it to the owner; refund it if the owner declines."""
    _move(intent, Status.SUCCEEDED, provider_trade_no=provider_trade_no)
    intent.provider_trade_no = provider_trade_no
    intent.paid_at = paid_at
    intent.save(update_fields=["status", "provider_trade_no", "paid_at", "updated_at"])
    fact = PaymentFact(
        intent_id=intent.pk, public_id=intent.public_id, purpose=intent.purpose, reference=intent.reference,
        method=intent.method, amount_fen=intent.amount_fen, user_id=intent.user_id,
    )  # fmt: skip
    accepted = purpose_handler(intent.purpose).on_succeeded(fact)
    if accepted:
        try:
            with transaction.atomic():
                PaymentIntent.objects.filter(pk=intent.pk).update(settles=True)
        except IntegrityError:
            accepted = False  # another intent already paid this reference
    # The ledger last: its balance rows are the hottest locks, so they are held the shortest.
    reference = f"{intent.purpose}:{intent.reference}"
    if intent.method == Method.POINTS:
        # The points were spent in their own journal; book what they were worth in money.
        lines = [
            LineSpec("platform:points_expense", intent.amount_fen),
            LineSpec("platform:revenue", -intent.amount_fen),
        ]
    else:
        lines = [
            LineSpec(f"clearing:{intent.method}", intent.amount_fen),
            LineSpec("platform:revenue", -intent.amount_fen),
        ]
    journal_post(
        idempotency_key=f"payment:{intent.public_id}",
        kind="payment.succeeded",
        reference=reference,
        lines=lines,
    )
    if not accepted:
        _refund_create(intent, amount_fen=intent.amount_fen, reason="自动退款：订单已取消、过期或已支付",
                       request_key=f"auto:{intent.public_id}", requested_by=None, automatic=True)  # fmt: skip
        return "refunding"
    return "succeeded"


def intents_sync_pending(*, older_than_seconds: int = 60, limit: int = 200) -> int:
    """Query the providers for intents still pending after a while (lost notifications)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        PaymentIntent.objects.filter(
            status=Status.PENDING, created_at__lt=cutoff, method__in=PROVIDER_METHODS
        )
        .order_by("created_at")
        .values_list("public_id", flat=True)[:limit]
    )
    for public_id in ids:
        try:
            intent_sync(public_id=public_id)
        except (ProviderUnavailable, ProviderRejected):
            logger.warning("could not query payment %s", public_id)
    return len(ids)


# --- Refunds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundView:
    id: int
    public_id: str
    intent_public_id: str
    amount_fen: int
    reason: str
    status: str
    automatic: bool
    error_code: str
    created_at: datetime

    @property
    def status_label(self) -> str:
        """The state in the reader's language, for pages."""
        return str(Refund.Status(self.status).label)


def _refund_view(refund: Refund) -> RefundView:
    return RefundView(
        id=refund.pk, public_id=refund.public_id, intent_public_id=refund.intent.public_id,
        amount_fen=refund.amount_fen, reason=refund.reason, status=refund.status,
        automatic=refund.automatic, error_code=refund.error_code, created_at=refund.created_at,
    )  # fmt: skip


def _refund_move(refund: Refund, status: str, *, actor_id: int | None = None, **after: Any) -> None:
    audited_transition(
        refund, status, object_type="refund", object_id=refund.public_id, actor_id=actor_id,
        refused=lambda details: RefundNotAllowed(details=details), after=after,
    )  # fmt: skip


def _refundable(intent: PaymentIntent) -> int:
    open_refunds = intent.refunds.filter(
        status__in=[RStatus.REQUESTED, RStatus.APPROVED, RStatus.PROCESSING, RStatus.FAILED]
    ).values_list("amount_fen", flat=True)
    return intent.amount_fen - intent.refunded_fen - sum(open_refunds)


def _refund_create(
    intent: PaymentIntent,
    *,
    amount_fen: int,
    reason: str,
    request_key: str,
    requested_by: int | None,
    automatic: bool,
) -> Refund:
    if (
        intent.status not in PaymentIntent.PAID
        or amount_fen <= 0
        or amount_fen > _refundable(intent)
    ):
        raise RefundNotAllowed(
            details={
                "refundable_fen": max(0, _refundable(intent))
                if intent.status in PaymentIntent.PAID
                else 0
            }
        )
    refund = Refund.objects.create(
        public_id=new_public_id("RF"), intent=intent, amount_fen=amount_fen, reason=reason[:200],
        request_key=request_key, requested_by_id=requested_by, automatic=automatic,
    )  # fmt: skip
    audit_record(action="refund.requested", object_type="refund", object_id=refund.public_id, actor_id=requested_by,
                 after={"intent": intent.public_id, "amount_fen": amount_fen, "automatic": automatic})  # fmt: skip
    if automatic:
        _refund_approve(refund, actor_id=None)
    return refund


def refund_request(
    *, intent_id: int, amount_fen: int, reason: str, request_key: str, requested_by: int | None
) -> RefundView:
    """Ask for a refund of part or all of a paid intent; finance approves it.

    Idempotent per ``request_key``: a repeat returns the first refund; the same key for a
    different intent or amount is an ``IdempotencyConflict``. Locks the intent row, so
    concurrent requests cannot together refund more than was paid.
    """
    with transaction.atomic():
        existing = Refund.objects.select_related("intent").filter(request_key=request_key).first()
        if existing is not None:
            if (existing.intent_id, existing.amount_fen) != (intent_id, amount_fen):
                raise IdempotencyConflict()
            return _refund_view(existing)
        intent = PaymentIntent.objects.select_for_update().filter(pk=intent_id).first()
        if intent is None:
            raise PaymentNotFound()
        refund = _refund_create(intent, amount_fen=amount_fen, reason=reason, request_key=request_key,
                                requested_by=requested_by, automatic=False)  # fmt: skip
    return _refund_view(refund)


def refund_automatic(
    *, purpose: str, reference: str, amount_fen: int, reason: str, key: str
) -> RefundView | None:
    """Refund part of what settled ``reference`` without finance (e.g. goods that could not be
    delivered): from the money intent first, then points. Idempotent per ``key``; returns None
    when nothing was paid. Locks the intents."""
    with transaction.atomic():
        existing = Refund.objects.select_related("intent").filter(request_key=f"{key}:0").first()
        if existing is not None:
            return _refund_view(existing)
        intents = list(
            PaymentIntent.objects.select_for_update()
            .filter(purpose=purpose, reference=reference, settles=True)
            .order_by("method")  # money methods before "points"
        )
        intents.sort(key=lambda i: i.method == Method.POINTS)
        left, first = amount_fen, None
        for n, intent in enumerate(intents):
            take = min(left, _refundable(intent))
            if take <= 0:
                continue
            refund = _refund_create(intent, amount_fen=take, reason=reason, request_key=f"{key}:{n}",
                                    requested_by=None, automatic=True)  # fmt: skip
            first = first or refund
            left -= take
            if left == 0:
                break
    return _refund_view(first) if first else None


def _refund_approve(refund: Refund, *, actor_id: int | None) -> None:
    _refund_move(refund, RStatus.APPROVED, actor_id=actor_id)
    refund.decided_by_id = actor_id
    refund.save(update_fields=["status", "decided_by", "updated_at"])
    journal_post(
        idempotency_key=f"refund:{refund.public_id}:approved", kind="refund.approved",
        reference=f"{refund.intent.purpose}:{refund.intent.reference}",
        lines=[LineSpec("platform:revenue", refund.amount_fen), LineSpec("refunds:payable", -refund.amount_fen)],
    )  # fmt: skip
    from apps.payments.tasks import refund_execute_task  # the task module imports this one

    enqueue_on_commit(refund_execute_task, refund.pk)


def refund_decide(*, refund_id: int, approve: bool, actor_id: int) -> RefundView:
    """Finance approves (the refund then runs) or rejects a requested refund. Locks it."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update().select_related("intent").filter(pk=refund_id).first()
        )
        if refund is None:
            raise RefundNotFound()
        if approve:
            _refund_approve(refund, actor_id=actor_id)
        else:
            _refund_move(refund, RStatus.REJECTED, actor_id=actor_id)
            refund.decided_by_id = actor_id
            refund.save(update_fields=["status", "decided_by", "updated_at"])
    return _refund_view(refund)


def refund_execute(*, refund_id: int) -> str:
    """Carry out an approved refund at the provider (outside any transaction), then book it.

    Safe to repeat: the refund's public id is the provider's out_request_no, so a retry after
    a timeout returns the first result instead of refunding twice.
    """
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update().select_related("intent").filter(pk=refund_id).first()
        )
        if refund is None:
            raise RefundNotFound()
        if refund.status not in (RStatus.APPROVED, RStatus.FAILED, RStatus.PROCESSING):
            return refund.status
        if refund.status != RStatus.PROCESSING:
            _refund_move(refund, RStatus.PROCESSING)
            refund.save(update_fields=["status", "updated_at"])
    intent = refund.intent
    if intent.method == Method.CARRIER_BILLING:
        try:
            carrier.billing_refund(payment_id=intent.provider_trade_no, amount_fen=refund.amount_fen,
                                   refund_reference=refund.public_id)  # fmt: skip
            status, provider_no, error = "succeeded", refund.public_id, ""
        except (CarrierUnavailable, CarrierRejected) as exc:
            status, provider_no, error = "failed", "", exc.code
    elif intent.method in PROVIDER_METHODS:
        try:
            result = get_provider(intent.method).refund(
                out_trade_no=intent.public_id, out_request_no=refund.public_id,
                amount_fen=refund.amount_fen, total_fen=intent.amount_fen, reason=refund.reason,
            )  # fmt: skip
            status, provider_no, error = result.status, result.provider_refund_no, result.error_code
        except ProviderUnavailable as exc:
            status, provider_no, error = "failed", "", exc.code
        except ProviderRejected as exc:
            status, provider_no, error = (
                "failed",
                "",
                str(exc.details.get("provider_code") or exc.code),
            )
    else:
        status, provider_no, error = "succeeded", "", ""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("intent").get(pk=refund_id)
        if refund.status != RStatus.PROCESSING:
            return refund.status
        if status == "processing":
            return status
        if status != "succeeded":
            _refund_move(refund, RStatus.FAILED, error_code=error)
            refund.error_code = error[:64]
            refund.save(update_fields=["status", "error_code", "updated_at"])
            return RStatus.FAILED
        intent = PaymentIntent.objects.select_for_update().get(pk=refund.intent_id)
        _refund_move(refund, RStatus.SUCCEEDED, provider_refund_no=provider_no)
        refund.provider_refund_no = provider_no
        refund.save(update_fields=["status", "provider_refund_no", "updated_at"])
        intent.refunded_fen += refund.amount_fen
        full = intent.refunded_fen == intent.amount_fen
        _move(
            intent,
            Status.REFUNDED if full else Status.PARTIALLY_REFUNDED,
            refunded_fen=intent.refunded_fen,
        )
        intent.save(update_fields=["status", "refunded_fen", "updated_at"])
        reference = f"{intent.purpose}:{intent.reference}"
        if intent.method == Method.POINTS:
            assert intent.user_id is not None
            journal_post(
                idempotency_key=f"refund:{refund.public_id}:points", kind="points.refunded", reference=reference,
                lines=[LineSpec("points:redeemed", refund.amount_fen), LineSpec(points_account(intent.user_id), -refund.amount_fen)],
            )  # fmt: skip
            cleared = "platform:points_expense"
        else:
            cleared = f"clearing:{intent.method}"
        journal_post(
            idempotency_key=f"refund:{refund.public_id}:paid", kind="refund.paid", reference=reference,
            lines=[LineSpec("refunds:payable", refund.amount_fen), LineSpec(cleared, -refund.amount_fen)],
        )  # fmt: skip
        handler = purpose_handler(intent.purpose)
        if handler.on_refunded is not None:
            handler.on_refunded(
                RefundFact(
                    refund_id=refund.pk, intent_id=intent.pk, purpose=intent.purpose, reference=intent.reference,
                    method=intent.method, amount_fen=refund.amount_fen, intent_fully_refunded=full,
                    intent_settled=intent.settles,
                )
            )  # fmt: skip
    return RStatus.SUCCEEDED


def refunds_retry_failed(*, limit: int = 100) -> int:
    """Run again refunds that failed at the provider, or that a dead worker left approved or
    processing (Celery beat); safe because execution is idempotent per refund."""
    from apps.payments.tasks import refund_execute_task

    stuck = timezone.now() - timedelta(minutes=5)
    ids = list(
        Refund.objects.filter(
            Q(status=RStatus.FAILED)
            | Q(status__in=[RStatus.APPROVED, RStatus.PROCESSING], updated_at__lt=stuck)
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    for refund_id in ids:
        refund_execute_task.delay(refund_id)
    return len(ids)
