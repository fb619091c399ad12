"""Writing audit events; every state-machine transition calls ``audit_record``."""

from __future__ import annotations

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
