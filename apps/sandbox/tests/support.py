"""Helpers shared by the sandbox's tests: unique numbers and keys, a send call, a DLR receiver."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.fixtures.sandbox import SandboxServer


def unique_msisdn(prefix: str = "135") -> str:
    """A China Mobile number no other test uses, so each test reads only its own messages."""
    return f"+86{prefix}{random.randrange(10**8):08d}"


def unique_key() -> str:
    return f"test-{uuid.uuid4()}"


def send_sms(
    sandbox: SandboxServer,
    body: dict[str, Any],
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> httpx.Response:
    all_headers = {"X-Api-Key": sandbox.api_key, "Idempotency-Key": key or unique_key()}
    all_headers.update(headers or {})
    return httpx.post(
        f"{sandbox.url}/carrier/v1/sms", json=body, headers=all_headers, timeout=timeout
    )


def carrier_get(
    sandbox: SandboxServer, path: str, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    all_headers = {"X-Api-Key": sandbox.api_key, **(headers or {})}
    return httpx.get(f"{sandbox.url}{path}", headers=all_headers, timeout=10.0)


@dataclass
class ReceivedReport:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)


@dataclass
class CallbackReceiver:
    """A loopback HTTP server that records every POST; the first ``fail_first`` get a 500."""

    fail_first: int = 0
    reports: list[ReceivedReport] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, headers: dict[str, str], raw: bytes) -> int:
        with self._lock:
            self.reports.append(ReceivedReport(headers=headers, raw=raw))
            return 500 if len(self.reports) <= self.fail_first else 200

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedReport]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.reports) >= count:
                    return list(self.reports)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} reports in {timeout}s, got {len(self.reports)}")


@contextmanager
def callback_receiver(fail_first: int = 0) -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver(fail_first=fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.record({k.lower(): v for k, v in self.headers.items()}, raw)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/carrier/dlr"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
