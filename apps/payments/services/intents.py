"""Starting and cancelling a payment; paying from points at once."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.selectors import wechat_openid_for_user
from apps.core.audit import audit_record
from apps.core.errors import IdempotencyConflict
from apps.core.transactions import insert_unless_conflict
from apps.ledger.errors import InsufficientBalance
from apps.ledger.services import LineSpec, journal_post
from apps.payments.errors import InsufficientPoints, MethodUnavailable, PaymentNotFound
from apps.payments.locks import intent_lock
from apps.payments.models import Method, PaymentIntent
from apps.payments.providers import PROVIDER_METHODS, get_provider
from apps.payments.providers.base import PaymentRequest, ProviderRejected, ProviderUnavailable
from apps.payments.services.carrier_billing import (
    _carrier_billing_prepare,
)
from apps.payments.services.common import IntentView, Status, _move, _view, new_public_id
from apps.payments.services.notifications import _succeed
from apps.payments.services.points import points_account
from apps.payments.services.risk_checks import challenges_by_sms, intent_decide
from apps.risk.services import holds_on_review

CHANNELS: dict[str, tuple[str, ...]] = {
    Method.ALIPAY: ("page", "wap"),
    # JSAPI inside WeChat: only for a buyer whose WeChat openid is bound (apps.wechat).
    Method.WECHAT: ("native", "h5", "jsapi"),
    Method.UNIONPAY: ("front", "mobile"),
    Method.POINTS: ("",),
    Method.CARRIER_BILLING: ("",),
}

# --- Starting a payment -----------------------------------------------------------------------


@holds_on_review
@challenges_by_sms
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
    challenge_passed: bool = False,
    recurring: bool = False,
    msisdn: str = "",
) -> IntentView:
    """Open a payment and ask the provider how the buyer pays; idempotent per key.

    Risk control decides on every new intent (``risk_checks``): a block refuses it (the
    phone-bill caps with their own codes), a review holds it (``RiskUnderReview``), a
    challenge texts the subscriber a code to pass back as ``risk_code``.

    Provider methods: the intent is committed as ``created``, the provider is called with no
    transaction open, then the intent becomes ``pending`` with the browser's next step in
    ``action``. A provider whose start only signs (Alipay, UnionPay: no network call) signs in
    the intent's own transaction, which commits it ``pending`` at once (both transitions
    audited): one transaction instead of two. Points are taken at once (``succeeded``). The same key returns the first
    intent (a different amount or method under it is an ``IdempotencyConflict``).
    ``recurring`` (phone bill only): a subscription's renewal the subscriber agreed to when
    subscribing; the carrier texts no code and ``carrier_billing_confirm`` charges it with none.
    ``msisdn``: the buyer's number when the caller holds it (the signed-in user, the charge's
    subscriber), so risk does not read it again; left empty, it is read from the user.
    """
    if method not in CHANNELS or channel not in CHANNELS[method]:
        raise MethodUnavailable(details={"method": method, "channel": channel})
    if amount_fen <= 0:
        raise MethodUnavailable(details={"amount_fen": amount_fen})
    openid = ""
    if channel == "jsapi":
        openid = (wechat_openid_for_user(user_id=user_id) if user_id else None) or ""
        if not openid:
            raise MethodUnavailable(
                details={"method": method, "channel": channel, "reason": "no_openid"}
            )
    provider = get_provider(method) if method in PROVIDER_METHODS else None
    with transaction.atomic():
        intent = PaymentIntent(
            public_id=new_public_id("PI"), user_id=user_id, purpose=purpose,
            reference=reference, method=method, channel=channel, amount_fen=amount_fen,
            idempotency_key=idempotency_key, expires_at=expires_at,
        )  # fmt: skip
        # A provider whose start only signs (Alipay, UnionPay) signs before the INSERT, so the
        # row is inserted ``pending`` with its action: one statement. Its times are fixed first
        # (UnionPay signs the start time, and a query names it again).
        signed = provider is not None and provider.signs_locally
        if signed:
            assert provider is not None
            intent.created_at = intent.updated_at = timezone.now()
            intent.action = asdict(
                provider.start(_request(intent, subject, return_url, client_ip, openid))
            )
            intent.status = Status.PENDING
        # A new key costs one statement; a repeat (or a concurrent start, which waited for the
        # first one's commit) finds the row the key already holds.
        if insert_unless_conflict(intent, raw=signed) is None:
            existing = PaymentIntent.objects.get(idempotency_key=idempotency_key)
            if (existing.method, existing.amount_fen, existing.reference) != (
                method,
                amount_fen,
                reference,
            ):
                raise IdempotencyConflict()
            return _view(existing)
        audit_record(action="payment.created", object_type="payment", object_id=intent.public_id,
                     actor_id=user_id, after={"method": method, "amount_fen": amount_fen, "reference": reference})  # fmt: skip
        # A renewal cannot answer a texted code: the subscriber consented when subscribing.
        decision = intent_decide(
            intent, client_ip=client_ip, challenge_passed=challenge_passed or recurring,
            msisdn=msisdn,
        )  # fmt: skip
        if method == Method.POINTS:
            _points_take(intent)
            return _view(intent)
        if signed:
            # Inserted ``pending`` already: both transitions audited, as for any start.
            intent.status = Status.CREATED
            _move(intent, Status.PENDING)
            return _view(intent)
    if method == Method.CARRIER_BILLING:
        return _carrier_billing_prepare(
            intent, subject=subject, decision=decision, recurring=recurring
        )
    assert provider is not None
    try:
        action = provider.start(_request(intent, subject, return_url, client_ip, openid))
    except (ProviderUnavailable, ProviderRejected):
        with transaction.atomic():
            locked = intent_lock(public_id=intent.public_id)
            assert locked is not None
            if locked.can_move_to(Status.FAILED):
                _move(locked, Status.FAILED, reason="provider refused or unreachable at start")
                locked.save(update_fields=["status", "updated_at"])
        raise
    with transaction.atomic():
        locked = intent_lock(public_id=intent.public_id)
        assert locked is not None
        locked.action = asdict(action)
        fields = ["action", "updated_at"]
        if locked.status == Status.CREATED:
            _move(locked, Status.PENDING)
            fields.append("status")
        locked.save(update_fields=fields)
    return _view(locked)


def _request(
    intent: PaymentIntent, subject: str, return_url: str, client_ip: str, openid: str
) -> PaymentRequest:
    """What the provider is asked to start for ``intent``."""
    return PaymentRequest(
        out_trade_no=intent.public_id, amount_fen=intent.amount_fen, subject=subject[:120],
        channel=intent.channel,
        notify_url=settings.PAYMENTS_PUBLIC_BASE_URL + reverse("payments:notify", args=[intent.method]),
        return_url=return_url, client_ip=client_ip or "127.0.0.1", expires_at=intent.expires_at,
        started_at=intent.created_at, openid=openid,
    )  # fmt: skip


def intent_cancel(*, public_id: str, reason: str) -> bool:
    """Stop waiting for a payment (its order was cancelled or expired); idempotent.

    A success that arrives later is still taken and then refunded automatically.
    """
    with transaction.atomic():
        intent = intent_lock(public_id=public_id)
        if intent is None:
            raise PaymentNotFound()
        if intent.status not in (Status.CREATED, Status.PENDING):
            return False
        _move(intent, Status.CANCELLED, reason=reason)
        intent.save(update_fields=["status", "updated_at"])
    return True


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
