"""Number-pool jobs: putting back numbers whose cart hold lapsed."""

from __future__ import annotations

from celery import shared_task

from apps.simcards.services import holds_release_lapsed


@shared_task(acks_late=True)
def holds_release_lapsed_task() -> int:
    """Beat, every minute; idempotent."""
    return holds_release_lapsed()
