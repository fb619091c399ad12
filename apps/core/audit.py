"""Writing audit events; every state-machine transition calls ``audit_record``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    """Append one audit event in the caller's transaction, so it commits with the change."""
    return AuditEvent.objects.create(
        actor_id=actor_id,
        actor_label=actor_label[:64],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
    )


@dataclass(frozen=True)
class AuditEntry:
    action: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def audit_trail(*, object_type: str, object_ids: list[str]) -> list[AuditEntry]:
    """The audit events of some objects, oldest first (for timelines)."""
    rows = AuditEvent.objects.filter(object_type=object_type, object_id__in=object_ids).order_by(
        "created_at", "id"
    )
    return [AuditEntry(r.action, r.created_at, r.before, r.after) for r in rows]
