"""Marketing background work."""

from __future__ import annotations

from celery import shared_task

from apps.marketing import services


@shared_task(acks_late=True)
def flash_claims_expire_task() -> int:
    """Beat, every minute: give back the flash units whose order was never placed in time."""
    return services.flash_claims_expire()
