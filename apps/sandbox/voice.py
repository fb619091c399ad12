"""Click-to-dial: the network calls the caller, then the callee, and reports each state change.

A call moves ``initiated → ringing → answered → completed``, or ends ``busy``, ``no-answer``
or ``failed`` (a callee that cannot be reached), or ``cancelled`` when hung up before it was
answered. The timer threads drive it on the callee's ``CallBehaviour`` (default: answer after
1 s, talk 2 s); each change is POSTed, signed like delivery reports, to the call's callback.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.sandbox.errors import SandboxError, invalid_argument, not_found
from apps.sandbox.jsonapi import sandbox_setting
from apps.sandbox.models import CallBehaviour, Subscriber, VoiceCall
from apps.sandbox.scheduler import call_later
from apps.sandbox.sms import dlr_signature
from apps.sandbox.subscribers import msisdn_normalize

logger = logging.getLogger(__name__)
Status = VoiceCall.Status
FINAL = frozenset(
    {Status.COMPLETED, Status.BUSY, Status.NO_ANSWER, Status.FAILED, Status.CANCELLED}
)
# The one transition table; the timers and hang-ups both go through it, so a late timer after
# a hang-up changes nothing.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.INITIATED: frozenset({Status.RINGING, Status.FAILED, Status.CANCELLED}),
    Status.RINGING: frozenset(
        {Status.ANSWERED, Status.BUSY, Status.NO_ANSWER, Status.FAILED, Status.CANCELLED}
    ),
    Status.ANSWERED: frozenset({Status.COMPLETED}),
}
_FIELDS = frozenset({"caller", "callee", "callback_url", "reference"})
_FIRST_STEP_S = 0.2
_BACKOFF_S = (0.5, 1.0, 2.0, 4.0)


def call_body(call: VoiceCall) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return timezone.localtime(moment).isoformat() if moment else None

    return {
        "call_id": call.call_id,
        "caller": call.caller,
        "callee": call.callee,
        "status": call.status,
        "reason": call.reason or None,
        "reference": call.reference or None,
        "created_at": iso(call.created_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
    }


def _parse(payload: dict[str, Any]) -> tuple[str, str, str, str]:
    unknown = sorted(set(payload) - _FIELDS)
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(unknown)}.")
    caller = msisdn_normalize(str(payload.get("caller") or ""))
    callee = msisdn_normalize(str(payload.get("callee") or ""))
    callback_url = str(payload.get("callback_url") or "")
    if callback_url:
        parts = urlsplit(callback_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(callback_url) > 500:
            raise invalid_argument("callback_url must be an absolute http(s) URL.")
    reference = str(payload.get("reference") or "")[:128]
    return caller, callee, callback_url, reference


def call_start(*, idempotency_key: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Open a call once per key (a repeat with the same body returns the first answer)."""
    if not 0 < len(idempotency_key) <= 255:
        raise invalid_argument("An Idempotency-Key header of 1..255 characters is required.")
    caller, callee, callback_url, reference = _parse(payload)
    request_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    existing = VoiceCall.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        subscriber = Subscriber.objects.filter(msisdn=caller).first()
        if subscriber is None:
            raise not_found(f"{caller} is not a subscriber.", code="SUBSCRIBER_NOT_FOUND")
        if subscriber.status != Subscriber.Status.ACTIVE:
            raise SandboxError(
                403, "SUBSCRIBER_NOT_ACTIVE", "The caller's line is suspended or closed."
            )
        call = VoiceCall(
            call_id="VC" + secrets.token_hex(10), idempotency_key=idempotency_key,
            request_hash=request_hash, caller=caller, callee=callee, reference=reference,
            callback_url=callback_url,
        )  # fmt: skip
        try:
            with transaction.atomic():
                call.save(force_insert=True)
        except IntegrityError:
            existing = VoiceCall.objects.get(idempotency_key=idempotency_key)
        else:
            call_later(_FIRST_STEP_S, functools.partial(_ring, call_pk=call.pk))
            return 201, call_body(call)
    if existing.request_hash != request_hash:
        raise SandboxError(
            409, "IDEMPOTENCY_CONFLICT", "This Idempotency-Key was used with another body."
        )
    return 200, call_body(existing)


def call_get(*, call_id: str) -> dict[str, Any]:
    call = VoiceCall.objects.filter(call_id=call_id).first()
    if call is None:
        raise not_found(f"No call {call_id}.")
    return call_body(call)


def call_hangup(*, call_id: str) -> dict[str, Any]:
    """End the call: ``completed`` once answered, ``cancelled`` before; final calls stay."""
    call = VoiceCall.objects.filter(call_id=call_id).first()
    if call is None:
        raise not_found(f"No call {call_id}.")
    target = Status.COMPLETED if call.status == Status.ANSWERED else Status.CANCELLED
    _move(call.pk, target, reason="hangup")
    return call_get(call_id=call_id)


def behaviour_put(*, raw_msisdn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Set how a number answers (``outcome``, ``ring_ms``, ``talk_ms``)."""
    msisdn = msisdn_normalize(raw_msisdn)
    unknown = sorted(set(payload) - {"outcome", "ring_ms", "talk_ms"})
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(unknown)}.")
    fields: dict[str, Any] = {}
    if "outcome" in payload:
        if payload["outcome"] not in CallBehaviour.Outcome.values:
            raise invalid_argument("outcome must be answer, busy or no-answer.")
        fields["outcome"] = payload["outcome"]
    for name, top in (("ring_ms", 60_000), ("talk_ms", 600_000)):
        if name in payload:
            value = payload[name]
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
                raise invalid_argument(f"{name} must be 0..{top}.")
            fields[name] = value
    row, _ = CallBehaviour.objects.update_or_create(msisdn=msisdn, defaults=fields)
    return {
        "msisdn": row.msisdn,
        "outcome": row.outcome,
        "ring_ms": row.ring_ms,
        "talk_ms": row.talk_ms,
    }


def _move(call_pk: int, status: str, *, reason: str = "") -> bool:
    """One transition under the row lock; the change is reported after commit."""
    with transaction.atomic():
        call = VoiceCall.objects.select_for_update().get(pk=call_pk)
        if status not in TRANSITIONS.get(call.status, frozenset()):
            return False
        call.status = status
        call.reason = reason
        now = timezone.now()
        if status == Status.ANSWERED:
            call.answered_at = now
        if status in FINAL:
            call.ended_at = now
        call.save(update_fields=["status", "reason", "answered_at", "ended_at"])
    if call.callback_url:
        event = {**call_body(call), "event_id": f"{call.call_id}:{status}"}
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        # From a timer thread, never from the request that hung up: the caller may be the
        # platform waiting for this very answer.
        call_later(0, functools.partial(_post_event, url=call.callback_url, body=body, attempt=1))
    return True


def _behaviour(msisdn: str) -> CallBehaviour:
    return CallBehaviour.objects.filter(msisdn=msisdn).first() or CallBehaviour(msisdn=msisdn)


def _ring(*, call_pk: int) -> None:
    call = VoiceCall.objects.get(pk=call_pk)
    line = Subscriber.objects.filter(msisdn=call.callee).values_list("status", flat=True).first()
    if line in (Subscriber.Status.SUSPENDED, Subscriber.Status.CANCELLED):
        _move(call_pk, Status.FAILED, reason="CALLEE_UNREACHABLE")
        return
    if _move(call_pk, Status.RINGING):
        behaviour = _behaviour(call.callee)
        call_later(behaviour.ring_ms / 1000, functools.partial(_answer_or_not, call_pk=call_pk))


def _answer_or_not(*, call_pk: int) -> None:
    call = VoiceCall.objects.get(pk=call_pk)
    behaviour = _behaviour(call.callee)
    if behaviour.outcome == CallBehaviour.Outcome.BUSY:
        _move(call_pk, Status.BUSY)
    elif behaviour.outcome == CallBehaviour.Outcome.NO_ANSWER:
        _move(call_pk, Status.NO_ANSWER)
    elif _move(call_pk, Status.ANSWERED):
        call_later(
            behaviour.talk_ms / 1000,
            functools.partial(_end_of_talk, call_pk=call_pk),
        )


def _end_of_talk(*, call_pk: int) -> None:
    _move(call_pk, Status.COMPLETED, reason="callee_hangup")


def _post_event(*, url: str, body: bytes, attempt: int) -> None:
    """One attempt to deliver a call event; a failure schedules the next after its backoff."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Carrier-Timestamp": str(timestamp),
        "X-Carrier-Signature": dlr_signature(
            secret=sandbox_setting("SANDBOX_SHARED_SECRET"), timestamp=timestamp, body=body
        ),
    }
    try:
        if httpx.post(url, content=body, headers=headers, timeout=3.0).is_success:
            return
    except httpx.HTTPError as exc:
        logger.info("call event to %s failed (attempt %d): %r", url, attempt, exc)
    if attempt <= len(_BACKOFF_S):
        call_later(
            _BACKOFF_S[attempt - 1],
            functools.partial(_post_event, url=url, body=body, attempt=attempt + 1),
        )
