"""Signed notifications to a CP's server of each charge, renewal, refund and cancellation.

A ``Notification`` row is written in the transaction of the change, and its sending is a task
handed on through the outbox (``enqueue_on_commit``); a failed POST is retried with
exponential backoff (``BACKOFF``), then given up and shown so in the CP's delivery log. The
body carries an ``event_id``: a CP applies each event once whatever the number of deliveries.

Signature: ``X-CH-Signature: hex(hmac_sha256(secret, "<X-CH-Timestamp>." + body))`` under the
CP's active key, the key named in ``X-CH-Key-Id``.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
from django.db import transaction
from django.utils import timezone

from apps.carrier.signing import carrier_signature
from apps.content.locks import notification_lock
from apps.content.models import Charge, Notification, SigningKey, Subscription
from apps.core.crypto import decrypt_text

# Seconds before each retry: 10 s, 1 min, 5 min, 30 min, 2 h; then given up.
BACKOFF = (10, 60, 300, 1800, 7200)


def notify_cp(
    *, charge: Charge, event: str, extra: dict[str, object] | None = None
) -> Notification | None:
    """Owe the CP a notification of ``event`` about ``charge`` (in the caller's transaction),
    with ``extra`` fields (a chargeback's reason); nothing when the product names no
    notification URL."""
    url = charge.product.notify_url
    if not url:
        return None
    payload = {
        "event": event, "charge_id": charge.pk, "cp_order_id": charge.cp_order_id,
        "product_id": charge.product_id, "phone_number": charge.msisdn, "amount_fen": charge.amount_fen,
        "status": charge.status, "occurred_at": timezone.now().isoformat(), **(extra or {}),
    }  # fmt: skip
    return _owe(cp_id=charge.cp_id, url=url, event=event, payload=payload)


def notify_subscription(*, sub: Subscription, event: str) -> Notification | None:
    """Owe the CP a notification about a subscription (cancelled)."""
    url = sub.product.notify_url
    if not url:
        return None
    payload = {
        "event": event, "subscription_id": sub.pk, "product_id": sub.product_id, "phone_number": sub.msisdn,
        "status": sub.status, "period_end": sub.period_end.isoformat(), "occurred_at": timezone.now().isoformat(),
    }  # fmt: skip
    return _owe(cp_id=sub.cp_id, url=url, event=event, payload=payload)


def _owe(*, cp_id: int, url: str, event: str, payload: dict[str, object]) -> Notification:
    """The notification row, in the caller's transaction, and its sending handed on through
    the outbox (``enqueue_on_commit``). ``event_id`` is the CP's key to apply it once."""
    event_id = uuid.uuid4()
    notification = Notification.objects.create(
        event_id=event_id,
        cp_id=cp_id,
        url=url,
        event=event,
        payload={"event_id": str(event_id), **payload},
    )
    from apps.content.tasks import notification_send_task
    from apps.core.tasks import enqueue_on_commit

    enqueue_on_commit(notification_send_task, notification.pk)
    return notification


def signed_headers(*, cp_id: int, body: bytes) -> dict[str, str]:
    key = SigningKey.objects.filter(cp_id=cp_id, slot=SigningKey.Slot.ACTIVE).first()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-CH-Timestamp": timestamp}
    if key is not None:
        secret = decrypt_text(key.secret_encrypted)
        headers |= {
            "X-CH-Key-Id": key.key_id,
            "X-CH-Signature": carrier_signature(secret=secret, timestamp=timestamp, body=body),
        }
    return headers


def notification_send(*, notification_id: int) -> int | None:
    """POST one notification (no transaction open during the call); returns the seconds to
    wait before the next try, or None when it is delivered or given up."""
    notification = Notification.objects.get(pk=notification_id)
    if notification.status != Notification.Status.PENDING:
        return None
    body = json.dumps(notification.payload, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        answer = httpx.post(
            notification.url,
            content=body,
            headers=signed_headers(cp_id=notification.cp_id, body=body),
            timeout=5,
        )
        ok, note = 200 <= answer.status_code < 300, f"HTTP {answer.status_code}"
    except httpx.HTTPError as exc:
        ok, note = False, type(exc).__name__
    with transaction.atomic():
        row = notification_lock(notification_id=notification_id)
        if row.status != Notification.Status.PENDING:
            return None
        row.attempts += 1
        row.last_response = note[:200]
        wait = None
        if ok:
            row.status, row.delivered_at = Notification.Status.DELIVERED, timezone.now()
        elif row.attempts > len(BACKOFF):
            row.status = Notification.Status.FAILED
        else:
            wait = BACKOFF[row.attempts - 1]
        row.save(update_fields=["attempts", "last_response", "status", "delivered_at"])
    return wait
