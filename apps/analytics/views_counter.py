"""Product views counted in Redis (one HINCRBY per view) and flushed into ``ProductViewDaily``.

The counter of a day is a hash ``analytics:views:<day>`` (product id -> views); it holds the
day's running total, so the flush writes the total (not an increment) and running it twice,
or after a crash half-way, leaves the same rows. Hashes expire after ``KEEP_DAYS``.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from apps.analytics.models import ProductViewDaily
from apps.core.redis import get_redis

KEEP_DAYS = 3
PREFIX = "analytics:views:"


def _key(day: date) -> str:
    return f"{PREFIX}{day.isoformat()}"


def view_count(*, product_id: int) -> None:
    """Count one view of ``product_id`` today (Asia/Shanghai)."""
    key = _key(timezone.localdate())
    pipe = get_redis().pipeline(transaction=False)
    pipe.hincrby(key, str(product_id), 1)
    pipe.expire(key, KEEP_DAYS * 86400)
    pipe.execute()


def views_flush(*, day: date | None = None) -> int:
    """Write ``day``'s (default: today's and yesterday's) counters to ``ProductViewDaily``;
    returns the number of products written. Idempotent: the rows take the counters' totals."""
    days = [day] if day else [timezone.localdate() - timedelta(days=1), timezone.localdate()]
    written = 0
    for d in days:
        counts = get_redis().hgetall(_key(d))
        rows = [
            ProductViewDaily(day=d, product_id=int(pid), views=int(n)) for pid, n in counts.items()
        ]
        with transaction.atomic():
            ProductViewDaily.objects.bulk_create(
                rows,
                batch_size=5_000,
                update_conflicts=True,
                unique_fields=["day", "product_id"],
                update_fields=["views"],
            )
        written += len(rows)
    return written
