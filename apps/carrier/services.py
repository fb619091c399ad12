"""Carrier writes: send an SMS, apply its delivery report; reads that go over the network.

No service here holds a transaction or a row lock across a network call: intent is recorded
and committed first, the carrier is called, then the result is recorded.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.carrier import locks
from apps.carrier.client import (
    BillingState,
    Provisioned,
    SmsAccepted,
    SubscriberInfo,
    get_carrier_client,
    provisioned_of,
)
from apps.carrier.errors import CarrierRejected, SubscriberNotFound
from apps.carrier.models import SmsMessage
from apps.core import outbox
from apps.core.audit import audit_record
from apps.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)
Status = SmsMessage.Status


SMS_STATUS_CHANGED = "carrier.sms_status_changed"


@dataclass(frozen=True)
class SmsStatusChange:
    """What a handler of ``SMS_STATUS_CHANGED`` learns: an SMS's id, purpose and new state."""

    message_id: uuid.UUID
    purpose: str
    status: str
    segments: int | None
    error_code: str
    at: datetime

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SmsStatusChange:
        at = datetime.fromisoformat(payload["at"])
        return cls(
            message_id=uuid.UUID(payload["message_id"]), purpose=payload["purpose"],
            status=payload["status"], segments=payload["segments"],
            error_code=payload["error_code"], at=at,
        )  # fmt: skip


def _sms_notify(message: SmsMessage) -> None:
    """Publish the change through the outbox, in the transaction that moved the message.

    Higher layers (the gateway's partner messages) register an ``outbox.handler`` for
    ``SMS_STATUS_CHANGED``. Callers publish only a move they made, so each change once.
    """
    outbox.publish(SMS_STATUS_CHANGED, _sms_payload(message))


def _sms_payload(message: SmsMessage) -> dict[str, Any]:
    return {"message_id": str(message.id), "purpose": message.purpose, "status": message.status,
            "segments": message.segments, "error_code": message.error_code,
            "at": timezone.now().isoformat()}  # fmt: skip


# GSM 03.38's basic alphabet, approximated by printable ASCII plus line breaks (as the SMSC).
_GSM7 = re.compile(r"^[\x20-\x7e\r\n]*$")


def sms_segment_count(text: str) -> int:
    """How many SMS parts carry ``text``: 160/153 GSM-7 characters or 70/67 UCS-2 units."""
    if _GSM7.match(text):
        single, part, length = 160, 153, len(text)
    else:
        single, part, length = 70, 67, len(text.encode("utf-16-le")) // 2
    return 1 if length <= single else -(-length // part)


def sms_queue(*, msisdn: str, text: str, purpose: str, preview: str | None = None) -> uuid.UUID:
    """Record an outbound SMS and enqueue its sending once the caller's transaction commits.

    ``preview`` is what is stored (OTP texts pass one with the code masked); ``text`` travels
    only in the task. Returns the message id.
    """
    from apps.carrier.tasks import sms_submit_task

    message = SmsMessage.objects.create(
        msisdn=msisdn, purpose=purpose, preview=(preview if preview is not None else text)[:500]
    )
    enqueue_on_commit(sms_submit_task, str(message.id), text)
    return message.id


def sms_queue_many(*, messages: list[tuple[str, str]], purpose: str) -> list[uuid.UUID]:
    """``sms_queue`` for many (msisdn, text) at once: the rows in one INSERT and one task that
    sends them concurrently (``sms_submit_many_task``), enqueued once the caller commits."""
    from apps.carrier.tasks import sms_submit_many_task

    if not messages:
        return []
    rows = SmsMessage.objects.bulk_create(
        SmsMessage(id=uuid.uuid4(), msisdn=msisdn, purpose=purpose, preview=text[:500])
        for msisdn, text in messages
    )
    enqueue_on_commit(
        sms_submit_many_task,
        [[str(row.id), text] for row, (_, text) in zip(rows, messages, strict=True)],
    )
    return [row.id for row in rows]


def sms_submit_many(*, items: list[tuple[uuid.UUID, str]]) -> list[uuid.UUID]:
    """``sms_submit`` for many queued messages: read in one query, sent concurrently (no
    database work during the calls), each answer applied as ``sms_submit`` applies it. Returns
    the ids the carrier could not answer for now (the caller retries them one by one)."""
    from apps.carrier.concurrent import carrier_map
    from apps.carrier.errors import CarrierUnavailable

    texts = dict(items)
    queued = list(SmsMessage.objects.filter(pk__in=list(texts), status=Status.QUEUED))
    client, callback = get_carrier_client(), _callback_url()

    def send(message: SmsMessage) -> SmsAccepted | Exception:
        try:
            return client.send_sms(
                to=message.msisdn, text=texts[message.id], idempotency_key=str(message.id),
                reference=str(message.id), callback_url=callback,
            )  # fmt: skip
        except (CarrierRejected, SubscriberNotFound, CarrierUnavailable) as exc:
            return exc

    answers = carrier_map(send, queued)
    later, accepted = [], []
    for message, answer in zip(queued, answers, strict=True):
        if isinstance(answer, CarrierUnavailable):
            later.append(message.id)
        elif isinstance(answer, CarrierRejected):
            _sms_move(message_id=message.id, status=Status.FAILED,
                      error_code=answer.carrier_code or answer.code)  # fmt: skip
        elif isinstance(answer, SubscriberNotFound):
            _sms_move(message_id=message.id, status=Status.FAILED, error_code=answer.code)
        elif isinstance(answer, SmsAccepted):
            accepted.append((message, answer))
    _sms_accepted_many(accepted)
    return later


def _sms_accepted_many(pairs: list[tuple[SmsMessage, SmsAccepted]]) -> None:
    """``_sms_accepted`` for many messages in one transaction: one conditional UPDATE for all
    (only queued ones move to submitted), their audit events in one INSERT and their
    ``SMS_STATUS_CHANGED`` events in one INSERT; a message a delivery report overtook just
    gets the carrier's id, as there."""
    if not pairs:
        return
    now = timezone.now()
    table = SmsMessage._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS m SET status = %s, submitted_at = %s, updated_at = %s, "  # noqa: S608
            "carrier_message_id = v.cid, segments = v.seg "
            "FROM unnest(%s::uuid[], %s::text[], %s::int[]) AS v(id, cid, seg) "
            "WHERE m.id = v.id AND m.status = %s RETURNING m.id",
            [Status.SUBMITTED, now, now, [m.id for m, _ in pairs],
             [a.message_id for _, a in pairs], [a.segments for _, a in pairs], Status.QUEUED],
        )  # fmt: skip
        moved = {row[0] for row in cursor.fetchall()}
        changed = []
        for message, answer in pairs:
            if message.id not in moved:
                continue
            audit_record(
                action="sms.submitted", object_type="sms", object_id=message.id,
                before={"status": Status.QUEUED},
                after={"status": Status.SUBMITTED, "carrier_message_id": answer.message_id},
            )  # fmt: skip
            message.status, message.submitted_at = Status.SUBMITTED, now
            message.carrier_message_id, message.segments = answer.message_id, answer.segments
            changed.append(_sms_payload(message))
        if changed:
            outbox.publish_many(SMS_STATUS_CHANGED, changed)
    for message, answer in pairs:
        if message.id not in moved:
            SmsMessage.objects.filter(pk=message.id).update(
                carrier_message_id=answer.message_id, segments=answer.segments, updated_at=now
            )


def _callback_url() -> str:
    return settings.CARRIER_CALLBACK_BASE_URL.rstrip("/") + reverse("carrier:sms-dlr")


def sms_submit(*, message_id: uuid.UUID, text: str) -> None:
    """Hand a queued SMS to the carrier. Safe to repeat: the message id is the idempotency key.

    Raises ``CarrierUnavailable`` (after the adapter's own retries) for the task to retry later.
    Takes no lock while calling the carrier; the result is applied afterwards by one conditional
    update (the row lock it takes lasts only for that transaction).
    """
    message = SmsMessage.objects.filter(pk=message_id).first()
    if message is None or message.status != Status.QUEUED:
        return
    try:
        accepted = get_carrier_client().send_sms(
            to=message.msisdn,
            text=text,
            idempotency_key=str(message.id),
            reference=str(message.id),
            callback_url=_callback_url(),
        )
    except CarrierRejected as exc:
        _sms_move(
            message_id=message_id, status=Status.FAILED, error_code=exc.carrier_code or exc.code
        )
        return
    except SubscriberNotFound as exc:
        _sms_move(message_id=message_id, status=Status.FAILED, error_code=exc.code)
        return
    _sms_accepted(message, accepted)


def _sms_accepted(message: SmsMessage, accepted: SmsAccepted) -> None:
    """Apply the carrier's acceptance of a queued message (one conditional UPDATE)."""
    message_id = message.id
    now = timezone.now()
    accepted_fields = {"carrier_message_id": accepted.message_id, "segments": accepted.segments,
                       "updated_at": now}  # fmt: skip
    with transaction.atomic():
        # One conditional UPDATE instead of lock, read and save: only a queued message moves to
        # submitted; one whose delivery report overtook this answer just gets the carrier's id.
        if SmsMessage.objects.filter(pk=message_id, status=Status.QUEUED).update(
            status=Status.SUBMITTED, submitted_at=now, **accepted_fields
        ):
            audit_record(
                action="sms.submitted",
                object_type="sms",
                object_id=message_id,
                before={"status": Status.QUEUED},
                after={"status": Status.SUBMITTED, "carrier_message_id": accepted.message_id},
            )
            message.status, message.submitted_at = Status.SUBMITTED, now
            message.carrier_message_id, message.segments = accepted.message_id, accepted.segments
            _sms_notify(message)  # the UPDATE holds the row lock until commit
        else:
            SmsMessage.objects.filter(pk=message_id).update(**accepted_fields)


def sms_mark_failed(*, message_id: uuid.UUID, error_code: str) -> None:
    """The task gave up: the message was never accepted by the carrier."""
    _sms_move(message_id=message_id, status=Status.FAILED, error_code=error_code)


def _sms_move(*, message_id: uuid.UUID, status: str, error_code: str = "") -> bool:
    with transaction.atomic():
        message = locks.sms_lock(message_id)
        if message is None or not message.can_move_to(status):
            return False
        before = message.status
        message.status = status
        message.error_code = error_code
        message.save(update_fields=["status", "error_code", "updated_at"])
        audit_record(
            action=f"sms.{status}",
            object_type="sms",
            object_id=message.pk,
            before={"status": before},
            after={"status": status, "error_code": error_code},
        )
        _sms_notify(message)
    return True


@dataclass(frozen=True)
class DeliveryReport:
    reference: str
    carrier_message_id: str
    status: str
    error_code: str
    delivered_at: datetime | None


def sms_delivery_report_apply(*, report: DeliveryReport) -> bool:
    """Apply a delivery report; return whether it changed anything.

    Idempotent: a repeated or stale report finds the message already final and changes
    nothing. Locks the message row.
    """
    if report.status not in (Status.DELIVERED, Status.UNDELIVERED):
        return False
    try:
        message_id = uuid.UUID(report.reference)
    except ValueError:
        return False
    with transaction.atomic():
        message = locks.sms_lock(message_id)
        if message is None or not message.can_move_to(report.status):
            return False
        before = message.status
        message.status = report.status
        message.error_code = report.error_code
        message.delivered_at = report.delivered_at or timezone.now()
        message.carrier_message_id = message.carrier_message_id or report.carrier_message_id
        message.save(
            update_fields=[
                "status",
                "error_code",
                "delivered_at",
                "carrier_message_id",
                "updated_at",
            ]
        )
        audit_record(
            action=f"sms.{report.status}",
            object_type="sms",
            object_id=message.pk,
            before={"status": before},
            after={"status": report.status, "error_code": report.error_code},
        )
        _sms_notify(message)
    return True


def subscriber_lookup(*, msisdn: str) -> SubscriberInfo:
    """The carrier's view of a number: operator, province, status, balance.

    Raises ``SubscriberNotFound`` for an unknown number of this carrier and
    ``CarrierUnavailable`` when the network does not answer.
    """
    return get_carrier_client().lookup_subscriber(msisdn=msisdn)


# --- Carrier billing ----------------------------------------------------------------------------


def billing_prepare(
    *,
    msisdn: str,
    amount_fen: int,
    description: str,
    reference: str,
    idempotency_key: str,
    recurring: bool = False,
) -> BillingState:
    """Open a charge on the subscriber's bill; the carrier texts them a code (none for a
    ``recurring`` subscription renewal, which the subscriber agreed to already). Network call."""
    return get_carrier_client().billing_prepare(
        msisdn=msisdn, amount_fen=amount_fen, description=description, reference=reference,
        idempotency_key=idempotency_key, recurring=recurring,
    )  # fmt: skip


def billing_validate_and_confirm(*, payment_id: str, code: str) -> BillingState:
    """Pass on the subscriber's code, then charge the bill. Raises ``CarrierRejected``
    (carrier code ``INVALID_CODE``, ``TOO_MANY_ATTEMPTS``, ``INSUFFICIENT_BALANCE``...)."""
    client = get_carrier_client()
    client.billing_action(payment_id=payment_id, action="validate", body={"code": code})
    return client.billing_action(payment_id=payment_id, action="confirm")


def billing_validate(*, payment_id: str, code: str) -> BillingState:
    """Pass on the subscriber's code only (the charge is confirmed separately). Network call;
    idempotent once validated. Raises ``CarrierRejected`` (``INVALID_CODE``...)."""
    return get_carrier_client().billing_action(
        payment_id=payment_id, action="validate", body={"code": code}
    )


def billing_cancel(*, payment_id: str) -> BillingState:
    return get_carrier_client().billing_action(payment_id=payment_id, action="cancel")


def billing_refund(*, payment_id: str, amount_fen: int, refund_reference: str) -> BillingState:
    """Credit part of a charge back; idempotent per ``refund_reference`` at the carrier."""
    return get_carrier_client().billing_action(
        payment_id=payment_id,
        action="refund",
        body={"amount_fen": amount_fen, "refund_reference": refund_reference},
    )


def billing_get(*, payment_id: str) -> BillingState:
    return get_carrier_client().billing_get(payment_id=payment_id)


def billing_statement(*, day: date, merchant_id: str) -> bytes:
    """The carrier's file of the day's phone-bill charges and refunds for ``merchant_id``
    (T+1, for reconciliation). Network call, no transaction open."""
    return get_carrier_client().billing_statement(day=day.isoformat(), merchant_id=merchant_id)


# --- Provisioning (BOSS) ------------------------------------------------------------------------


def provision_once(*, kind: str, body: dict[str, Any], idempotency_key: str) -> Provisioned:
    """Apply a top-up ("recharges") or data pack ("data-packs") exactly once, at the BOSS of
    the number's home province (see ``breaker`` for how a province that is down is isolated).
    Network call.

    One try; on a timeout or lost answer the carrier is asked whether the request under this
    key was applied before anything is sent again, so a retry can never apply it twice.
    Raises ``CarrierUnavailable`` when the outcome is still unknown (the caller retries later
    with the same key), ``CarrierRejected``/``SubscriberNotFound`` when the carrier refused.
    """
    return provisioned_of(
        get_carrier_client().boss_apply_once(
            operation=kind, body=body, idempotency_key=idempotency_key
        )
    )


def provisioned_by_key(*, msisdn: str, idempotency_key: str) -> Provisioned | None:
    """What the BOSS of ``msisdn``'s province applied under this key (a top-up, data pack, plan
    change or add-on), or ``None`` when it applied nothing under it: the answer that settles a
    request whose outcome was lost. Network call; ``CarrierUnavailable`` while it cannot say."""
    body = get_carrier_client().boss_by_key(msisdn=msisdn, idempotency_key=idempotency_key)
    return None if body is None else provisioned_of(body)


# --- Codes in the reader's words --------------------------------------------------------------

_OPERATOR_NAMES = {
    "CMCC": gettext_lazy("China Mobile"),
    "CUCC": gettext_lazy("China Unicom"),
    "CTCC": gettext_lazy("China Telecom"),
    "CBN": gettext_lazy("China Broadnet"),
}
_LINE_STATUSES = {
    "active": gettext_lazy("In service"),
    "suspended": gettext_lazy("Suspended"),
    "closed": gettext_lazy("Closed"),
    "unknown": gettext_lazy("Unknown"),
}


def operator_label(code: str) -> str:
    """``CUCC`` → 中国联通: an operator's name as buyers know it (the code if unknown)."""
    return str(_OPERATOR_NAMES.get(code, code))


def line_status_label(status: str) -> str:
    """A subscriber line's status (``active``) in the reader's words."""
    return str(_LINE_STATUSES.get(status, status))
