"""Click-to-dial for partners: start, follow and end calls that the carrier drives.

A call is recorded first (committed), the carrier is asked to dial with no transaction open,
then its id is recorded; the carrier's events reach ``call_event`` through its listener
registry, move the call and owe the partner a signed callback.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.carrier import voice as carrier_voice
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.core import outbox
from apps.core.audit import audited_transition
from apps.core.errors import Conflict
from apps.gateway import callbacks, locks
from apps.gateway.capability_errors import (
    CallStateConflict,
    CapabilityNotFound,
    IdentifierNotFound,
    NetworkUnavailable,
    ServiceNotApplicable,
)
from apps.gateway.context import GatewayApp
from apps.gateway.models import VoiceCall

CALL_EVENT = "org.carrierhub.voice.v1.call-status-changed"
Status = VoiceCall.Status


@dataclass(frozen=True)
class CallView:
    call_id: uuid.UUID
    caller: str
    callee: str
    status: str
    reason: str
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None


def _view(call: VoiceCall) -> CallView:
    return CallView(
        call_id=call.pk, caller=call.caller, callee=call.callee, status=call.status,
        reason=call.reason, created_at=call.created_at, answered_at=call.answered_at,
        ended_at=call.ended_at,
    )  # fmt: skip


def _move(call: VoiceCall, status: str, *, reason: str = "") -> bool:
    """One transition (row locked by the caller), its audit event and the partner's callback."""
    if status not in call.TRANSITIONS[call.status]:
        return False
    audited_transition(
        call, status, object_type="voice_call", object_id=call.pk,
        refused=lambda details: Conflict(details=details), after={"reason": reason},
    )  # fmt: skip
    call.reason = reason[:32]
    now = timezone.now()
    if status == Status.ANSWERED:
        call.answered_at = now
    if status in VoiceCall._ENDS:
        call.ended_at = now
    call.save(update_fields=["status", "reason", "answered_at", "ended_at", "updated_at"])
    callbacks.callback_enqueue(
        app_id=call.app_id, environment=call.environment, client_id=call.client_id,
        url=call.callback_url, event_type=CALL_EVENT, subject=str(call.pk),
        data={"callId": str(call.pk), "status": status, "reason": reason or None,
              "caller": call.caller, "callee": call.callee, "at": now.isoformat()},
    )  # fmt: skip
    return True


def call_start(*, gateway_app: GatewayApp, caller: str, callee: str, callback_url: str) -> CallView:
    """Ring ``caller``, then bridge to ``callee``. Network call between two transactions; the
    call's own id is the carrier's idempotency key, so the adapter's retries dial once."""
    call = VoiceCall.objects.create(
        app_id=gateway_app.app_id, environment=gateway_app.environment,
        client_id=gateway_app.client_id, caller=caller, callee=callee, callback_url=callback_url,
    )  # fmt: skip
    try:
        state = carrier_voice.call_start(
            caller=caller,
            callee=callee,
            reference=str(call.pk),
            idempotency_key=f"gw-call:{call.pk}",
        )
    except (SubscriberNotFound, CarrierRejected, CarrierUnavailable) as exc:
        with transaction.atomic():
            locked = _locked(call.pk)
            _move(locked, Status.FAILED, reason=exc.code)
        if isinstance(exc, SubscriberNotFound):
            raise IdentifierNotFound() from exc
        if isinstance(exc, CarrierUnavailable):
            raise NetworkUnavailable() from exc
        raise ServiceNotApplicable(exc.message) from exc
    with transaction.atomic():
        locked = _locked(call.pk)
        locked.carrier_call_id = state.call_id
        locked.save(update_fields=["carrier_call_id", "updated_at"])
        if state.status != locked.status:
            _move(locked, state.status, reason=state.reason)
    return _view(locked)


def call_get(*, app_id: int, call_id: uuid.UUID) -> CallView:
    call = VoiceCall.objects.filter(pk=call_id, app_id=app_id).first()
    if call is None:
        raise CapabilityNotFound()
    return _view(call)


def call_hangup(*, app_id: int, call_id: uuid.UUID) -> CallView:
    """End a call; the carrier's answer (completed or cancelled) is applied at once."""
    call = VoiceCall.objects.filter(pk=call_id, app_id=app_id).first()
    if call is None:
        raise CapabilityNotFound()
    if call.status in VoiceCall._ENDS or not call.carrier_call_id:
        raise CallStateConflict(details={"status": call.status})
    try:
        state = carrier_voice.call_hangup(call_id=call.carrier_call_id)
    except CarrierUnavailable as exc:
        raise NetworkUnavailable() from exc
    _apply(state)
    return _view(VoiceCall.objects.get(pk=call_id))


def _locked(call_id: uuid.UUID) -> VoiceCall:
    call = locks.voice_call_lock(call_id)
    assert call is not None  # created just before, and calls are never deleted
    return call


def _apply(state: carrier_voice.CallState) -> None:
    with transaction.atomic():
        call = locks.voice_call_lock_by_carrier_id(state.call_id)
        if call is None and state.reference:
            # The event can overtake the start's answer: find the call by its reference.
            try:
                reference = uuid.UUID(state.reference)
            except ValueError:
                return
            call = locks.voice_call_lock(reference)
        if call is not None:
            _move(call, state.status, reason=state.reason)


@outbox.handler(carrier_voice.CALL_EVENT)
def call_event(event: outbox.Event) -> None:
    """The carrier's event: apply one call state (repeats and stale ones change nothing)."""
    _apply(carrier_voice.call_state_parse(event.payload))
