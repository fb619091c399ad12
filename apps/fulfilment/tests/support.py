"""Test helpers for shipping: a courier's signed status update to the webhook."""

from __future__ import annotations

import json
import time

from apps.fulfilment.shipping import courier


def signed_post(client, courier_code: str, body: dict, *, secret: str | None = None, ts=None):
    """POST a status update to the webhook as the courier signs it."""
    raw = json.dumps(body).encode()
    stamp = str(ts if ts is not None else int(time.time()))
    signature = courier.webhook_signature(
        secret=secret or f"sandbox-courier-{courier_code}", timestamp=stamp, body=raw
    )
    return client.post(
        f"/shipments/webhook/{courier_code}/", data=raw, content_type="application/json",
        headers={"X-Courier-Timestamp": stamp, "X-Courier-Signature": signature},
    )  # fmt: skip
