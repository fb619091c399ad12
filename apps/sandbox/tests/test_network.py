"""SIM records, network-based device authentication and click-to-dial calls in the sandbox."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import httpx

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import callback_receiver, carrier_get, unique_key, unique_msisdn


def _post(sandbox: SandboxServer, path: str, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{sandbox.url}{path}",
        json=body,
        headers={"X-Api-Key": sandbox.api_key, **headers},
        timeout=10.0,
    )


def test_a_line_that_never_changed_sim_reports_its_opening(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    before = datetime.now(UTC)

    body = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{msisdn}/sim").json()

    assert body["msisdn"] == msisdn
    opened = datetime.fromisoformat(body["latest_sim_change"])
    assert abs((opened - before).total_seconds()) < 5
    assert body["latest_sim_change"].endswith("Z")


def test_a_swap_moves_the_latest_sim_change(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    at = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)

    swapped = _post(
        carrier_sandbox, f"/sandbox/subscribers/{msisdn}/sim-swap", {"at": at.isoformat()}
    )
    read = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{msisdn}/sim")

    assert swapped.status_code == 201
    assert datetime.fromisoformat(read.json()["latest_sim_change"]) == at


def test_a_swap_in_the_future_or_without_the_key_is_refused(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    refused = _post(carrier_sandbox, f"/sandbox/subscribers/{msisdn}/sim-swap", {"at": future})
    no_key = httpx.post(f"{carrier_sandbox.url}/sandbox/subscribers/{msisdn}/sim-swap", json={})

    assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_ARGUMENT")
    assert no_key.status_code == 401


def test_sim_of_unknown_and_foreign_numbers(carrier_sandbox: SandboxServer):
    unknown = carrier_get(carrier_sandbox, "/carrier/v1/subscribers/+8613912345670/sim")
    foreign = carrier_get(carrier_sandbox, "/carrier/v1/subscribers/+8618612345678/sim")

    assert (unknown.status_code, unknown.json()["code"]) == (404, "SUBSCRIBER_NOT_FOUND")
    assert (foreign.status_code, foreign.json()["code"]) == (422, "NOT_OWN_NETWORK")


def test_a_device_token_names_its_number_until_it_expires(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")

    issued = httpx.post(f"{carrier_sandbox.url}/sandbox/network-auth", json={"msisdn": msisdn})
    token = issued.json()["device_token"]
    active = _post(carrier_sandbox, "/carrier/v1/network-auth/introspect", {"device_token": token})
    bogus = _post(carrier_sandbox, "/carrier/v1/network-auth/introspect", {"device_token": "dt_x"})

    assert issued.status_code == 201
    assert issued.json()["expires_in"] == 300
    assert (active.json()["active"], active.json()["msisdn"]) == (True, msisdn)
    assert bogus.json() == {"active": False, "msisdn": None, "expires_at": None}


def test_a_suspended_line_gets_no_device_token(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="suspended")

    refused = httpx.post(f"{carrier_sandbox.url}/sandbox/network-auth", json={"msisdn": msisdn})

    assert (refused.status_code, refused.json()["code"]) == (403, "SUBSCRIBER_NOT_ACTIVE")


def _signed(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    expected = hmac.new(
        secret.encode(), f"{headers['x-carrier-timestamp']}.".encode() + raw, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, headers["x-carrier-signature"])


def test_an_answered_call_rings_answers_and_completes(carrier_sandbox: SandboxServer):
    caller, callee = unique_msisdn(), unique_msisdn()
    carrier_sandbox.put_subscriber(caller, status="active")
    carrier_sandbox.put_subscriber(callee, status="active")
    behaviour = {"outcome": "answer", "ring_ms": 100, "talk_ms": 200}
    httpx.put(
        f"{carrier_sandbox.url}/sandbox/subscribers/{callee}/call-behaviour",
        json=behaviour,
        headers={"X-Api-Key": carrier_sandbox.api_key},
    ).raise_for_status()
    key = unique_key()
    with callback_receiver() as receiver:
        body = {"caller": caller, "callee": callee, "callback_url": receiver.url, "reference": "r"}
        started = _post(carrier_sandbox, "/carrier/v1/calls", body, **{"Idempotency-Key": key})
        repeat = _post(carrier_sandbox, "/carrier/v1/calls", body, **{"Idempotency-Key": key})
        events = receiver.wait_for(3, timeout=20)

    assert started.status_code == 201
    assert (repeat.status_code, repeat.json()["call_id"]) == (200, started.json()["call_id"])
    # Each event is its own POST from a timer thread: they may arrive in any order.
    assert sorted(e.body["status"] for e in events) == ["answered", "completed", "ringing"]
    assert all(_signed(carrier_sandbox.shared_secret, e.headers, e.raw) for e in events)
    final = carrier_get(carrier_sandbox, f"/carrier/v1/calls/{started.json()['call_id']}").json()
    assert (final["status"], final["reference"]) == ("completed", "r")


def test_a_busy_callee_and_a_hangup_before_answer(carrier_sandbox: SandboxServer):
    caller, busy, slow = unique_msisdn(), unique_msisdn(), unique_msisdn()
    for number in (caller, busy, slow):
        carrier_sandbox.put_subscriber(number, status="active")
    for number, outcome, ring in ((busy, "busy", 50), (slow, "answer", 30_000)):
        httpx.put(
            f"{carrier_sandbox.url}/sandbox/subscribers/{number}/call-behaviour",
            json={"outcome": outcome, "ring_ms": ring},
            headers={"X-Api-Key": carrier_sandbox.api_key},
        ).raise_for_status()
    with callback_receiver() as receiver:
        _post(
            carrier_sandbox, "/carrier/v1/calls",
            {"caller": caller, "callee": busy, "callback_url": receiver.url},
            **{"Idempotency-Key": unique_key()},
        )  # fmt: skip
        events = receiver.wait_for(2, timeout=20)
    slow_call = _post(
        carrier_sandbox, "/carrier/v1/calls", {"caller": caller, "callee": slow},
        **{"Idempotency-Key": unique_key()},
    ).json()  # fmt: skip
    hung = _post(carrier_sandbox, f"/carrier/v1/calls/{slow_call['call_id']}/hangup", {})

    assert sorted(e.body["status"] for e in events) == ["busy", "ringing"]
    assert hung.json()["status"] == "cancelled"


def test_the_demo_lines_have_old_sims_but_one(carrier_sandbox: SandboxServer):
    old = carrier_get(carrier_sandbox, "/carrier/v1/subscribers/+8613800138000/sim").json()
    swapped = carrier_get(carrier_sandbox, "/carrier/v1/subscribers/+8615800158000/sim").json()
    now = datetime.now(UTC)

    assert now - datetime.fromisoformat(old["latest_sim_change"]) > timedelta(days=700)
    assert (
        timedelta(days=1)
        < now - datetime.fromisoformat(swapped["latest_sim_change"])
        < timedelta(days=3)
    )
