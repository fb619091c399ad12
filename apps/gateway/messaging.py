"""Partner SMS and one-time-password SMS: queue through the carrier, follow each message's state.

Sending reuses the carrier app's outbound SMS (``carrier.sms_queue``: one carrier message per
recipient, submitted by a Celery task after commit, with delivery reports); the carrier tells
``sms_status_changed`` of every change through an outbox event, which moves the
partner's message and owes the partner a signed callback.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.carrier import services as carrier
from apps.carrier.errors import CarrierUnavailable, SubscriberNotFound
from apps.core import outbox
from apps.core.audit import audited_transition
from apps.core.crypto import keyed_hash
from apps.core.errors import Conflict
from apps.core.ratelimit import RateLimit, rate_hit_all
from apps.gateway import callbacks, locks
from apps.gateway.capability_errors import (
    CapabilityNotFound,
    NetworkUnavailable,
    OtpInvalid,
    OtpMaxCodesExceeded,
    OtpPhoneNumberBlocked,
    OtpPhoneNumberNotAllowed,
    OtpVerificationExpired,
    OtpVerificationFailed,
)
from apps.gateway.context import GatewayApp
from apps.gateway.group_commit import GroupCommit
from apps.gateway.models import OtpCode, PartnerSms
from apps.risk import services as risk
from apps.risk.errors import RiskRefused, RiskUnderReview

SMS_EVENT = "org.carrierhub.sms.v1.message-status-changed"
# The carrier's SMS states, as the partner sees them.
_STATUS_OF_CARRIER = {
    "submitted": PartnerSms.Status.SENT,
    "delivered": PartnerSms.Status.DELIVERED,
    "undelivered": PartnerSms.Status.UNDELIVERED,
    "failed": PartnerSms.Status.FAILED,
}
# Partner SMS batches in risk's review queue are held under this owner and the batch id.
SMS_HOLD_OWNER = "gateway.sms"
OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 3
OTP_CODE_DIGITS = 6


@dataclass(frozen=True)
class PartnerSmsView:
    message_id: uuid.UUID
    batch_id: uuid.UUID
    to: str
    status: str
    segments: int
    price_fen: int
    error_code: str
    created_at: datetime
    updated_at: datetime


def _sms_view(row: PartnerSms) -> PartnerSmsView:
    return PartnerSmsView(
        message_id=row.id, batch_id=row.batch_id, to=row.msisdn, status=row.status,
        segments=row.segments, price_fen=row.price_fen, error_code=row.error_code,
        created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


def sms_send(
    *, gateway_app: GatewayApp, recipients: list[str], text: str, callback_url: str
) -> list[PartnerSmsView]:
    """Queue one message per recipient, all or none, priced by segments × the segment price.

    Risk control decides per recipient: a block refuses the batch, a review of any recipient
    holds the whole batch (its messages ``held``, the text kept until the answer, one place
    in risk's review queue: ``sms_batch_hold_answered``). A batch that is not held is written
    by the process's group commit (``_accepted``): with the batches of concurrent calls, one
    transaction, multi-row INSERTs and one broker message for all their carrier submits; the
    call returns once that transaction has committed. A held batch is written on its own.
    Repeats are the pipeline's business (Idempotency-Key / clientCorrelator replay the first
    answer).
    """
    segments = carrier.sms_segment_count(text)
    price_fen = segments * settings.GATEWAY_SMS_SEGMENT_PRICE_FEN
    batch_id = uuid.uuid4()
    held: dict[str, Any] | None = None
    counted: list[list[Any]] = []  # every recipient's, given back if the held batch is refused
    for msisdn in recipients:  # a listed or capped recipient refuses the batch
        try:
            decision = risk.enforce(
                event=risk.Event(kind=risk.Kind.GATEWAY_SMS, msisdn=msisdn, partner_id=str(gateway_app.app_id),
                                 amount_fen=price_fen, reference=str(batch_id)),
                owner=SMS_HOLD_OWNER, reference=str(batch_id),
            )  # fmt: skip
            counted += [list(c) for c in decision.counted]
        except RiskUnderReview as review:
            hold = getattr(review, "hold", {})
            counted += hold.get("counted", [])
            held = held or {**hold, "reasons": [], "amount_fen": price_fen * len(recipients)}
            held["reasons"] += [r for r in hold.get("reasons", ()) if r not in held["reasons"]]
    accepted = _AcceptedBatch(
        gateway_app=gateway_app, batch_id=batch_id, recipients=recipients, text=text,
        segments=segments, price_fen=price_fen, callback_url=callback_url,
    )  # fmt: skip
    if held:
        with transaction.atomic():
            rows = _partner_rows(accepted, carrier_ids=None)
            PartnerSms.objects.bulk_create(rows)
            risk.hold_place(**{**held, "counted": counted})
        return [_sms_view(row) for row in rows]
    return _accepted.submit(accepted)


@dataclass(frozen=True)
class _AcceptedBatch:
    """One call's accepted messages, waiting for the group commit."""

    gateway_app: GatewayApp
    batch_id: uuid.UUID
    recipients: list[str]
    text: str
    segments: int
    price_fen: int
    callback_url: str


def _partner_rows(batch: _AcceptedBatch, carrier_ids: list[uuid.UUID] | None) -> list[PartnerSms]:
    app = batch.gateway_app
    return [
        PartnerSms(
            app_id=app.app_id, environment=app.environment, client_id=app.client_id,
            batch_id=batch.batch_id, carrier_message_id=carrier_ids[i] if carrier_ids else None,
            msisdn=msisdn, segments=batch.segments, price_fen=batch.price_fen,
            callback_url=batch.callback_url,
            status=PartnerSms.Status.QUEUED if carrier_ids else PartnerSms.Status.HELD,
            held_text="" if carrier_ids else batch.text,
        )
        for i, msisdn in enumerate(batch.recipients)
    ]  # fmt: skip


def _write_accepted(batches: list[_AcceptedBatch]) -> list[list[PartnerSmsView]]:
    """One transaction for the accepted batches of concurrent calls: one multi-row INSERT of
    carrier messages, one of partner messages, one task (one broker message) for every
    carrier submit, sent after commit."""
    with transaction.atomic():
        carrier_ids = carrier.sms_queue_many(
            messages=[(msisdn, b.text) for b in batches for msisdn in b.recipients],
            purpose="partner",
        )
        per_batch: list[list[PartnerSms]] = []
        start = 0
        for b in batches:
            per_batch.append(_partner_rows(b, carrier_ids[start : start + len(b.recipients)]))
            start += len(b.recipients)
        PartnerSms.objects.bulk_create([row for rows in per_batch for row in rows])
    return [[_sms_view(row) for row in rows] for rows in per_batch]


_accepted: GroupCommit[_AcceptedBatch, list[PartnerSmsView]] = GroupCommit(_write_accepted)


def sms_batch_hold_answered(*, batch_id: uuid.UUID, released: bool) -> int:
    """Risk's answer to a held batch (in the outbox handler's transaction): released, each
    held message goes to the carrier (queued, submitted after commit); refused, each fails
    with ``RISK_REFUSED``. The partner gets a callback per message either way, as for any
    change. Locks the batch's rows; messages no longer held are left, so an answer acts once.
    Returns how many messages moved."""
    moved = 0
    for row in locks.partner_sms_batch_lock(batch_id):
        if row.status != PartnerSms.Status.HELD:
            continue
        if released:
            row.carrier_message_id = carrier.sms_queue(
                msisdn=row.msisdn, text=row.held_text, purpose="partner"
            )
        else:
            row.error_code = RiskRefused.code
        to = PartnerSms.Status.QUEUED if released else PartnerSms.Status.FAILED
        audited_transition(
            row, to, object_type="partner_sms", object_id=row.pk,
            refused=lambda details: Conflict(details=details), after={"error_code": row.error_code},
        )  # fmt: skip
        row.held_text = ""
        row.save(
            update_fields=["status", "carrier_message_id", "error_code", "held_text", "updated_at"]
        )
        _callback(row)
        moved += 1
    return moved


def sms_get(*, app_id: int, message_id: uuid.UUID) -> PartnerSmsView:
    """One of the app's messages; another app's is not found."""
    row = PartnerSms.objects.filter(pk=message_id, app_id=app_id).first()
    if row is None:
        raise CapabilityNotFound()
    return _sms_view(row)


@outbox.handler(carrier.SMS_STATUS_CHANGED)
def sms_status_changed(event: outbox.Event) -> None:
    """The carrier's event: move the partner's message and owe its callback.

    Runs in the outbox handler's transaction after the carrier's has committed; locks the
    ``PartnerSms`` row. Repeats, stale and out-of-order reports change nothing.
    """
    change = carrier.SmsStatusChange.from_payload(event.payload)
    status = _STATUS_OF_CARRIER.get(change.status)
    if change.purpose != "partner" or status is None:
        return
    row = locks.partner_sms_lock_by_carrier_message(change.message_id)
    if row is None or status not in row.TRANSITIONS[row.status]:
        return
    audited_transition(
        row, status, object_type="partner_sms", object_id=row.pk,
        refused=lambda details: Conflict(details=details), after={"error_code": change.error_code},
    )  # fmt: skip
    row.error_code = change.error_code[:64]
    row.save(update_fields=["status", "error_code", "updated_at"])
    _callback(row)


def _callback(row: PartnerSms) -> None:
    """Owe the partner the message's state (a signed callback, retried by the gateway)."""
    callbacks.callback_enqueue(
        app_id=row.app_id, environment=row.environment, client_id=row.client_id,
        url=row.callback_url, event_type=SMS_EVENT, subject=str(row.pk),
        data={
            "messageId": str(row.pk), "batchId": str(row.batch_id), "to": row.msisdn,
            "status": row.status, "segments": row.segments, "priceFen": row.price_fen,
            "errorCode": row.error_code or None, "updatedAt": row.updated_at.isoformat(),
        },
    )  # fmt: skip


@outbox.handler("risk.hold.released")
@outbox.handler("risk.hold.refused")
def sms_batch_risk_answered(event: outbox.Event) -> None:
    """An operator (or the expiry) answered a partner SMS batch held for risk review."""
    if event.payload.get("owner") == SMS_HOLD_OWNER:
        sms_batch_hold_answered(
            batch_id=uuid.UUID(event.payload["reference"]),
            released=event.topic == "risk.hold.released",
        )


# --- One-time passwords ------------------------------------------------------------------------


def _otp_hash(authentication_id: uuid.UUID, code: str) -> str:
    return keyed_hash(f"{authentication_id}:{code}", purpose="gateway-otp")


def otp_send(*, gateway_app: GatewayApp, msisdn: str, template: str) -> uuid.UUID:
    """Text a fresh code (``{{code}}`` in the partner's template) and return its id.

    The line is checked with the carrier first (a network call, no transaction open): a
    suspended or closed line is blocked, an unknown number of this network is not allowed.
    At most ``GATEWAY_OTP_MAX_PER_NUMBER_HOUR`` codes per number per hour, counted in Redis
    whoever asks. Only the code's keyed hash is stored; the SMS preview masks it. A new code
    ends the app's earlier codes for the number (CAMARA: only the latest one is valid).
    """
    try:
        line = carrier.subscriber_lookup(msisdn=msisdn)
    except SubscriberNotFound as exc:
        raise OtpPhoneNumberNotAllowed() from exc
    except CarrierUnavailable as exc:
        raise NetworkUnavailable() from exc
    if line.status in ("suspended", "cancelled"):
        raise OtpPhoneNumberBlocked()
    limit = RateLimit(
        key=f"gw-otp:{msisdn}", limit=settings.GATEWAY_OTP_MAX_PER_NUMBER_HOUR, window_seconds=3600
    )
    try:
        full, retry_after = rate_hit_all([limit])
    except redis.RedisError as exc:
        raise NetworkUnavailable() from exc
    if full is not None:
        raise OtpMaxCodesExceeded(details={"retryAfterSeconds": retry_after})
    code = f"{secrets.randbelow(10**OTP_CODE_DIGITS):0{OTP_CODE_DIGITS}d}"
    authentication_id = uuid.uuid4()
    with transaction.atomic():
        now = timezone.now()
        OtpCode.objects.filter(app_id=gateway_app.app_id, msisdn=msisdn, expires_at__gt=now).update(
            expires_at=now
        )
        OtpCode.objects.create(
            id=authentication_id, app_id=gateway_app.app_id, msisdn=msisdn,
            code_hash=_otp_hash(authentication_id, code), expires_at=timezone.now() + OTP_TTL,
        )  # fmt: skip
        carrier.sms_queue(
            msisdn=msisdn, text=template.replace("{{code}}", code), purpose="otp",
            preview=template.replace("{{code}}", "*" * OTP_CODE_DIGITS),
        )  # fmt: skip
    return authentication_id


def otp_validate(*, app_id: int, authentication_id: uuid.UUID, code: str) -> None:
    """Accept the right code once, within its five minutes and three attempts.

    Locks the code's row; a wrong attempt is counted (committed) before it is refused.
    """
    refusal: Exception | None = None
    with transaction.atomic():
        row = locks.otp_code_lock(authentication_id=authentication_id, app_id=app_id)
        if row is None:
            raise CapabilityNotFound()
        if row.status == OtpCode.Status.FAILED:
            raise OtpVerificationFailed()
        if row.status == OtpCode.Status.VERIFIED or row.expires_at <= timezone.now():
            raise OtpVerificationExpired()
        if secrets.compare_digest(row.code_hash, _otp_hash(row.id, code)):
            _otp_move(row, OtpCode.Status.VERIFIED)
            row.save(update_fields=["status"])
            return
        row.attempts += 1
        fields = ["attempts"]
        if row.attempts >= OTP_MAX_ATTEMPTS:
            _otp_move(row, OtpCode.Status.FAILED)
            fields.append("status")
            refusal = OtpVerificationFailed()
        else:
            refusal = OtpInvalid(details={"attemptsLeft": OTP_MAX_ATTEMPTS - row.attempts})
        row.save(update_fields=fields)
    raise refusal


def _otp_move(row: OtpCode, status: str) -> None:
    audited_transition(
        row, status, object_type="gateway_otp", object_id=row.pk,
        refused=lambda details: Conflict(details=details),
    )  # fmt: skip
