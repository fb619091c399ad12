"""A short per-process memory of authenticated bearer tokens (issue #18: one SELECT less per
API request).

An entry maps a token's hash to its user and expiry. It is used only while

- its age is under ``API_TOKEN_CACHE_SECONDS`` (30 s by default: the bound for a change this
  module is not told about, e.g. a user deactivated by a queryset ``update()``), and
- the revocation generation in Redis (``accounts:token_generation``) is the one it was read
  under. Revoking, changing or deleting a token, and any save of a user but its sign-in time
  (deactivated, demoted from staff or superuser, ...) or its deletion bump it (once at once, once after
  COMMIT: a process that re-read the row between the two is invalidated by the second), so a
  revocation is effective in every process from the request after its COMMIT.

Each use costs one Redis GET instead of a SQL statement. When Redis cannot answer, the cache is
not used (the database is read, as before).
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from apps.accounts.models import User
from apps.core.redis import get_redis

GENERATION_KEY = "accounts:token_generation"
MAX_ENTRIES = 10_000


@dataclass
class _Entry:
    token_id: int
    user: User
    expires_at: datetime
    last_used_at: datetime | None
    generation: bytes | None
    stored: float


_entries: dict[str, _Entry] = {}
_lock = threading.Lock()


def _generation() -> bytes | bool | None:
    """The current generation (``None`` when never bumped); ``False`` if Redis did not answer."""
    try:
        value = get_redis().get(GENERATION_KEY)
    except redis.RedisError:
        return False
    return value if isinstance(value, bytes) or value is None else str(value).encode()


def token_cache_get(
    key_hash: str,
) -> tuple[_Entry, bytes | None] | tuple[None, bytes | bool | None]:
    """The entry for ``key_hash`` if still usable, and the generation read (for a later put)."""
    generation = _generation()
    entry = _entries.get(key_hash)
    if (
        entry is None
        or generation is False
        or entry.generation != generation
        or time.monotonic() - entry.stored > settings.API_TOKEN_CACHE_SECONDS
    ):
        return None, generation
    return entry, generation


def token_cache_user(entry: _Entry) -> User:
    """A copy of the cached user: the request may change its copy, never the cached one."""
    return copy.copy(entry.user)


def token_cache_put(
    key_hash: str, *, token_id: int, user: User, expires_at: datetime, last_used_at: datetime | None,
    generation: bytes | bool | None,
) -> None:  # fmt: skip
    """Remember a token just read from the database under ``generation``."""
    if generation is False or settings.API_TOKEN_CACHE_SECONDS <= 0:
        return
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key_hash] = _Entry(
            token_id, copy.copy(user), expires_at, last_used_at, generation,  # type: ignore[arg-type]
            time.monotonic(),
        )  # fmt: skip


def token_cache_touched(key_hash: str, when: datetime) -> None:
    entry = _entries.get(key_hash)
    if entry is not None:
        entry.last_used_at = when


def _bump() -> None:
    with contextlib.suppress(redis.RedisError):  # if not, the age bound still holds
        get_redis().incr(GENERATION_KEY)


def token_cache_invalidate() -> None:
    """Every process forgets its remembered tokens: now and again after the COMMIT."""
    with _lock:
        _entries.clear()
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump)


# Saves of a user that change nothing a request's authorization reads (sign-in bookkeeping).
_HARMLESS_FIELDS = frozenset({"last_login"})


def user_saved(
    *, instance: User, created: bool = False, update_fields: Any = None, **_signal: Any
) -> None:
    """``post_save`` of a user: any change but sign-in bookkeeping forgets the remembered
    tokens, since a remembered user carries its flags (``is_active``, ``is_staff``,
    ``is_superuser``: a superuser demoted must lose its powers at once, not after 30 s)."""
    if created or (update_fields is not None and set(update_fields) <= _HARMLESS_FIELDS):
        return
    token_cache_invalidate()


def token_saved(*, created: bool = False, update_fields: Any = None, **_signal: Any) -> None:
    """``post_save`` of an API token (revoked or its expiry changed, e.g. in the admin)."""
    if created or (update_fields is not None and set(update_fields) <= {"last_used_at"}):
        return
    token_cache_invalidate()


def user_deleted(**_signal: Any) -> None:
    """``post_delete`` of a user or of an API token."""
    token_cache_invalidate()


def token_cache_clear() -> None:
    """This process forgets its remembered tokens (tests)."""
    with _lock:
        _entries.clear()
