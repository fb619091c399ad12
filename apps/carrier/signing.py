"""HMAC signatures on the carrier's callbacks: ``hex(hmac_sha256(secret, f"{ts}." + body))``."""

from __future__ import annotations

import hashlib
import hmac
import time

MAX_SKEW_SECONDS = 300


def carrier_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def carrier_signature_valid(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None
) -> bool:
    """Constant-time check of the signature, refusing timestamps more than 5 minutes away."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - sent_at) > MAX_SKEW_SECONDS:
        return False
    expected = carrier_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, signature or "")
