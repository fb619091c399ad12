"""Writing audit events; every state-machine transition calls ``audit_record``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from apps.core.models import AuditEvent


def audit_record(
    *,
    action: str,
    object_type: str,
    object_id: object,
    actor_id: int | None = None,
    actor_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event in the caller's transaction, so it commits with the change.

    Inside a transaction the event is written, with the transaction's other events in one
    multi-row INSERT, when the transaction commits (``apps.core.dbbackend``); inside
    ``audit_batch()`` when the batch ends. Either way it has no id before.
    """
    event = AuditEvent(
        actor_id=actor_id,
        actor_label=actor_label[:64],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
    )
    pending: list[AuditEvent] | None = getattr(_batch, "events", None)
    if pending is not None:
        pending.append(event)
        return event
    connection = transaction.get_connection()
    if getattr(connection, "audit_buffering", False) and connection.audit_defers():
        connection.audit_defer(event)
    else:
        event.save(force_insert=True)
    return event


_AUDIT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
_AUDIT_CHUNK = 1000  # 8 parameters a row, well under PostgreSQL's 65,535


def audit_write(events: list[AuditEvent], *, using: str) -> None:
    """Write events with one multi-row INSERT per chunk of 1,000, no ids read back.

    Called by the connection as its transaction commits; no transaction handling of its own.
    """
    for start in range(0, len(events), _AUDIT_CHUNK):
        AuditEvent._base_manager._insert(  # type: ignore[attr-defined]
            events[start : start + _AUDIT_CHUNK], fields=_AUDIT_FIELDS, using=using
        )


_batch = threading.local()


@contextmanager
def audit_batch() -> Iterator[None]:
    """Write the audit events recorded inside the block with one INSERT when it ends.

    For a service that moves several state machines in one transaction (a delivery moves its
    job and its order line): the events still commit with the changes, in the order they were
    recorded, for one statement instead of one each. Use it inside the transaction. On an
    exception nothing is written (the transaction rolls back anyway). A batch opened inside
    another joins it. Per thread, so concurrent worker threads never mix their events.
    """
    if getattr(_batch, "events", None) is not None:
        yield
        return
    events: list[AuditEvent] = []
    _batch.events = events
    try:
        yield
    finally:
        _batch.events = None
    if not events:
        return
    connection = transaction.get_connection()
    if getattr(connection, "audit_buffering", False) and connection.audit_defers():
        for event in events:  # joins the transaction's one INSERT at its commit
            connection.audit_defer(event)
    else:
        audit_write(events, using=connection.alias)


@dataclass(frozen=True)
class AuditEntry:
    action: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def audit_trail(
    *, object_type: str, object_ids: list[str], since: datetime | None = None
) -> list[AuditEntry]:
    """The audit events of some objects, oldest first (for timelines).

    ``since`` (the objects' creation time: none of their events is older) bounds the read, so
    it touches only the daily partitions from then on instead of every partition kept.
    """
    rows = AuditEvent.objects.filter(object_type=object_type, object_id__in=object_ids)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    rows = rows.order_by("created_at", "id")
    return [AuditEntry(r.action, r.created_at, r.before, r.after) for r in rows]


def audited_transition(
    obj: Any,
    to: str,
    *,
    object_type: str,
    object_id: object,
    refused: Callable[[dict[str, Any]], Exception],
    field: str = "status",
    action_prefix: str = "",
    actor_id: int | None = None,
    after: dict[str, object] | None = None,
    transitions: Mapping[str, frozenset[str]] | None = None,
) -> str:
    """Move ``obj.<field>`` to ``to`` along ``obj.TRANSITIONS`` and record the audit event.

    The one helper behind every state machine (orders, order lines, payments, refunds,
    fulfilment jobs). The caller holds the row lock and saves the row; a move the table does
    not allow raises ``refused({field: current, "to": to})``. ``after`` adds context to the event.
    ``transitions`` replaces ``obj.TRANSITIONS`` for a model with a second state field.
    Returns the previous state.
    """
    before = getattr(obj, field)
    if to not in (obj.TRANSITIONS if transitions is None else transitions)[before]:
        raise refused({field: before, "to": to})
    setattr(obj, field, to)
    audit_record(
        action=f"{action_prefix or object_type}.{to}",
        object_type=object_type,
        object_id=object_id,
        actor_id=actor_id,
        before={field: before},
        after={field: to, **{k: str(v) for k, v in (after or {}).items()}},
    )
    return before
