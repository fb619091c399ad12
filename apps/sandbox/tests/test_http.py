"""The carrier API's contract: auth, sending SMS, idempotency, message look-ups, knobs API."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import carrier_get, send_sms, unique_key, unique_msisdn

MESSAGE_ID = re.compile(r"^SM[0-9a-f]{20}$")
DEFAULT_KNOBS = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "timeout_rate": 0.0,
    "lost_response_rate": 0.0,
    "hang_ms": 5000,
    "dlr_delay_ms": 300,
    "dlr_status": "delivered",
    "dlr_duplicate": False,
    "pay_notify_delay_ms": 200,
    "pay_notify_mode": "normal",
}


def test_health_answers_ok(carrier_sandbox: SandboxServer):
    response = httpx.get(f"{carrier_sandbox.url}/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("api_key", [None, "wrong-key"])
def test_carrier_calls_without_the_api_key_are_refused_and_store_nothing(
    carrier_sandbox: SandboxServer, api_key: str | None
):
    to, key = unique_msisdn(), unique_key()
    headers = {"Idempotency-Key": key} | ({"X-Api-Key": api_key} if api_key else {})

    response = httpx.post(
        f"{carrier_sandbox.url}/carrier/v1/sms", json={"to": to, "text": "hi"}, headers=headers
    )

    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "code": "UNAUTHENTICATED",
        "message": "A valid X-Api-Key header is required.",
    }
    assert carrier_sandbox.messages(to) == []


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("验" * 70, 1),
        ("验" * 71, 2),
        ("验" * 134, 2),
        ("验" * 135, 3),
        ("a" * 69 + "验", 1),
        ("x" * 1000, 7),
    ],
)
def test_sms_is_accepted_with_its_segment_count(
    carrier_sandbox: SandboxServer, text: str, segments: int
):
    to, key = unique_msisdn(), unique_key()

    response = send_sms(carrier_sandbox, {"to": to, "text": text}, key=key)

    assert response.status_code == 202
    body = response.json()
    assert MESSAGE_ID.match(body["message_id"])
    assert body == {
        "message_id": body["message_id"],
        "status": "accepted",
        "segments": segments,
        "to": to,
    }
    stored = carrier_sandbox.messages(to)
    assert [(m["message_id"], m["text"], m["segments"]) for m in stored] == [
        (body["message_id"], text, segments)
    ]


def test_a_repeat_with_the_same_key_and_body_gets_the_first_answer_and_stores_nothing(
    carrier_sandbox: SandboxServer,
):
    to, key = unique_msisdn(), unique_key()
    request = {"to": to, "text": "您的验证码是 246810", "sender": "10086", "reference": "otp-1"}
    first = send_sms(carrier_sandbox, request, key=key)

    repeat = send_sms(carrier_sandbox, dict(reversed(request.items())), key=key)

    assert (first.status_code, repeat.status_code) == (202, 200)
    assert repeat.json() == first.json()
    assert len(carrier_sandbox.messages(to)) == 1


def test_the_same_key_with_another_body_is_a_conflict(carrier_sandbox: SandboxServer):
    to, key = unique_msisdn(), unique_key()
    first = send_sms(carrier_sandbox, {"to": to, "text": "first"}, key=key)

    other = send_sms(carrier_sandbox, {"to": to, "text": "second"}, key=key)

    assert other.status_code == 409
    assert other.json() == {
        "status": 409,
        "code": "IDEMPOTENCY_CONFLICT",
        "message": "This Idempotency-Key was already used with a different request.",
    }
    assert [m["text"] for m in carrier_sandbox.messages(to)] == ["first"]
    assert first.status_code == 202


def test_racing_first_requests_under_one_key_store_one_message(carrier_sandbox: SandboxServer):
    to, key = unique_msisdn(), unique_key()
    request = {"to": to, "text": "race"}

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: send_sms(carrier_sandbox, request, key=key), range(8)))

    assert sorted(r.status_code for r in responses) == [200] * 7 + [202]
    assert len({r.json()["message_id"] for r in responses}) == 1
    assert len(carrier_sandbox.messages(to)) == 1


def test_a_message_can_be_read_by_id_and_by_idempotency_key(carrier_sandbox: SandboxServer):
    to, key = unique_msisdn(), unique_key()
    accepted = send_sms(
        carrier_sandbox, {"to": to, "text": "hello", "reference": "ref-7"}, key=key
    ).json()

    by_id = carrier_get(carrier_sandbox, f"/carrier/v1/sms/{accepted['message_id']}")
    by_key = carrier_get(carrier_sandbox, f"/carrier/v1/sms/by-key/{key}")

    assert (by_id.status_code, by_key.status_code) == (200, 200)
    body = by_key.json()
    assert body == by_id.json() | {"status": body["status"], "delivered_at": body["delivered_at"]}
    assert body == {
        "message_id": accepted["message_id"],
        "to": to,
        "text": "hello",
        "status": body["status"],
        "segments": 1,
        "reference": "ref-7",
        "created_at": body["created_at"],
        "delivered_at": body["delivered_at"],
    }
    assert body["status"] in ("accepted", "delivered")
    assert body["created_at"].endswith("+08:00")


@pytest.mark.parametrize(
    "path",
    ["/carrier/v1/sms/SM00000000000000000000", "/carrier/v1/sms/by-key/never-used-key"],
)
def test_unknown_messages_are_not_found(carrier_sandbox: SandboxServer, path: str):
    response = carrier_get(carrier_sandbox, path)

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"text": "no recipient"},
        {"to": "13800138000", "text": "not E.164"},
        {"to": "+8613800138", "text": "too short"},
        {"to": "+8623800138000", "text": "not a mobile number"},
        {"to": "+8613800138000"},
        {"to": "+8613800138000", "text": ""},
        {"to": "+8613800138000", "text": "x" * 1001},
        {"to": "+8613800138000", "text": 12345},
        {"to": "+8613800138000", "text": "hi", "priority": "high"},
        {"to": "+8613800138000", "text": "hi", "sender": "no spaces"},
        {"to": "+8613800138000", "text": "hi", "callback_url": "ftp://example.com/dlr"},
        {"to": "+8613800138000", "text": "hi", "reference": ""},
        ["not", "an", "object"],
    ],
)
def test_malformed_requests_are_invalid_and_store_nothing(carrier_sandbox: SandboxServer, body):
    key = unique_key()

    response = send_sms(carrier_sandbox, body, key=key)

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"
    assert set(response.json()) == {"status", "code", "message"}
    assert carrier_get(carrier_sandbox, f"/carrier/v1/sms/by-key/{key}").status_code == 404


def test_a_body_that_is_not_json_is_invalid(carrier_sandbox: SandboxServer):
    response = httpx.post(
        f"{carrier_sandbox.url}/carrier/v1/sms",
        content=b"to=+8613800138000",
        headers={"X-Api-Key": carrier_sandbox.api_key, "Idempotency-Key": unique_key()},
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "INVALID_ARGUMENT",
        "message": "The body is not valid JSON.",
    }


def test_sending_without_an_idempotency_key_is_invalid(carrier_sandbox: SandboxServer):
    to = unique_msisdn()

    response = httpx.post(
        f"{carrier_sandbox.url}/carrier/v1/sms",
        json={"to": to, "text": "hi"},
        headers={"X-Api-Key": carrier_sandbox.api_key},
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "INVALID_ARGUMENT",
        "message": "The Idempotency-Key header is required.",
    }
    assert carrier_sandbox.messages(to) == []


def test_knobs_are_read_changed_in_part_and_reset(carrier_sandbox: SandboxServer):
    assert httpx.get(f"{carrier_sandbox.url}/sandbox/knobs").json() == DEFAULT_KNOBS

    changed = carrier_sandbox.set_knobs(error_rate=0.25, dlr_status="undelivered")
    reset = carrier_sandbox.reset_knobs()

    assert changed == DEFAULT_KNOBS | {"error_rate": 0.25, "dlr_status": "undelivered"}
    assert reset == DEFAULT_KNOBS


@pytest.mark.parametrize(
    "body",
    [
        {"error_rate": 1.5},
        {"timeout_rate": -0.1},
        {"latency_ms": -1},
        {"latency_ms": 1.5},
        {"hang_ms": 60_001},
        {"dlr_status": "lost"},
        {"dlr_duplicate": "yes"},
        {"error_rate": 0.5, "colour": "red"},
    ],
)
def test_bad_knob_values_are_refused_and_change_nothing(carrier_sandbox: SandboxServer, body):
    response = httpx.put(
        f"{carrier_sandbox.url}/sandbox/knobs",
        json=body,
        headers={"X-Api-Key": carrier_sandbox.api_key},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"
    assert httpx.get(f"{carrier_sandbox.url}/sandbox/knobs").json() == DEFAULT_KNOBS


def test_changing_knobs_needs_the_api_key(carrier_sandbox: SandboxServer):
    put = httpx.put(f"{carrier_sandbox.url}/sandbox/knobs", json={"error_rate": 1.0})
    reset = httpx.post(f"{carrier_sandbox.url}/sandbox/knobs/reset")

    assert (put.status_code, reset.status_code) == (401, 401)
    assert httpx.get(f"{carrier_sandbox.url}/sandbox/knobs").json() == DEFAULT_KNOBS
