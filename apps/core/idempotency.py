"""Idempotency keys: an operation under the same key runs once; repeats get the first result.

Pattern, inside the service's transaction::

    first = idempotency_claim(scope="sms", key=key, payload=body)
    if first is not None:
        return first                     # a repeat: the stored result, nothing done again
    result = ...do the work...
    idempotency_complete(scope="sms", key=key, response=result)

The claim is an ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent request with the same key
waits on the unique index until the first commits, then reads its result.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import connection

from apps.core.errors import Conflict, IdempotencyConflict
from apps.core.models import IdempotencyRecord


def request_fingerprint(payload: Any) -> str:
    """A stable SHA-256 of a JSON-able payload, used to tell a repeat from a different request."""
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotency_claim(*, scope: str, key: str, payload: Any) -> dict[str, Any] | None:
    """Claim ``key`` for this request; return ``None`` to go on, or the first request's result.

    Raises ``IdempotencyConflict`` when the key was used with a different payload, and
    ``Conflict`` when the first request under the key has not finished.
    """
    fingerprint = request_fingerprint(payload)
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, key, request_hash, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, now()) ON CONFLICT (scope, key) DO NOTHING RETURNING id",
            [scope, key, fingerprint],
        )
        if cursor.fetchone() is not None:
            return None
    record = IdempotencyRecord.objects.get(scope=scope, key=key)
    if record.request_hash != fingerprint:
        raise IdempotencyConflict()
    if record.response is None:
        raise Conflict("The first request with this idempotency key is still being processed.")
    return record.response


def idempotency_complete(*, scope: str, key: str, response: dict[str, Any]) -> None:
    """Store the result of a claimed key, in the same transaction as the work."""
    IdempotencyRecord.objects.filter(scope=scope, key=key).update(response=response)
