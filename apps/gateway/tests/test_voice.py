"""Click-to-dial calls through the pipeline: states driven by the sandbox, callbacks, hang-up."""

from __future__ import annotations

import httpx
import pytest

from apps.core.models import OutboxEvent
from apps.gateway.models import VoiceCall
from apps.gateway.tests.capability_support import assert_callback_signed, wait_until
from apps.gateway.tests.support import SignedClient, gateway_app_create
from tests.fixtures.sandbox_support import callback_receiver, unique_msisdn

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("loopback_callbacks"),
]


@pytest.fixture
def events(carrier_sandbox, live_server, settings):
    """The sandbox's call events reach this test's platform; the test ends only once the
    platform has applied the event of every call's final state, which the sandbox sends on its
    own timer (even after a hang-up the platform applied at once): a late event written while
    the test's teardown empties the database deadlocked the flush."""
    settings.CARRIER_CALLBACK_BASE_URL = live_server.url
    yield carrier_sandbox
    ended = VoiceCall.objects.filter(status__in=VoiceCall._ENDS, carrier_call_id__gt="")
    keys = {f"call:{carrier_id}:{status}" for carrier_id, status in ended.values_list(
        "carrier_call_id", "status")}  # fmt: skip
    assert wait_until(
        lambda: OutboxEvent.objects.filter(key__in=keys, status="done").count() == len(keys)
    ), f"the platform did not apply the sandbox's final call events {sorted(keys)}"


def _behave(sandbox, msisdn: str, **behaviour) -> None:
    httpx.put(
        f"{sandbox.url}/sandbox/subscribers/{msisdn}/call-behaviour",
        json=behaviour,
        headers={"X-Api-Key": sandbox.api_key},
    ).raise_for_status()


def _lines(sandbox, *statuses: str) -> list[str]:
    numbers = []
    for status in statuses:
        number = unique_msisdn()
        sandbox.put_subscriber(number, status=status)
        numbers.append(number)
    return numbers


def test_an_answered_call_is_followed_to_completed_with_callbacks(events):
    caller, callee = _lines(events, "active", "active")
    _behave(events, callee, outcome="answer", ring_ms=100, talk_ms=300)
    with callback_receiver() as receiver:
        app = gateway_app_create(capabilities=["voice"], callback_urls=[receiver.url])
        client = SignedClient(app)

        started = client.post("/voice/v1/calls", {"caller": caller, "callee": callee})
        reports = receiver.wait_for(3, timeout=20)

    assert started.status_code == 201
    call_id = started.json()["callId"]
    assert started.json()["status"] == "initiated"
    # Callbacks may arrive in any order (each is its own POST); the partner orders by state.
    assert sorted(r.body["data"]["status"] for r in reports) == ["answered", "completed", "ringing"]
    for report in reports:
        assert_callback_signed(report, client_id=app.client_id, secret=app.secret)
        assert report.body["data"]["callId"] == call_id
    detail = client.get(f"/voice/v1/calls/{call_id}")
    assert detail.json()["status"] == "completed"
    assert detail.json()["answeredAt"] and detail.json()["endedAt"]


def test_busy_and_unreachable_callees(events):
    caller, busy, suspended = _lines(events, "active", "active", "suspended")
    _behave(events, busy, outcome="busy", ring_ms=50)
    client = SignedClient(gateway_app_create(capabilities=["voice"]))

    to_busy = client.post("/voice/v1/calls", {"caller": caller, "callee": busy}).json()
    to_suspended = client.post("/voice/v1/calls", {"caller": caller, "callee": suspended}).json()

    assert wait_until(lambda: VoiceCall.objects.get(pk=to_busy["callId"]).status == "busy")
    assert wait_until(lambda: VoiceCall.objects.get(pk=to_suspended["callId"]).status == "failed")
    assert VoiceCall.objects.get(pk=to_suspended["callId"]).reason == "CALLEE_UNREACHABLE"


def test_hang_up_before_the_answer_and_then_again(events):
    caller, callee = _lines(events, "active", "active")
    _behave(events, callee, outcome="answer", ring_ms=30_000)
    client = SignedClient(gateway_app_create(capabilities=["voice"]))
    call_id = client.post("/voice/v1/calls", {"caller": caller, "callee": callee}).json()["callId"]
    assert wait_until(lambda: VoiceCall.objects.get(pk=call_id).status == "ringing")

    hung = client.call("DELETE", f"/voice/v1/calls/{call_id}")
    again = client.call("DELETE", f"/voice/v1/calls/{call_id}")

    assert (hung.status_code, hung.json()["status"]) == (200, "cancelled")
    assert (again.status_code, again.json()["code"]) == (409, "CONFLICT")


def test_call_refusals(events):
    caller, suspended = _lines(events, "active", "suspended")
    client = SignedClient(gateway_app_create(capabilities=["voice"]))

    unknown = client.post("/voice/v1/calls", {"caller": "+8613912345674", "callee": caller})
    blocked = client.post("/voice/v1/calls", {"caller": suspended, "callee": caller})
    same = client.post("/voice/v1/calls", {"caller": caller, "callee": caller})
    foreign = client.get("/voice/v1/calls/6f1c7a52-4d0e-4d43-9a43-5f7d6a0a0a0a")

    assert (unknown.status_code, unknown.json()["code"]) == (404, "IDENTIFIER_NOT_FOUND")
    assert (blocked.status_code, blocked.json()["code"]) == (422, "SERVICE_NOT_APPLICABLE")
    # Well-formed (the schema cannot compare two fields): a business refusal, not a 400.
    assert (same.status_code, same.json()["code"]) == (422, "SERVICE_NOT_APPLICABLE")
    assert (foreign.status_code, foreign.json()["code"]) == (404, "NOT_FOUND")
    assert list(VoiceCall.objects.values_list("status", flat=True)) == ["failed", "failed"]
