"""Click-to-dial calls through the carrier, and the outbox topic told of each call's state change.

The carrier reports every change (signed, like SMS delivery reports) to
``/callbacks/voice/``; ``call_event_apply`` publishes it as a ``CALL_EVENT`` outbox event that
higher layers (the gateway) handle with ``outbox.handler``, so this layer imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from apps.carrier.client import get_carrier_client
from apps.core import outbox

CALL_EVENT = "carrier.call_event"


@dataclass(frozen=True)
class CallState:
    call_id: str
    caller: str
    callee: str
    status: str  # initiated ringing answered completed busy no-answer failed cancelled
    reason: str
    reference: str
    answered_at: datetime | None
    ended_at: datetime | None


def call_state_parse(body: dict[str, Any]) -> CallState:
    """A call as the carrier describes it (answers and events share the shape)."""
    return CallState(
        call_id=str(body["call_id"]), caller=str(body["caller"]), callee=str(body["callee"]),
        status=str(body["status"]), reason=str(body.get("reason") or ""),
        reference=str(body.get("reference") or ""),
        answered_at=parse_datetime(str(body.get("answered_at") or "")),
        ended_at=parse_datetime(str(body.get("ended_at") or "")),
    )  # fmt: skip


def _callback_url() -> str:
    return settings.CARRIER_CALLBACK_BASE_URL.rstrip("/") + reverse("carrier:voice-event")


def call_start(*, caller: str, callee: str, reference: str, idempotency_key: str) -> CallState:
    """Ask the network to ring ``caller`` then ``callee``; safe to retry under the same key.

    Network call; raises ``SubscriberNotFound``, ``CarrierRejected``, ``CarrierUnavailable``.
    """
    body = get_carrier_client().call(
        "POST",
        "/carrier/v1/calls",
        json={"caller": caller, "callee": callee, "reference": reference,
              "callback_url": _callback_url()},
        idempotency_key=idempotency_key,
    )  # fmt: skip
    return call_state_parse(body)


def call_get(*, call_id: str) -> CallState:
    return call_state_parse(get_carrier_client().call("GET", f"/carrier/v1/calls/{quote(call_id)}"))


def call_hangup(*, call_id: str) -> CallState:
    """End the call (idempotent at the carrier: a final call stays as it is)."""
    return call_state_parse(
        get_carrier_client().call("POST", f"/carrier/v1/calls/{quote(call_id)}/hangup", json={})
    )


def call_state_payload(state: CallState) -> dict[str, Any]:
    """The call as an outbox payload (``call_state_parse`` reads it back)."""
    return {
        "call_id": state.call_id, "caller": state.caller, "callee": state.callee,
        "status": state.status, "reason": state.reason, "reference": state.reference,
        "answered_at": state.answered_at.isoformat() if state.answered_at else None,
        "ended_at": state.ended_at.isoformat() if state.ended_at else None,
    }  # fmt: skip


def call_event_apply(*, state: CallState) -> None:
    """Publish one carrier event; a repeat of the same call state publishes nothing.

    Events may come out of order: the handlers apply only moves their state machine allows.
    """
    with transaction.atomic():
        outbox.publish(
            CALL_EVENT, call_state_payload(state), key=f"call:{state.call_id}:{state.status}"
        )
