"""Account background work."""

from __future__ import annotations

from celery import shared_task

from apps.accounts import services


@shared_task(acks_late=True)
def sessions_clear_expired_task() -> int:
    """Beat, daily: delete expired sessions."""
    return services.sessions_clear_expired()
