"""Risk background jobs: writing queued decisions, partitions."""

from __future__ import annotations

from celery import shared_task

from apps.core.partitions import monthly_partitions_ensure
from apps.risk import recorder


@shared_task
def decisions_flush_task() -> int:
    """Beat job (every few seconds): write the queued decisions in batches."""
    return len(recorder.decisions_flush())


@shared_task
def decision_partitions_task() -> list[str]:
    """Beat job (daily): monthly partitions of the decisions ahead of time; 13 months kept."""
    return monthly_partitions_ensure(
        table="risk_decisionrecord", months_ahead=2, retention_months=13
    )
