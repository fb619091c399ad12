"""Risk background jobs: writing queued decisions, partitions."""

from __future__ import annotations

from celery import shared_task

from apps.core.partitions import monthly_partitions_ensure
from apps.risk import recorder


@shared_task
def decisions_flush_task() -> int:
    """Beat job (every few seconds): write the queued decisions in batches, then score them
    on a worker."""
    written = recorder.decisions_flush()
    for start in range(0, len(written), 500):
        decisions_score_task.delay(written[start : start + 500])
    return len(written)


@shared_task
def decision_partitions_task() -> list[str]:
    """Beat job (daily): monthly partitions of the decisions ahead of time; 13 months kept."""
    return monthly_partitions_ensure(
        table="risk_decisionrecord", months_ahead=2, retention_months=13
    )


@shared_task
def decisions_score_task(decision_ids: list[str]) -> int:
    """Post-event scoring of a batch of recorded decisions (queued by the flush)."""
    from apps.risk.cases import scores_update

    return scores_update(decision_ids=decision_ids)


@shared_task
def holds_expire_task() -> int:
    """Beat job (every five minutes): refuse the holds nobody answered in time."""
    from apps.risk.holds import holds_expire

    return holds_expire()


@shared_task
def anomalies_task(day: str | None = None) -> int:
    """Beat job (nightly): open a case per anomaly of the day before (or of ``day``)."""
    from datetime import date, timedelta

    from django.utils import timezone

    from apps.risk.cases import anomalies_open_cases

    target = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return anomalies_open_cases(day=target)


@shared_task
def label_points_task() -> int:
    """Beat job (every minute): labels whose points did not reach the score (Redis was
    unreachable when they were recorded) get them now, once."""
    from apps.risk.labels import label_points_apply_pending

    return label_points_apply_pending()
