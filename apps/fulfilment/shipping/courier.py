"""HTTP adapter to the couriers' tracking API: register a parcel, check a pushed update's signature.

The sandbox plays every courier by default (``COURIER_BASE_URL``). Registration is keyed by the
courier and tracking number, so repeating it after a timeout registers the parcel once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from functools import lru_cache

import httpx
from django.conf import settings

from apps.fulfilment.shipping.errors import CourierRejected, CourierUnavailable

logger = logging.getLogger(__name__)
MAX_SKEW_SECONDS = 300
_ATTEMPTS = 3


@lru_cache(maxsize=4)
def _client(base_url: str, api_key: str, timeout: float) -> httpx.Client:
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
        headers={"X-Api-Key": api_key, "Accept": "application/json"},
    )


def tracking_register(
    *, courier: str, tracking_number: str, callback_url: str, reference: str
) -> str:
    """Ask ``courier`` to push this parcel's status updates to ``callback_url``.

    Returns the courier's subscription id. Retries transport errors and 5xx a few times with
    a short backoff (the registration is idempotent at the courier); raises
    ``CourierUnavailable`` after that and ``CourierRejected`` on a 4xx.
    """
    client = _client(
        settings.COURIER_BASE_URL, settings.COURIER_API_KEY, settings.COURIER_TIMEOUT_SECONDS
    )
    body = {
        "tracking_number": tracking_number,
        "callback_url": callback_url,
        "reference": reference,
    }
    last_error = ""
    for attempt in range(_ATTEMPTS):
        if attempt:
            time.sleep(0.2 * 2**attempt)
        try:
            response = client.post(f"/courier/v1/{courier}/subscriptions", json=body)
        except httpx.TransportError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            logger.warning(
                "courier %s register %s failed: %s", courier, tracking_number, last_error
            )
            continue
        if response.status_code >= 500:
            last_error = f"HTTP {response.status_code}"
            continue
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400:
            raise CourierRejected(
                details={"courier_code": str(data.get("code", "")), "http": response.status_code}
            )
        return str(data.get("subscription_id", ""))
    raise CourierUnavailable(details={"last_error": last_error})


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, "<timestamp>." + body))``, sent as ``X-Courier-Signature``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def webhook_signature_valid(
    *, courier: str, timestamp: str, body: bytes, signature: str, now: float | None = None
) -> bool:
    """Check an update against the courier's own secret, refusing timestamps over 5 minutes away."""
    secret = settings.COURIER_SECRETS.get(courier)
    if not secret:
        return False
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - sent_at) > MAX_SKEW_SECONDS:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, signature or "")
