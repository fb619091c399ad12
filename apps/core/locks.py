"""Row and advisory locks of the kernel, and the one global lock order every app follows.

Global order (a transaction that needs rows of several kinds locks them in this order; rows of
one kind in primary-key order), as in DESIGN.md:

    user → order → stock → payment → ledger

Kinds not on that line come after the last kind they hang off: an app's rows (gateway
partner → app → credential/subscription → its calls and charges) after the user; SMS,
carrier requests, outbox events and dead letters last, since nothing else is locked after them.
Each app keeps its helpers in its own ``locks.py`` and takes no inline ``select_for_update``.
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import connection
from django.db.models import QuerySet

from apps.core.models import DeadLetter, OutboxEvent


def advisory_xact_lock(namespace: str, key: str) -> None:
    """Block until this transaction holds the lock for ``(namespace, key)``; released at commit.

    For serialising work on something that has no row yet.
    """
    digest = hashlib.blake2b(f"{namespace}:{key}".encode(), digest_size=8).digest()
    lock_id = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def dead_letter_lock(dead_letter_id: int) -> DeadLetter | None:
    """Lock one dead letter (None when there is none)."""
    return DeadLetter.objects.select_for_update().filter(pk=dead_letter_id).first()


def outbox_event_lock(event_id: uuid.UUID | str) -> OutboxEvent | None:
    """Lock one outbox event (None when there is none)."""
    return OutboxEvent.objects.select_for_update().filter(pk=event_id).first()


def outbox_events_claim() -> QuerySet[OutboxEvent]:
    """Outbox events to lock in primary-key order, skipping rows another sweeper holds."""
    return OutboxEvent.objects.select_for_update(skip_locked=True).order_by("pk")
