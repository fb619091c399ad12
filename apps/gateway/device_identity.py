"""Three-legged access tokens: which device (phone number) an access token stands for.

CAMARA's device APIs learn the subscriber from the access token when the operator's
authorisation server identified the device (network-based authentication, or the user's
consent). Here the partner exchanges the network's device token (``apps.carrier.network``)
for an access token at ``/oauth2/token`` (RFC 8693 token exchange); the binding from the access
token (by its SHA-256) to the phone number lives in Redis beside the token, for as long as it.
"""

from __future__ import annotations

import hashlib
import threading
import time

from apps.core.redis import get_redis

# RFC 8693: the grant and the type of the token exchanged (the network's device token).
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
DEVICE_TOKEN_TYPE = "urn:carrierhub:params:oauth:token-type:device-token"  # noqa: S105
_MAX_CACHED = 50_000

_lock = threading.Lock()
# digest -> (phone number or "" for a two-legged token, expiry in Unix time)
_seen: dict[str, tuple[str, float]] = {}


def _key(token: str) -> str:
    return "gw:tokdev:" + hashlib.sha256(token.encode()).hexdigest()


def device_bind(*, token: str, phone_number: str, ttl_seconds: int) -> None:
    """Record that ``token`` identifies the device behind ``phone_number`` (E.164).

    Raises ``redis.RedisError`` when Redis is unreachable.
    """
    get_redis().set(_key(token), phone_number, ex=ttl_seconds)


def device_for_token(token: str) -> str | None:
    """The phone number a three-legged token identifies; None for a two-legged token.

    Remembered per process until a minute passes (a binding never changes while its token
    lives). Raises ``redis.RedisError`` when Redis is unreachable and the token is new here.
    """
    key = _key(token)
    now = time.time()
    cached = _seen.get(key)
    if cached is not None and cached[1] > now:
        return cached[0] or None
    raw = get_redis().get(key)
    number = (raw.decode() if isinstance(raw, bytes) else str(raw)) if raw else ""
    with _lock:
        if len(_seen) >= _MAX_CACHED:
            _seen.clear()
        _seen[key] = (number, now + 60)
    return number or None


def forget_all() -> None:
    """Drop this process's remembered bindings (tests)."""
    with _lock:
        _seen.clear()
