"""Faults on carrier calls: errors and timeouts apply nothing, lost answers apply, latency."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import carrier_get, send_sms, unique_key, unique_msisdn


def test_an_error_rate_of_one_refuses_every_call_and_applies_nothing(
    carrier_sandbox: SandboxServer,
):
    carrier_sandbox.set_knobs(error_rate=1.0)
    to, key = unique_msisdn(), unique_key()

    response = send_sms(carrier_sandbox, {"to": to, "text": "hi"}, key=key)

    assert response.status_code == 503
    assert response.json() == {
        "status": 503,
        "code": "UNAVAILABLE",
        "message": "The carrier network is unavailable.",
    }
    carrier_sandbox.reset_knobs()
    assert carrier_get(carrier_sandbox, f"/carrier/v1/sms/by-key/{key}").status_code == 404
    assert carrier_sandbox.messages(to) == []


def test_an_error_header_refuses_one_call_and_none_overrides_the_knobs(
    carrier_sandbox: SandboxServer,
):
    to, key = unique_msisdn(), unique_key()
    refused = send_sms(
        carrier_sandbox, {"to": to, "text": "hi"}, key=key, headers={"X-Sandbox-Fault": "error"}
    )
    carrier_sandbox.set_knobs(error_rate=1.0)

    lookup = carrier_get(
        carrier_sandbox, f"/carrier/v1/sms/by-key/{key}", headers={"X-Sandbox-Fault": "none"}
    )

    assert (refused.status_code, refused.json()["code"]) == (503, "UNAVAILABLE")
    assert (lookup.status_code, lookup.json()["code"]) == (404, "NOT_FOUND")


def test_a_timeout_hangs_then_answers_504_and_applies_nothing(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(hang_ms=300)
    to, key = unique_msisdn(), unique_key()

    started = time.monotonic()
    response = send_sms(
        carrier_sandbox, {"to": to, "text": "hi"}, key=key, headers={"X-Sandbox-Fault": "timeout"}
    )
    elapsed = time.monotonic() - started

    assert response.status_code == 504
    assert response.json() == {
        "status": 504,
        "code": "TIMEOUT",
        "message": "The carrier network timed out.",
    }
    assert elapsed >= 0.3
    assert carrier_get(carrier_sandbox, f"/carrier/v1/sms/by-key/{key}").status_code == 404
    assert carrier_sandbox.messages(to) == []


def test_a_lost_answer_applies_the_request_while_the_caller_times_out(
    carrier_sandbox: SandboxServer,
):
    carrier_sandbox.set_knobs(hang_ms=2000)
    to, key = unique_msisdn(), unique_key()

    with pytest.raises(httpx.TimeoutException):
        send_sms(
            carrier_sandbox,
            {"to": to, "text": "lost"},
            key=key,
            headers={"X-Sandbox-Fault": "lost"},
            timeout=1.0,
        )

    found = carrier_get(carrier_sandbox, f"/carrier/v1/sms/by-key/{key}")
    assert found.status_code == 200
    assert (found.json()["to"], found.json()["text"]) == (to, "lost")
    assert [m["message_id"] for m in carrier_sandbox.messages(to)] == [found.json()["message_id"]]


def test_a_lost_response_rate_of_one_loses_every_answer(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    to, key = unique_msisdn(), unique_key()

    with pytest.raises(httpx.TimeoutException):
        send_sms(carrier_sandbox, {"to": to, "text": "lost"}, key=key, timeout=0.5)

    carrier_sandbox.reset_knobs()
    retried = send_sms(carrier_sandbox, {"to": to, "text": "lost"}, key=key)
    assert retried.status_code == 200
    assert len(carrier_sandbox.messages(to)) == 1


def test_a_timeout_rate_of_one_times_out_every_call(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(timeout_rate=1.0, hang_ms=100)

    response = carrier_get(carrier_sandbox, "/carrier/v1/subscribers/+8613800138000")

    assert (response.status_code, response.json()["code"]) == (504, "TIMEOUT")


def test_latency_from_the_knobs_delays_every_call(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(latency_ms=400)

    started = time.monotonic()
    response = carrier_get(carrier_sandbox, "/carrier/v1/subscribers/+8613800138000")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed >= 0.4


def test_latency_from_a_header_delays_one_call(carrier_sandbox: SandboxServer):
    started = time.monotonic()
    response = carrier_get(
        carrier_sandbox,
        "/carrier/v1/subscribers/+8613800138000",
        headers={"X-Sandbox-Latency-Ms": "300"},
    )
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed >= 0.3


@pytest.mark.parametrize(
    "headers",
    [{"X-Sandbox-Fault": "explode"}, {"X-Sandbox-Latency-Ms": "-5"}, {"X-Sandbox-Latency-Ms": "x"}],
)
def test_bad_fault_headers_are_invalid(carrier_sandbox: SandboxServer, headers: dict[str, str]):
    response = carrier_get(
        carrier_sandbox, "/carrier/v1/subscribers/+8613800138000", headers=headers
    )

    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ARGUMENT")


def test_the_api_key_is_checked_before_any_fault(carrier_sandbox: SandboxServer):
    started = time.monotonic()
    response = httpx.get(
        f"{carrier_sandbox.url}/carrier/v1/subscribers/+8613800138000",
        headers={"X-Sandbox-Fault": "timeout", "X-Sandbox-Latency-Ms": "3000"},
    )

    assert response.status_code == 401
    assert time.monotonic() - started < 2.0


def test_faults_do_not_touch_the_sandbox_controls(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(error_rate=1.0)

    response = httpx.get(f"{carrier_sandbox.url}/sandbox/knobs")

    assert (response.status_code, response.json()["error_rate"]) == (200, 1.0)
