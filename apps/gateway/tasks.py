"""Gateway background jobs: draining the metering list, dropping a revoked credential's tokens."""

from __future__ import annotations

from celery import shared_task

from apps.gateway import metering, services


@shared_task
def meter_drain_task() -> int:
    """Beat job: write buffered call records and their hourly rollup (safe to repeat)."""
    metering.meter_flush()
    return metering.meter_drain()


@shared_task(acks_late=True)
def charges_unsettled_settle_task() -> dict[str, int]:
    """Beat job: phone-bill charges left unconfirmed past their code's life are settled by
    asking the carrier (docs/capabilities.md)."""
    from apps.gateway.billing import charges_unsettled_settle

    return charges_unsettled_settle()


@shared_task
def credential_tokens_drop_task(credential_id: int) -> None:
    services.credential_tokens_drop(credential_id=credential_id)


@shared_task
def callrecord_partitions_task() -> list[str]:
    """Beat job (daily): monthly partitions ahead of time, old ones dropped after retention."""
    from django.conf import settings

    from apps.gateway.partitions import callrecord_partitions_ensure

    return callrecord_partitions_ensure(
        retention_months=int(getattr(settings, "GATEWAY_CALLRECORD_RETENTION_MONTHS", 13))
    )
