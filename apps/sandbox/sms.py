"""The SMSC: accept a short message once per idempotency key, then report its delivery.

Delivery reports run on a few daemon threads of this process (``_Scheduler``): the message is
settled ``dlr_delay_ms`` after it was accepted and, when the caller named a ``callback_url``,
the signed report is POSTed there, retried with backoff until it gets a 2xx.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.sandbox.errors import SandboxError, invalid_argument, not_found
from apps.sandbox.jsonapi import sandbox_setting
from apps.sandbox.models import Knobs, SmsMessage, Subscriber
from apps.sandbox.scheduler import call_later

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 1000
_FIELDS = frozenset({"to", "text", "sender", "callback_url", "reference"})
_TO = re.compile(r"^\+861[0-9]{10}$")
_SENDER = re.compile(r"^[0-9A-Za-z]{1,20}$")
# GSM 03.38's basic alphabet, approximated by printable ASCII plus line breaks.
_GSM7 = re.compile(r"^[\x20-\x7e\r\n]*$")
_POST_TIMEOUT_S = 3.0
# Waits before the 2nd, 3rd, 4th and 5th (last) attempt to deliver one report.
_BACKOFF_S = (0.5, 1.0, 2.0, 4.0)
_UNREACHABLE = (Subscriber.Status.SUSPENDED, Subscriber.Status.CANCELLED)


def count_segments(text: str) -> int:
    """How many SMS parts carry ``text``: 160/153 GSM-7 characters or 70/67 UCS-2 units."""
    if _GSM7.match(text):
        single, part, length = 160, 153, len(text)
    else:
        # UCS-2 counts UTF-16 code units: a character beyond the BMP (an emoji) takes two.
        single, part, length = 70, 67, len(text.encode("utf-16-le")) // 2
    return 1 if length <= single else -(-length // part)


@dataclass(frozen=True)
class SmsRequest:
    to: str
    text: str
    sender: str
    callback_url: str
    reference: str


def _optional_str(payload: Mapping[str, Any], name: str, max_len: int) -> str:
    """An optional string field; ``null`` counts as absent, an empty string is refused."""
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise invalid_argument(f"{name} must be a string of 1..{max_len} characters.")
    return value


def sms_request_parse(payload: Mapping[str, Any]) -> SmsRequest:
    """Check a send request's fields; ``INVALID_ARGUMENT`` names the first bad one."""
    unknown = sorted(set(payload) - _FIELDS)
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(unknown)}.")
    to = payload.get("to")
    if not isinstance(to, str) or not _TO.match(to):
        raise invalid_argument("to must be +86 followed by 11 digits starting with 1.")
    text = payload.get("text")
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT_CHARS:
        raise invalid_argument(f"text must be a string of 1..{MAX_TEXT_CHARS} characters.")
    sender = _optional_str(payload, "sender", 20)
    if sender and not _SENDER.match(sender):
        raise invalid_argument("sender must be 1..20 letters or digits.")
    callback_url = _optional_str(payload, "callback_url", 500)
    if callback_url:
        parts = urlsplit(callback_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid_argument("callback_url must be an absolute http(s) URL.")
    reference = _optional_str(payload, "reference", 128)
    return SmsRequest(to, text, sender, callback_url, reference)


def _fingerprint(payload: Mapping[str, Any]) -> str:
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _iso(moment: Any) -> str | None:
    return timezone.localtime(moment).isoformat() if moment is not None else None


def sms_body(message: SmsMessage) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "to": message.to,
        "text": message.text,
        "status": message.status,
        "segments": message.segments,
        "reference": message.reference or None,
        "created_at": _iso(message.created_at),
        "delivered_at": _iso(message.delivered_at),
    }


def sms_accept(
    *, idempotency_key: str, payload: Mapping[str, Any], knobs: Knobs
) -> tuple[int, dict[str, Any]]:
    """Store a message and schedule its delivery report; return ``(http_status, body)``.

    Idempotent per key: a repeat with the same body gets the first body back (200) and nothing
    new happens; a different body is ``IDEMPOTENCY_CONFLICT``. Two racing first requests meet
    at the key's unique index, and only the one whose row went in schedules a report.
    """
    if not 0 < len(idempotency_key) <= 255:
        raise invalid_argument("An Idempotency-Key header of 1..255 characters is required.")
    request = sms_request_parse(payload)
    request_hash = _fingerprint(payload)
    existing = SmsMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        message_id = "SM" + secrets.token_hex(10)
        segments = count_segments(request.text)
        response = {
            "message_id": message_id,
            "status": SmsMessage.Status.ACCEPTED.value,
            "segments": segments,
            "to": request.to,
        }
        message = SmsMessage(
            message_id=message_id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            to=request.to,
            text=request.text,
            sender=request.sender,
            segments=segments,
            reference=request.reference,
            callback_url=request.callback_url,
            response=response,
        )
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            existing = SmsMessage.objects.get(idempotency_key=idempotency_key)
        else:
            call_later(
                knobs.dlr_delay_ms / 1000,
                functools.partial(
                    _settle,
                    message_pk=message.pk,
                    force_undelivered=knobs.dlr_status == Knobs.DlrStatus.UNDELIVERED,
                    duplicate=knobs.dlr_duplicate,
                ),
            )
            return 202, response
    if existing.request_hash != request_hash:
        raise SandboxError(
            409,
            "IDEMPOTENCY_CONFLICT",
            "This Idempotency-Key was already used with a different request.",
        )
    return 200, existing.response


def sms_get(*, message_id: str) -> dict[str, Any]:
    message = SmsMessage.objects.filter(message_id=message_id).first()
    if message is None:
        raise not_found(f"No message {message_id}.")
    return sms_body(message)


def sms_get_by_key(*, idempotency_key: str) -> dict[str, Any]:
    message = SmsMessage.objects.filter(idempotency_key=idempotency_key).first()
    if message is None:
        raise not_found("No message was stored under this Idempotency-Key.")
    return sms_body(message)


def sms_recent(*, to: str | None, limit: int) -> list[SmsMessage]:
    """The newest messages, to one number or to anyone."""
    messages = SmsMessage.objects.all()
    if to is not None:
        messages = messages.filter(to=to)
    return list(messages.order_by("-created_at", "-id")[:limit])


def dlr_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, "<timestamp>." + body))``, sent as ``X-Carrier-Signature``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _settle(*, message_pk: int, force_undelivered: bool, duplicate: bool) -> None:
    """Give an accepted message its final status and send its report if the caller wants one.

    A suspended or cancelled subscriber cannot receive; otherwise the ``dlr_status`` knob read
    when the message was accepted decides. The status guard makes a second settle a no-op.
    """
    message = SmsMessage.objects.get(pk=message_pk)
    subscriber_status = (
        Subscriber.objects.filter(msisdn=message.to).values_list("status", flat=True).first()
    )
    status, error_code = SmsMessage.Status.DELIVERED, None
    if subscriber_status in _UNREACHABLE:
        status, error_code = SmsMessage.Status.UNDELIVERED, "SUBSCRIBER_UNREACHABLE"
    elif force_undelivered:
        status, error_code = SmsMessage.Status.UNDELIVERED, "DELIVERY_FAILED"
    settled_at = timezone.now()
    settled = SmsMessage.objects.filter(pk=message_pk, status=SmsMessage.Status.ACCEPTED).update(
        status=status, error_code=error_code or "", delivered_at=settled_at
    )
    if not settled or not message.callback_url:
        return
    report = {
        "message_id": message.message_id,
        "reference": message.reference or None,
        "to": message.to,
        "status": status.value,
        "error_code": error_code,
        "delivered_at": _iso(settled_at),
    }
    body = json.dumps(report, ensure_ascii=False, separators=(",", ":")).encode()
    for _ in range(2 if duplicate else 1):
        _post_report(url=message.callback_url, body=body, attempt=1)


def _post_report(*, url: str, body: bytes, attempt: int) -> None:
    """One attempt to deliver a report; a failure schedules the next one after its backoff."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Carrier-Timestamp": str(timestamp),
        "X-Carrier-Signature": dlr_signature(
            secret=sandbox_setting("SANDBOX_SHARED_SECRET"), timestamp=timestamp, body=body
        ),
    }
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=_POST_TIMEOUT_S)
        outcome = f"HTTP {answer.status_code}"
        if answer.is_success:
            return
    except httpx.HTTPError as exc:
        outcome = repr(exc)
    if attempt > len(_BACKOFF_S):
        logger.warning(
            "delivery report to %s abandoned after %d attempts: %s", url, attempt, outcome
        )
        return
    logger.info("delivery report to %s failed (attempt %d): %s", url, attempt, outcome)
    call_later(
        _BACKOFF_S[attempt - 1],
        functools.partial(_post_report, url=url, body=body, attempt=attempt + 1),
    )
