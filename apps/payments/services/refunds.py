"""Refunds: requested, decided by finance (or automatic), carried out at the provider, booked."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.carrier import services as carrier
from apps.carrier.errors import CarrierRejected, CarrierUnavailable
from apps.core.audit import audit_record
from apps.core.errors import IdempotencyConflict
from apps.core.tasks import enqueue_on_commit
from apps.ledger.services import LineSpec, journal_post
from apps.payments.errors import (
    ChargebackRefundOpen,
    PaymentChargedBack,
    PaymentNotFound,
    RefundNotAllowed,
    RefundNotFound,
    RefundSecondApproverNeeded,
    RefundSelfApproval,
)
from apps.payments.handlers import RefundFact, purpose_handler
from apps.payments.locks import intent_lock, intent_owner_lock, intents_lock_for, refund_lock
from apps.payments.models import Method, PaymentIntent, Refund
from apps.payments.providers import PROVIDER_METHODS, get_provider
from apps.payments.providers.base import ProviderRejected, ProviderUnavailable
from apps.payments.services.common import (
    IntentView,
    RefundView,
    RStatus,
    Status,
    _move,
    _refund_move,
    _refund_view,
    _view,
    new_public_id,
)
from apps.payments.services.points import points_account


def _refundable(intent: PaymentIntent) -> int:
    open_refunds = intent.refunds.filter(
        status__in=[RStatus.REQUESTED, RStatus.APPROVED, RStatus.PROCESSING, RStatus.FAILED]
    ).values_list("amount_fen", flat=True)
    return intent.amount_fen - intent.refunded_fen - intent.charged_back_fen - sum(open_refunds)


def _refund_create(
    intent: PaymentIntent,
    *,
    amount_fen: int,
    reason: str,
    request_key: str,
    requested_by: int | None,
    automatic: bool,
) -> Refund:
    if intent.charged_back_fen:
        raise PaymentChargedBack(details={"charged_back_fen": intent.charged_back_fen})
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

    Idempotent per ``request_key``: a repeat (even one racing the first) returns the first
    refund; the same key for a different intent or amount is an ``IdempotencyConflict``. Locks
    the intent row before looking for the key, so concurrent requests cannot together refund
    more than was paid and identical ones see each other.
    """
    with transaction.atomic():
        intent = intent_lock(intent_id=intent_id)
        existing = Refund.objects.select_related("intent").filter(request_key=request_key).first()
        if existing is not None:
            if (existing.intent_id, existing.amount_fen) != (intent_id, amount_fen):
                raise IdempotencyConflict()
            return _refund_view(existing)
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
    when nothing was paid. Locks the intents (pk order), then looks for the key."""
    with transaction.atomic():
        intents = intents_lock_for(purpose=purpose, reference=reference, settles=True)
        existing = (
            Refund.objects.select_related("intent")
            .filter(request_key__in=[f"{key}:{n}" for n in range(len(intents))])
            .order_by("pk")
            .first()
        )
        if existing is not None:
            return _refund_view(existing)
        charged_back = sum(intent.charged_back_fen for intent in intents)
        if charged_back:
            raise PaymentChargedBack(details={"charged_back_fen": charged_back})
        intents.sort(key=lambda i: i.method == Method.POINTS)  # money before points
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


def refunds_issue_for_case(*, case_id: int, references: list[str]) -> list[RefundView]:
    """A risk case closed as "refunds issued": give back in full what is still refundable of
    every settled payment whose reference the case links (an order, a content or gateway
    charge), whatever its purpose; each owner hears it through its refund handler. Once per
    case and reference (``risk-case:<id>:<reference>`` keys): running it again, or for a case
    closed twice, returns the refunds already made and makes none."""
    pairs = (
        PaymentIntent.objects.filter(reference__in=references, settles=True, status__in=PaymentIntent.PAID)
        .values_list("purpose", "reference")
        .distinct()
        .order_by("purpose", "reference")
    )  # fmt: skip
    issued: list[RefundView] = []
    for purpose, reference in pairs:
        key = f"risk-case:{case_id}:{reference}"
        done = Refund.objects.filter(request_key__startswith=f"{key}:").order_by("pk").first()
        if done is not None:  # a repeat (refund_automatic checks the key again under lock)
            issued.append(_refund_view(done))
            continue
        intents = PaymentIntent.objects.filter(purpose=purpose, reference=reference, settles=True)
        amount = sum(max(0, _refundable(intent)) for intent in intents)
        if amount <= 0:
            continue
        try:
            refund = refund_automatic(
                purpose=purpose, reference=reference, amount_fen=amount,
                reason=f"risk case {case_id}", key=key,
            )  # fmt: skip
        except PaymentChargedBack:  # charged back since we looked: the money went back already
            continue
        if refund is not None:
            issued.append(refund)
    return issued


# Refunds that may still pay (or have paid) money back: a chargeback on top would pay twice.
_LIVE_REFUNDS = (
    RStatus.REQUESTED,
    RStatus.APPROVED,
    RStatus.PROCESSING,
    RStatus.FAILED,
    RStatus.SUCCEEDED,
)


def intent_charge_back(
    *, purpose: str, reference: str, reason: str, actor_id: int | None
) -> IntentView | None:
    """The carrier (or the provider) took back the money that settled ``reference``: its paid
    money intent is marked charged back in full (``charged_back_fen``), so no refund path
    (finance's request or approval, an automatic refund, a risk case's refunds, a retry) pays
    it back again. Call it inside the owner's transaction, under the owner's lock (the global
    order: owner, then intents, then refunds). Refused with ``ChargebackRefundOpen`` when a
    refund of the reference is requested, approved, processing, failed (and so retried) or
    paid. Returns None, with nothing written, when no money intent settled the reference and is
    paid in full (points, or nothing paid); a repeat returns the intent as it is. Locks the
    reference's settling intents (pk order)."""
    with transaction.atomic():
        intents = intents_lock_for(purpose=purpose, reference=reference, settles=True)
        refunds = list(
            Refund.objects.filter(intent__in=intents, status__in=_LIVE_REFUNDS)
            .order_by("pk")
            .values_list("public_id", flat=True)
        )
        money = [i for i in intents if i.method != Method.POINTS and i.status == Status.SUCCEEDED]
        if not money:
            return None
        intent = money[0]
        if intent.charged_back_fen:
            return _view(intent)
        if refunds:
            raise ChargebackRefundOpen(details={"refunds": refunds})
        intent.charged_back_fen = intent.amount_fen - intent.refunded_fen
        intent.save(update_fields=["charged_back_fen", "updated_at"])
        audit_record(action="payment.charged_back", object_type="payment", object_id=intent.public_id,
                     actor_id=actor_id, after={"charged_back_fen": intent.charged_back_fen, "reason": reason[:200]})  # fmt: skip
        return _view(intent)


def refund_mark_fraud(*, refund_id: int, actor_id: int | None, note: str = "") -> bool:
    """An operator marks a refund as fraud: risk records a ``refund_fraud`` label on the
    paying subscriber, their number and device (the number's score rises; the label counts in
    backtests and the CP's fraud rate). Audited; once per refund (a repeat returns False)."""
    from apps.accounts.selectors import user_profile
    from apps.risk import services as risk

    refund = Refund.objects.select_related("intent").filter(pk=refund_id).first()
    if refund is None:
        raise RefundNotFound()
    intent = refund.intent
    msisdn = user_profile(user_id=intent.user_id).phone if intent.user_id else ""
    with transaction.atomic():
        created = risk.label_record(
            source="refund_fraud", origin=f"refund:{refund.public_id}", reference=intent.reference,
            msisdn=msisdn, user_id=intent.user_id, note=note or refund.reason, actor_id=actor_id,
        )  # fmt: skip
        if created:
            audit_record(action="refund.marked_fraud", object_type="refund", object_id=refund.public_id,
                         actor_id=actor_id, after={"reference": intent.reference, "note": note})  # fmt: skip
    return created


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


def _refund_owner_check(refund_id: int) -> None:
    """Ask the payment's owner whether the refund may be approved now (``refund_check``)."""
    owner = (
        Refund.objects.filter(pk=refund_id)
        .values_list("intent__purpose", "intent__reference")
        .first()
    )
    if owner is None:
        return
    try:
        check = purpose_handler(owner[0]).refund_check
    except LookupError:  # an owner that registered nothing has no rule to apply
        return
    if check is not None:
        check(owner[1])


def _refund_check_approver(refund: Refund, *, actor_id: int) -> bool:
    """Maker-checker: True if ``actor_id``'s approval approves the refund, False if it is the
    first of two it needs; refuses the requester (the buyer aside) and a second approval by
    the first approver. Points refunds move no money out and need one approval."""
    maker = refund.requested_by_id
    if maker is not None and maker != refund.intent.user_id and maker == actor_id:
        raise RefundSelfApproval()
    if (
        refund.amount_fen <= settings.REFUND_SECOND_APPROVAL_ABOVE_FEN
        or refund.intent.method == Method.POINTS
    ):
        return True
    if refund.first_approved_by_id is None:
        return False
    if refund.first_approved_by_id == actor_id:
        raise RefundSecondApproverNeeded()
    return True


def refund_decide(*, refund_id: int, approve: bool, actor_id: int) -> RefundView:
    """Finance approves (the refund then runs) or rejects a requested refund.

    Maker-checker: whoever asked for the refund cannot approve it (unless they are the buyer,
    whose own request any finance user approves); above ``REFUND_SECOND_APPROVAL_ABOVE_FEN`` the
    first approval is recorded (``refund.first_approval``, the refund stays requested) and a
    second, different user's approves it. Anyone who may decide may reject. Before an approval
    the owner's ``refund_check`` may refuse (its error propagates; nothing is recorded). Locks
    the owner's rows (through its check), then the intent, then the refund.
    """
    with transaction.atomic():
        if approve:
            _refund_owner_check(refund_id)
        refund = refund_lock(refund_id=refund_id)
        if refund is None:
            raise RefundNotFound()
        if approve and refund.status != RStatus.REQUESTED:
            raise RefundNotAllowed(details={"status": refund.status})
        if approve and refund.intent.charged_back_fen:
            raise PaymentChargedBack(details={"charged_back_fen": refund.intent.charged_back_fen})
        if approve and not _refund_check_approver(refund, actor_id=actor_id):
            refund.first_approved_by_id = actor_id
            refund.save(update_fields=["first_approved_by", "updated_at"])
            audit_record(action="refund.first_approval", object_type="refund", object_id=refund.public_id,
                         actor_id=actor_id, after={"amount_fen": refund.amount_fen})  # fmt: skip
        elif approve:
            _refund_approve(refund, actor_id=actor_id)
        else:
            _refund_move(refund, RStatus.REJECTED, actor_id=actor_id)
            refund.decided_by_id = actor_id
            refund.save(update_fields=["status", "decided_by", "updated_at"])
    return _refund_view(refund)


def refund_execute(*, refund_id: int) -> str:
    """Carry out an approved refund at the provider (outside any transaction), then book it.

    Safe to repeat: the refund's public id is the provider's out_request_no, so a retry after
    a timeout returns the first result instead of refunding twice. Locks in the global order:
    to start, the intent then the refund; to finish, the owner (the order, through its
    handler) then the intent, the refund, and the ledger last.
    """
    with transaction.atomic():
        refund = refund_lock(refund_id=refund_id)
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
                started_at=intent.created_at, requested_at=refund.created_at,
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
        intent_owner_lock(intent_id=intent.pk)
        refund = refund_lock(refund_id=refund_id)
        assert refund is not None
        if refund.status != RStatus.PROCESSING:
            return refund.status
        if status == "processing":
            return status
        if status != "succeeded":
            _refund_move(refund, RStatus.FAILED, error_code=error)
            refund.error_code = error[:64]
            refund.save(update_fields=["status", "error_code", "updated_at"])
            return RStatus.FAILED
        intent = refund.intent  # locked by refund_lock, before the refund
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
