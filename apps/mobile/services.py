"""A subscriber changes plan or adds an add-on: checked, recorded, then applied once at the carrier.

Submitting checks the choice against the carrier (reads, no transaction), records a
``LineRequest`` and enqueues its task on commit. The task sends it under ``line:<id>``
with ``carrier.mobile``: after a timeout or a lost answer the carrier is asked by key before
anything is sent again, so a retry never changes the plan or charges an add-on twice. A
request whose carrier stays unavailable is retried with backoff and finally failed, after
one last by-key check. No transaction is open during a carrier call.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.carrier import mobile
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import sms_queue
from apps.core.audit import audit_record, audited_transition
from apps.core.errors import IdempotencyConflict, InvalidArgument
from apps.core.money import format_fen
from apps.core.tasks import enqueue_on_commit
from apps.mobile import selectors
from apps.mobile.errors import (
    InsufficientBalance,
    PendingChangeExists,
    RequestInProgress,
    SamePlan,
)
from apps.mobile.locks import line_request_lock
from apps.mobile.models import LineRequest
from apps.mobile.selectors import LineRequestView, request_view

logger = logging.getLogger(__name__)
Status = LineRequest.Status
Kind = LineRequest.Kind
MAX_ATTEMPTS = 5


def carrier_key(request_id: int) -> str:
    return f"line:{request_id}"


def _existing(
    *, user_id: int, request_key: str, kind: str, offer_code: str
) -> LineRequestView | None:
    row = LineRequest.objects.filter(user_id=user_id, request_key=request_key).first()
    if row is None:
        return None
    if (row.kind, row.offer_code) != (kind, offer_code):
        raise IdempotencyConflict()
    return request_view(row)


def line_request_submit(
    *, user_id: int, kind: str, offer_code: str, request_key: str
) -> LineRequestView:
    """Check the user's choice, record it and send it to the carrier after commit.

    Idempotent per ``(user_id, request_key)``: a repeat returns the first request (another
    choice under the same key is ``IdempotencyConflict``). Refuses, writing nothing, with
    ``PlanNotAllowed``/``AddonNotAllowed``/``UnknownOffer``, ``SamePlan``,
    ``PendingChangeExists``, ``InsufficientBalance``, ``RequestInProgress`` (one request in
    flight per user, kept by a partial unique index) or ``NotOwnLine``. The checks are carrier
    reads made before the transaction; the carrier checks again when it applies.
    """
    if not 0 < len(request_key) <= 64:
        raise InvalidArgument(details={"request_key": "1..64 characters"})
    first = _existing(user_id=user_id, request_key=request_key, kind=kind, offer_code=offer_code)
    if first is not None:
        return first
    choice = selectors.line_offer_choice(user_id=user_id, kind=kind, offer_code=offer_code)
    if kind == Kind.PLAN_CHANGE:
        plan = mobile.subscriber_plan(choice.msisdn)
        if plan.pending is not None:
            raise PendingChangeExists(
                details={
                    "plan": plan.pending.plan.code,
                    "effective_from": str(plan.pending.effective_from),
                }
            )
        if choice.current_plan == offer_code:
            raise SamePlan()
    elif choice.charged_now_fen > choice.balance_fen:
        raise InsufficientBalance(
            details={"balance_fen": choice.balance_fen, "fee_fen": choice.charged_now_fen}
        )
    try:
        with transaction.atomic():
            row = LineRequest.objects.create(
                user_id=user_id, msisdn=choice.msisdn, kind=kind, offer_code=offer_code,
                offer_name=choice.offer.name[:64], fee_fen=choice.offer.fee_fen, request_key=request_key,
            )  # fmt: skip
            audit_record(
                action="line_request.submitted", object_type="line_request", object_id=row.pk,
                actor_id=user_id, after={"status": row.status, "kind": kind, "offer_code": offer_code},
            )  # fmt: skip
            from apps.mobile.tasks import line_request_apply_task  # tasks import this module

            enqueue_on_commit(line_request_apply_task, row.pk)
    except IntegrityError:
        # A double submit under the same key raced this one, or another request is in flight.
        first = _existing(
            user_id=user_id, request_key=request_key, kind=kind, offer_code=offer_code
        )
        if first is not None:
            return first
        raise RequestInProgress() from None
    row.refresh_from_db()
    return request_view(row)


def _move(row: LineRequest, status: str, **after: object) -> None:
    audited_transition(
        row, status, object_type="line_request", object_id=row.pk, action_prefix="line_request",
        refused=lambda details: ValueError(f"line request {row.pk}: {details}"), after=after,
    )  # fmt: skip


def _finish(
    request_id: int,
    status: str,
    *,
    applied: mobile.OfferApplied | None = None,
    error_code: str = "",
) -> str:
    """Record the carrier's outcome once (row lock); text the subscriber when it was applied."""
    with transaction.atomic():
        row = line_request_lock(request_id=request_id)
        if row.status != Status.SUBMITTED:
            return row.status
        _move(row, status, error_code=error_code)
        row.error_code = error_code[:32]
        if applied is not None:
            row.carrier_request_id = applied.request_id
            row.effective_from = applied.effective_from
            row.charged_fen = applied.fee_fen
        row.save()
        if applied is not None:
            sms_queue(msisdn=row.msisdn, purpose="notice", text=_applied_text(row))
    return status


def _applied_text(row: LineRequest) -> str:
    if row.kind == Kind.PLAN_CHANGE and row.effective_from:
        return _("[CarrierHub] Your plan changes to %(plan)s on %(date)s.") % {
            "plan": row.offer_name,
            "date": date_format(row.effective_from, "DATE_FORMAT"),
        }
    return _("[CarrierHub] %(addon)s has been added to your number; %(fee)s was charged.") % {
        "addon": row.offer_name,
        "fee": format_fen(row.charged_fen),
    }


def _send(row: LineRequest) -> mobile.OfferApplied:
    key = carrier_key(row.pk)
    if row.kind == Kind.PLAN_CHANGE:
        return mobile.plan_change_once(
            msisdn=row.msisdn, plan_code=row.offer_code, idempotency_key=key, reference=key
        )
    return mobile.addon_once(
        msisdn=row.msisdn, addon_code=row.offer_code, charge_balance=True,
        idempotency_key=key, reference=key,
    )  # fmt: skip


def line_request_apply(*, request_id: int) -> str:
    """Send a submitted request to the carrier and record the outcome; safe to repeat.

    Raises ``CarrierUnavailable`` when the outcome is unknown (the task retries with the same
    key). A refusal moves the request to ``refused`` with the carrier's code.
    """
    with transaction.atomic():
        row = line_request_lock(request_id=request_id)
        if row.status != Status.SUBMITTED:
            return row.status
        row.attempts += 1
        row.save(update_fields=["attempts", "updated_at"])
    try:
        applied = _send(row)
    except CarrierUnavailable as exc:
        LineRequest.objects.filter(pk=request_id).update(
            error_code=exc.code, updated_at=timezone.now()
        )
        raise
    except CarrierRejected as exc:
        return _finish(request_id, Status.REFUSED, error_code=exc.carrier_code or exc.code)
    except SubscriberNotFound as exc:
        return _finish(request_id, Status.REFUSED, error_code=exc.code)
    return _finish(request_id, Status.APPLIED, applied=applied)


def line_request_give_up(*, request_id: int) -> str:
    """Stop retrying: applied if the carrier, asked by key one last time, has it; else failed.

    A carrier that still does not answer leaves the request ``failed`` with
    ``CARRIER_UNAVAILABLE``; nothing more is sent under its key.
    """
    msisdn = LineRequest.objects.values_list("msisdn", flat=True).get(pk=request_id)
    try:
        applied = mobile.offer_applied_by_key(carrier_key(request_id), msisdn=msisdn)
    except CarrierUnavailable:
        applied = None
    if applied is not None:
        return _finish(request_id, Status.APPLIED, applied=applied)
    return _finish(request_id, Status.FAILED, error_code="CARRIER_UNAVAILABLE")


def line_requests_retry_stuck(*, older_than_seconds: int = 60, limit: int = 200) -> int:
    """Beat: send again requests still submitted (a worker died, the carrier was down); give
    up on those past ``MAX_ATTEMPTS``."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    rows = list(
        LineRequest.objects.filter(status=Status.SUBMITTED, updated_at__lt=cutoff)
        .order_by("updated_at").values_list("pk", "attempts")[:limit]
    )  # fmt: skip
    for request_id, attempts in rows:
        try:
            if attempts >= MAX_ATTEMPTS:
                line_request_give_up(request_id=request_id)
            else:
                line_request_apply(request_id=request_id)
        except CarrierUnavailable:
            continue
    return len(rows)
