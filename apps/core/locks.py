"""Transaction-scoped advisory locks, for serialising work on something that has no row yet."""

from __future__ import annotations

import hashlib

from django.db import connection


def advisory_xact_lock(namespace: str, key: str) -> None:
    """Block until this transaction holds the lock for ``(namespace, key)``; released at commit."""
    digest = hashlib.blake2b(f"{namespace}:{key}".encode(), digest_size=8).digest()
    lock_id = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
