"""Test helpers for fulfilment: a 50 yuan airtime product, and a courier's signed status
update to the shipping webhook."""

from __future__ import annotations

import json
import time

from apps.catalog.models import Product
from apps.catalog.tests.factories import category, product, product_type
from apps.fulfilment.shipping import courier


def airtime_product() -> Product:
    """A 50 yuan airtime top-up for a recipient number (price 49.80 yuan)."""
    ptype = product_type(
        "airtime", needs_number=True,
        schema=[{"key": "face_value", "label": "面值", "type": "int", "unit": "元", "required": True}],
    )  # fmt: skip
    return product(category("airtime"), ptype, "话费充值 50元", price=4980,
                   attributes={"face_value": 50})  # fmt: skip


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
