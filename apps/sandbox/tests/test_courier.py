"""The sandbox's couriers: registration once, signed pushes over time, and their knobs."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import httpx
import pytest

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import ReceivedReport, callback_receiver


@pytest.fixture
def courier(carrier_sandbox: SandboxServer):
    """Set the courier knobs for one test (they start from the defaults)."""
    http = httpx.Client(
        base_url=f"{carrier_sandbox.url}/courier",
        headers={"X-Api-Key": carrier_sandbox.api_key},
        timeout=10.0,
    )
    http.post("/knobs/reset").raise_for_status()
    yield http
    http.post("/knobs/reset")
    http.close()


def _number() -> str:
    return "SF" + uuid.uuid4().hex[:12].upper()


def _register(http: httpx.Client, tracking: str, url: str, code: str = "sf") -> httpx.Response:
    return http.post(
        f"/v1/{code}/subscriptions",
        json={"tracking_number": tracking, "callback_url": url, "reference": "shipment:1"},
    )


def _signed_by(report: ReceivedReport, code: str) -> bool:
    stamp = report.headers["x-courier-timestamp"]
    expected = hmac.new(
        f"sandbox-courier-{code}".encode(), f"{stamp}.".encode() + report.raw, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(report.headers["x-courier-signature"], expected)


def test_a_registered_parcel_is_pushed_collected_to_delivered(courier):
    courier.put("/knobs", json={"step_ms": 100}).raise_for_status()
    tracking = _number()
    with callback_receiver() as receiver:
        first = _register(courier, tracking, receiver.url)
        again = _register(courier, tracking, receiver.url)
        reports = receiver.wait_for(4)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["subscription_id"] == first.json()["subscription_id"]
    assert [r.body["status"] for r in reports] == [
        "collected", "in_transit", "out_for_delivery", "delivered",
    ]  # fmt: skip
    assert all(_signed_by(r, "sf") for r in reports)
    assert {r.body["tracking_number"] for r in reports} == {tracking}
    assert len({r.body["event_id"] for r in reports}) == 4
    times = [r.body["occurred_at"] for r in reports]
    assert times == sorted(times)


def test_knobs_duplicate_out_of_order_and_return(courier):
    courier.put(
        "/knobs",
        json={"step_ms": 100, "duplicate": True, "out_of_order": True, "exception": "return"},
    ).raise_for_status()
    with callback_receiver() as receiver:
        _register(courier, _number(), receiver.url, code="ems")
        reports = receiver.wait_for(8)
    statuses = [r.body["status"] for r in reports]
    assert statuses == ["collected", "collected", "exception", "exception",
                        "in_transit", "in_transit", "returned", "returned"]  # fmt: skip
    # The late update is the older one.
    assert reports[4].body["occurred_at"] < reports[2].body["occurred_at"]
    assert all(_signed_by(r, "ems") for r in reports)


def test_registration_refusals(courier, carrier_sandbox: SandboxServer):
    assert _register(courier, "SF1", "http://127.0.0.1:9/x").json()["code"] == "INVALID_ARGUMENT"
    assert _register(courier, _number(), "ftp://x").status_code == 400
    assert _register(courier, _number(), "http://127.0.0.1:9/x", code="dhl").status_code == 404
    tracking = _number()
    assert _register(courier, tracking, "http://127.0.0.1:9/a").status_code == 201
    assert _register(courier, tracking, "http://127.0.0.1:9/b").status_code == 409
    unauthenticated = httpx.post(
        f"{carrier_sandbox.url}/courier/v1/sf/subscriptions",
        json={"tracking_number": _number(), "callback_url": "http://127.0.0.1:9/a"},
    )
    assert unauthenticated.status_code == 401
    assert courier.put("/knobs", json={"step_ms": -1}).status_code == 400
    assert courier.put("/knobs", json={"speed": 1}).status_code == 400


def test_the_courier_page_sets_the_knobs(courier, carrier_sandbox: SandboxServer):
    page = httpx.get(f"{carrier_sandbox.url}/courier/")
    assert page.status_code == 200 and "快递" in page.text
    saved = httpx.post(
        f"{carrier_sandbox.url}/courier/",
        data={"step_ms": "2000", "duplicate": "on", "exception": "recover"},
    )
    assert saved.status_code == 302
    assert courier.get("/knobs").json() == {
        "step_ms": 2000, "duplicate": True, "out_of_order": False, "exception": "recover",
    }  # fmt: skip
    assert httpx.post(f"{carrier_sandbox.url}/courier/", data={"step_ms": "-5"}).status_code == 400
