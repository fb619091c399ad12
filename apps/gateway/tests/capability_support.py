"""Helpers for the capability tests: arranging the sandbox and checking partner callbacks."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from typing import Any

import httpx

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import ReceivedReport


def sandbox_post(sandbox: SandboxServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{sandbox.url}{path}", json=body, headers={"X-Api-Key": sandbox.api_key}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def sim_swap_at(sandbox: SandboxServer, msisdn: str, at: datetime) -> None:
    sandbox_post(sandbox, f"/sandbox/subscribers/{msisdn}/sim-swap", {"at": at.isoformat()})


def device_token(sandbox: SandboxServer, msisdn: str) -> str:
    response = httpx.post(f"{sandbox.url}/sandbox/network-auth", json={"msisdn": msisdn})
    response.raise_for_status()
    return str(response.json()["device_token"])


def assert_callback_signed(report: ReceivedReport, *, client_id: str, secret: str) -> None:
    """The partner's check, exactly as docs/api.md describes it."""
    timestamp = report.headers["x-callback-timestamp"]
    event_id = report.headers["x-callback-id"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.{event_id}.".encode() + report.raw, hashlib.sha256
    ).hexdigest()
    assert report.headers["x-callback-signature"] == expected
    assert report.headers["x-callback-client-id"] == client_id
    assert report.body["id"] == event_id
    assert abs(int(timestamp) - time.time()) < 60


def wait_until(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
