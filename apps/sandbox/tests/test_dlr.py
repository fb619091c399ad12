"""Delivery reports: signed POSTs to the callback, final statuses, retries and duplicates."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import (
    ReceivedReport,
    callback_receiver,
    carrier_get,
    send_sms,
    unique_msisdn,
)


def assert_signed(report: ReceivedReport, secret: str) -> None:
    timestamp = report.headers["x-carrier-timestamp"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + report.raw, hashlib.sha256
    ).hexdigest()
    assert report.headers["x-carrier-signature"] == expected
    assert abs(int(timestamp) - time.time()) < 30
    assert report.headers["content-type"] == "application/json"


def test_a_delivered_message_is_reported_signed_to_its_callback(carrier_sandbox: SandboxServer):
    to = unique_msisdn()
    with callback_receiver() as receiver:
        accepted = send_sms(
            carrier_sandbox,
            {
                "to": to,
                "text": "您的验证码是 135790",
                "callback_url": receiver.url,
                "reference": "r1",
            },
        ).json()
        [report] = receiver.wait_for(1)

    assert_signed(report, carrier_sandbox.shared_secret)
    stored = carrier_get(carrier_sandbox, f"/carrier/v1/sms/{accepted['message_id']}").json()
    assert report.body == {
        "message_id": accepted["message_id"],
        "reference": "r1",
        "to": to,
        "status": "delivered",
        "error_code": None,
        "delivered_at": stored["delivered_at"],
    }
    assert stored["status"] == "delivered"
    assert datetime.fromisoformat(stored["delivered_at"]) >= datetime.fromisoformat(
        stored["created_at"]
    )


def test_a_suspended_subscriber_cannot_receive(carrier_sandbox: SandboxServer):
    to = unique_msisdn()
    carrier_sandbox.put_subscriber(to, status="suspended")
    with callback_receiver() as receiver:
        accepted = send_sms(
            carrier_sandbox, {"to": to, "text": "hi", "callback_url": receiver.url}
        ).json()
        [report] = receiver.wait_for(1)

    assert_signed(report, carrier_sandbox.shared_secret)
    assert (report.body["message_id"], report.body["reference"]) == (accepted["message_id"], None)
    assert (report.body["status"], report.body["error_code"]) == (
        "undelivered",
        "SUBSCRIBER_UNREACHABLE",
    )
    stored = carrier_get(carrier_sandbox, f"/carrier/v1/sms/{accepted['message_id']}").json()
    assert stored["status"] == "undelivered"


def test_the_dlr_status_knob_fails_delivery(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(dlr_status="undelivered", dlr_delay_ms=0)
    to = unique_msisdn()
    with callback_receiver() as receiver:
        send_sms(carrier_sandbox, {"to": to, "text": "hi", "callback_url": receiver.url})
        [report] = receiver.wait_for(1)

    assert (report.body["status"], report.body["error_code"]) == ("undelivered", "DELIVERY_FAILED")


def test_dlr_duplicate_sends_the_same_report_twice(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(dlr_duplicate=True)
    to = unique_msisdn()
    with callback_receiver() as receiver:
        accepted = send_sms(
            carrier_sandbox, {"to": to, "text": "hi", "callback_url": receiver.url}
        ).json()
        first, second = receiver.wait_for(2)
        time.sleep(0.5)
        total = len(receiver.reports)

    assert total == 2
    assert first.raw == second.raw
    assert first.body["message_id"] == second.body["message_id"] == accepted["message_id"]
    assert_signed(first, carrier_sandbox.shared_secret)
    assert_signed(second, carrier_sandbox.shared_secret)


def test_a_failing_callback_is_retried_until_it_answers_2xx(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(dlr_delay_ms=0)
    to = unique_msisdn()
    with callback_receiver(fail_first=2) as receiver:
        send_sms(carrier_sandbox, {"to": to, "text": "hi", "callback_url": receiver.url})
        reports = receiver.wait_for(3, timeout=6.0)
        time.sleep(1.2)
        total = len(receiver.reports)

    assert total == 3
    assert reports[0].raw == reports[1].raw == reports[2].raw
    for report in reports:
        assert_signed(report, carrier_sandbox.shared_secret)


def test_without_a_callback_the_message_is_still_settled(carrier_sandbox: SandboxServer):
    carrier_sandbox.set_knobs(dlr_delay_ms=0)
    to = unique_msisdn()
    accepted = send_sms(carrier_sandbox, {"to": to, "text": "hi"}).json()

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stored = carrier_get(carrier_sandbox, f"/carrier/v1/sms/{accepted['message_id']}").json()
        if stored["status"] != "accepted":
            break
        time.sleep(0.05)

    assert stored["status"] == "delivered"
    assert stored["delivered_at"] is not None
