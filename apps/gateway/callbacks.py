"""Callbacks to partners: CloudEvents POSTed to the app's callback URL, signed, retried with backoff.

Every event is a ``CallbackDelivery`` row written in the transaction that changed the message,
call or charge, and sent after commit. Each POST carries:

- ``X-Callback-Id``: the event id (also the CloudEvent's ``id``), the same on every retry, so
  the partner de-duplicates on it;
- ``X-Callback-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Callback-Client-Id``: the credential whose secret signed it (the one that made the
  request, or the app's newest active credential in that environment once it was revoked);
- ``X-Callback-Signature``: ``hex(HMAC-SHA256(secret, "<timestamp>.<id>." + body))``.

Each attempt resolves the host, refuses internal addresses (``apps.gateway.addresses``) and
connects to the address it checked. A 2xx answer ends it; anything else (or no answer in 5 s) is retried after 5 s, 15 s, 1 min,
5 min, 15 min, 1 h and 1 h, then given up (eight attempts in about 2.5 hours).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.audit import audited_transition
from apps.core.errors import Conflict
from apps.core.tasks import enqueue_on_commit
from apps.gateway import locks
from apps.gateway.addresses import AddressNotAllowed, AddressUnresolved, callback_target
from apps.gateway.capability_errors import InvalidCallbackUrl
from apps.gateway.context import GatewayApp, context_for_app
from apps.gateway.models import CallbackDelivery

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = (5, 15, 60, 300, 900, 3600, 3600)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
TIMEOUT_SECONDS = 5.0
# While one attempt is in flight no other may start: the row is leased for longer than it can take.
_LEASE = timedelta(seconds=30)
Status = CallbackDelivery.Status


def callback_url_choose(*, gateway_app: GatewayApp, requested: str | None) -> str:
    """Where a call's events go: the URL it names, which must be one the app registered (so the
    gateway never posts to an address the partner did not declare), else the app's first."""
    if requested:
        if requested not in gateway_app.callback_urls:
            raise InvalidCallbackUrl(details={"callbackUrl": requested})
        return requested
    return gateway_app.callback_url or ""


def callback_signature(*, secret: str, timestamp: str, event_id: str, body: bytes) -> str:
    message = f"{timestamp}.{event_id}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def callback_enqueue(
    *,
    app_id: int,
    environment: str,
    client_id: str,
    url: str,
    event_type: str,
    subject: str,
    data: dict[str, Any],
    source: str = "carrierhub-gateway",
) -> uuid.UUID | None:
    """Record an event for the partner, in the caller's transaction; it is sent after commit
    as a CloudEvent 1.0 (``source`` a URI reference naming where it happened).

    Returns the event id, or None when there is no URL to send it to (nothing is owed).
    """
    if not url:
        return None
    from apps.gateway.callback_tasks import callback_deliver_task

    event_id = uuid.uuid4()
    now = timezone.now()
    CallbackDelivery.objects.create(
        id=event_id, app_id=app_id, environment=environment, client_id=client_id, url=url,
        event_type=event_type, subject=subject, next_attempt_at=now,
        payload={
            "id": str(event_id), "source": source, "specversion": "1.0",
            "type": event_type, "time": now.isoformat(), "datacontenttype": "application/json",
            "data": data,
        },
    )  # fmt: skip
    enqueue_on_commit(callback_deliver_task, str(event_id))
    return event_id


def _signing_credential(delivery: CallbackDelivery) -> tuple[str, str] | None:
    """(client id, secret): the sender's credential while active, else the newest one left."""
    context = context_for_app(delivery.app_id, reload=True)
    if context is None:
        return None
    own = context.credentials.get(delivery.client_id)
    if own is not None:
        return own.client_id, own.secret
    same_env = [c for c in context.credentials.values() if c.environment == delivery.environment]
    if not same_env:
        return None
    newest = max(same_env, key=lambda c: c.id)
    return newest.client_id, newest.secret


def _claim(delivery_id: uuid.UUID, now: datetime) -> bool:
    """Lease a due delivery so that two workers (a retry and the sweep) never post it at once."""
    return bool(
        CallbackDelivery.objects.filter(
            pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + _LEASE, attempts=F("attempts") + 1)
    )


def callback_deliver(*, delivery_id: uuid.UUID, now: datetime | None = None) -> str:
    """Make one attempt at a due event; return its state afterwards.

    No transaction or lock is held during the POST: the row is leased first (a conditional
    UPDATE), the partner is called, then the outcome is applied under the row lock. Doing it
    again is safe; a partner may still see an event twice (a lost 2xx), hence the event id.
    """
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        row = CallbackDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True)
        return row.first() or "missing"
    delivery = CallbackDelivery.objects.get(pk=delivery_id)
    signer = _signing_credential(delivery)
    error = ""
    if signer is None:
        error = "no active credential to sign with"
    else:
        client_id, secret = signer
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/cloudevents+json",
            "X-Callback-Id": str(delivery.id),
            "X-Callback-Timestamp": timestamp,
            "X-Callback-Client-Id": client_id,
            "X-Callback-Signature": callback_signature(
                secret=secret, timestamp=timestamp, event_id=str(delivery.id), body=body
            ),
        }
        try:
            target = callback_target(delivery.url)
            with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
                answer = client.post(
                    target.url,
                    content=body,
                    headers={**headers, "Host": target.host_header},
                    extensions={"sni_hostname": target.server_name},
                )
            if not answer.is_success:
                error = f"HTTP {answer.status_code}"
        except AddressNotAllowed:
            error = "callback address not allowed (internal network)"
        except AddressUnresolved:
            error = "callback host does not resolve"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
    return _record(delivery_id, error=error, now=now)


def _record(delivery_id: uuid.UUID, *, error: str, now: datetime) -> str:
    with transaction.atomic():
        delivery = locks.callback_delivery_lock(delivery_id)
        if delivery.status != Status.PENDING:
            return delivery.status
        if not error:
            _move(delivery, Status.DELIVERED)
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
        elif delivery.attempts >= MAX_ATTEMPTS:
            _move(delivery, Status.FAILED, last_error=error)
            delivery.last_error = error
        else:
            delivery.next_attempt_at = now + timedelta(
                seconds=BACKOFF_SECONDS[delivery.attempts - 1]
            )
            delivery.last_error = error
        delivery.save(update_fields=["status", "delivered_at", "last_error", "next_attempt_at"])
    if error:
        logger.info(
            "callback %s to %s failed (attempt %d): %s",
            delivery_id,
            delivery.url,
            delivery.attempts,
            error,
        )
    return delivery.status


def _move(delivery: CallbackDelivery, status: str, **after: Any) -> None:
    audited_transition(
        delivery, status, object_type="callback", object_id=delivery.pk,
        refused=lambda details: Conflict(details=details), after=after,
    )  # fmt: skip


def callback_retry_wait(*, delivery_id: uuid.UUID) -> float | None:
    """Seconds until the next attempt of a pending event (None once it is final)."""
    row = CallbackDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).first()
    if row is None:
        return None
    return max(0.0, (row.next_attempt_at - timezone.now()).total_seconds())


def callbacks_retry_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Attempt every pending event whose time has come (beat, every 10 s); return how many."""
    now = now or timezone.now()
    ids = list(
        CallbackDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in ids:
        callback_deliver(delivery_id=delivery_id, now=now)
    return len(ids)
