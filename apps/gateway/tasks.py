"""Gateway background jobs: draining the metering list, dropping a revoked credential's tokens."""

from __future__ import annotations

from celery import shared_task

from apps.gateway import metering, services


@shared_task
def meter_drain_task() -> int:
    """Beat job: write buffered call records and their hourly rollup (safe to repeat)."""
    metering.meter_flush()
    return metering.meter_drain()


@shared_task
def credential_tokens_drop_task(credential_id: int) -> None:
    services.credential_tokens_drop(credential_id=credential_id)
