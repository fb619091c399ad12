"""Checking a CP's signed API call: the gateway's HMAC scheme (``apps.core.signing``) under the
CP's active or next key, a date within ``MAX_SKEW_SECONDS`` and a nonce never seen before."""

from __future__ import annotations

import time

from apps.content.errors import Unauthenticated
from apps.content.models import ContentProvider, SigningKey
from apps.core import signing
from apps.core.crypto import decrypt_text
from apps.core.redis import get_redis


def cp_call_verify(
    *,
    authorization: str,
    date: str,
    nonce: str,
    method: str,
    target: str,
    body: bytes,
    now: float | None = None,
) -> int:
    """The id of the approved CP that signed this call; ``Unauthenticated`` when the header is
    missing or not ours, the key unknown or retired, the date stale, the signature wrong, or
    the nonce already used (a replay). The nonce is remembered only for a valid signature."""
    signed = signing.parse_authorization(authorization or "")
    if signed is None:
        raise Unauthenticated()
    key = (
        SigningKey.objects.select_related("cp")
        .filter(key_id=signed.client_id, slot__in=[SigningKey.Slot.ACTIVE, SigningKey.Slot.NEXT])
        .first()
    )
    if key is None or key.cp.status != ContentProvider.Status.APPROVED:
        raise Unauthenticated()
    now = time.time() if now is None else now
    if not date.isdigit() or abs(int(date) - now) > signing.MAX_SKEW_SECONDS:
        raise Unauthenticated(details={"reason": "date"})
    if not signing.NONCE_PATTERN.match(nonce):
        raise Unauthenticated(details={"reason": "nonce"})
    expected = signing.sign(
        secret=decrypt_text(key.secret_encrypted),
        date=date,
        nonce=nonce,
        method=method,
        target=target,
        body=body,
    )
    if not signing.signature_matches(expected, signed.signature):
        raise Unauthenticated(details={"reason": "signature"})
    fresh = get_redis().set(
        f"content:nonce:{key.key_id}:{nonce}", 1, nx=True, ex=2 * signing.MAX_SKEW_SECONDS
    )
    if not fresh:
        raise Unauthenticated(details={"reason": "replayed"})
    return key.cp_id
