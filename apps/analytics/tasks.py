"""Analytics beat jobs: today's (and yesterday's) rollups, and the product-view flush."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.analytics import rollups, views_counter


@shared_task
def rollup_recent_task() -> list[str]:
    """Beat job: flush the view counters, then recompute yesterday (late arrivals: payments
    confirmed after midnight, deliveries) and today so far. Safe to repeat."""
    views_counter.views_flush()
    today = timezone.localdate()
    days = [today - timedelta(days=1), today]
    for day in days:
        rollups.day_rollup(day=day)
    return [d.isoformat() for d in days]


@shared_task
def views_flush_task() -> int:
    """Beat job: write the product-view counters to the daily table (safe to repeat)."""
    return views_counter.views_flush()
