"""OAuth2 client-credentials access tokens: opaque, short-lived, kept hashed in Redis and,
durably, in PostgreSQL (``AccessToken``), which answers when Redis is down or lost the token.

A token maps (by its SHA-256) to the credential that asked for it and the scopes granted.
Each process also remembers tokens it has seen until they expire, so a call costs no extra
round trip; revoking the credential bumps the app's context version, which the limiter
checks on every call, so a cached token of a revoked credential is refused at once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone

from apps.core.redis import get_redis
from apps.gateway.models import AccessToken

TOKEN_PREFIX = "cht_"  # noqa: S105 - a marker, not a secret
_MAX_CACHED = 50_000


def token_ttl_seconds() -> int:
    return int(getattr(settings, "GATEWAY_TOKEN_TTL_SECONDS", 300))


@dataclass(frozen=True)
class TokenInfo:
    app_id: int
    credential_id: int
    client_id: str
    scopes: frozenset[str]
    expires_at: float  # Unix time


_lock = threading.Lock()
_seen: dict[str, TokenInfo] = {}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(digest: str) -> str:
    return f"gw:tok:{digest}"


def _credential_key(credential_id: int) -> str:
    return f"gw:credtok:{credential_id}"


def token_store(
    *, app_id: int, credential_id: int, client_id: str, scopes: list[str]
) -> tuple[str, int]:
    """Make a token for this credential and scopes; return it and its lifetime in seconds.

    The PostgreSQL row is written first (and this credential's expired rows dropped), then
    Redis. Raises ``redis.RedisError`` when Redis is unreachable (no token is issued then).
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = token_ttl_seconds()
    digest = _digest(token)
    expires = time.time() + ttl
    value = json.dumps({"a": app_id, "c": credential_id, "i": client_id, "s": scopes, "x": expires})
    now = timezone.now()
    AccessToken.objects.filter(credential_id=credential_id, expires_at__lt=now).delete()
    AccessToken.objects.create(
        digest=digest, app_id=app_id, credential_id=credential_id, client_id=client_id,
        scopes=scopes, expires_at=now + timedelta(seconds=ttl),
    )  # fmt: skip
    pipe = get_redis().pipeline(transaction=False)
    pipe.set(_key(digest), value, ex=ttl)
    pipe.sadd(_credential_key(credential_id), digest)
    pipe.expire(_credential_key(credential_id), ttl)
    pipe.execute()
    return token, ttl


def token_lookup(token: str) -> TokenInfo | None:
    """The token's grant, or None when it is unknown or expired.

    Redis first; when it is unreachable or does not know the token (restarted, flushed), the
    PostgreSQL copy answers.
    """
    digest = _digest(token)
    now = time.time()
    info = _seen.get(digest)
    if info is not None:
        if info.expires_at > now:
            return info
        with _lock:
            _seen.pop(digest, None)
        return None
    try:
        raw = get_redis().get(_key(digest))
    except redis.RedisError:
        raw = None
    if raw is not None:
        data = json.loads(raw)
        info = TokenInfo(
            app_id=int(data["a"]),
            credential_id=int(data["c"]),
            client_id=str(data["i"]),
            scopes=frozenset(data["s"]),
            expires_at=float(data["x"]),
        )
    else:
        row = AccessToken.objects.filter(digest=digest, expires_at__gt=timezone.now()).first()
        if row is None:
            return None
        info = TokenInfo(
            app_id=row.app_id,
            credential_id=row.credential_id,
            client_id=row.client_id,
            scopes=frozenset(row.scopes),
            expires_at=row.expires_at.timestamp(),
        )
    with _lock:
        if len(_seen) >= _MAX_CACHED:
            _seen.clear()
        _seen[digest] = info
    return info


def tokens_drop_for_credential(credential_id: int) -> None:
    """Delete every token issued to a credential (called after it is revoked)."""
    AccessToken.objects.filter(credential_id=credential_id).delete()
    client = get_redis()
    digests = [
        d.decode() if isinstance(d, bytes) else str(d)
        for d in client.smembers(_credential_key(credential_id))
    ]
    if digests:
        client.delete(*(_key(d) for d in digests))
    client.delete(_credential_key(credential_id))
    with _lock:
        for digest in digests:
            _seen.pop(digest, None)


def forget_all() -> None:
    """Drop this process's remembered tokens (tests)."""
    with _lock:
        _seen.clear()
