"""The network adapters: SIM-change dates, device tokens, calls, and the SMS/call listeners."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from apps.carrier import network, services, voice
from apps.carrier.errors import SubscriberNotFound
from apps.carrier.models import SmsMessage
from apps.core.models import OutboxEvent
from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import unique_msisdn


def test_sim_latest_change_follows_a_swap(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    at = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    httpx.post(
        f"{carrier_sandbox.url}/sandbox/subscribers/{msisdn}/sim-swap",
        json={"at": at.isoformat()},
        headers={"X-Api-Key": carrier_sandbox.api_key},
    ).raise_for_status()

    assert network.sim_latest_change(msisdn=msisdn) == at


def test_sim_of_unknown_and_foreign_numbers_raise(carrier_sandbox: SandboxServer):
    with pytest.raises(SubscriberNotFound):
        network.sim_latest_change(msisdn="+8613912345671")
    with pytest.raises(network.NotOwnNetwork):
        network.sim_latest_change(msisdn="+8618612345678")


def test_a_device_token_resolves_to_its_number(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    token = httpx.post(
        f"{carrier_sandbox.url}/sandbox/network-auth", json={"msisdn": msisdn}
    ).json()["device_token"]

    assert network.device_token_number(device_token=token) == msisdn
    assert network.device_token_number(device_token=token + "x") is None


def _events(topic: str, count: int) -> list[dict]:
    """The payloads published on ``topic``, once ``count`` have arrived (10 s at most)."""
    deadline = time.monotonic() + 10
    while OutboxEvent.objects.filter(topic=topic).count() < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return list(
        OutboxEvent.objects.filter(topic=topic)
        .order_by("created_at")
        .values_list("payload", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_call_events_are_published_to_the_outbox(
    carrier_sandbox: SandboxServer, live_server, settings
):
    settings.CARRIER_CALLBACK_BASE_URL = live_server.url
    caller, callee = unique_msisdn(), unique_msisdn()
    carrier_sandbox.put_subscriber(caller, status="active")
    carrier_sandbox.put_subscriber(callee, status="suspended")
    started = voice.call_start(
        caller=caller, callee=callee, reference="ref-1", idempotency_key=f"t-{caller}"
    )
    seen = [voice.call_state_parse(p) for p in _events(voice.CALL_EVENT, 1)]

    assert started.status == "initiated"
    assert [(s.call_id, s.status, s.reason, s.reference) for s in seen] == [
        (started.call_id, "failed", "CALLEE_UNREACHABLE", "ref-1")
    ]
    assert voice.call_get(call_id=started.call_id).status == "failed"


@pytest.mark.django_db(transaction=True)
def test_sms_status_changes_are_published_to_the_outbox(
    carrier_sandbox: SandboxServer, live_server, settings
):
    settings.CARRIER_CALLBACK_BASE_URL = live_server.url
    message_id = services.sms_queue(msisdn="+8613800138000", text="hello", purpose="partner")
    seen = [
        services.SmsStatusChange.from_payload(p) for p in _events(services.SMS_STATUS_CHANGED, 2)
    ]

    assert [(c.message_id, c.purpose, c.status, c.segments) for c in seen] == [
        (message_id, "partner", "submitted", 1),
        (message_id, "partner", "delivered", 1),
    ]
    assert SmsMessage.objects.get(pk=message_id).status == "delivered"


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("短" * 70, 1),
        ("短" * 71, 2),
        ("短" * 134, 2),
        ("短" * 135, 3),
    ],
)
def test_segment_count(text: str, segments: int):
    assert services.sms_segment_count(text) == segments
