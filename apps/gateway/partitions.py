"""Monthly partitions of ``gateway_callrecord``: made ahead of time, dropped after retention.

Partitions follow Asia/Shanghai months and are named ``gateway_callrecord_pYYYYMM``. Rows land
in the default partition only when a month's partition was not made in time; making it later
moves them in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from apps.gateway.limits import SHANGHAI

logger = logging.getLogger(__name__)

TABLE = "gateway_callrecord"
DEFAULT = "gateway_callrecord_default"


def _month_start(year: int, month: int) -> datetime:
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=SHANGHAI)


def _existing() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        return {row[0] for row in cursor.fetchall()}


def callrecord_partitions_ensure(*, months_ahead: int = 2, retention_months: int = 13) -> list[str]:
    """Make this month's and the next ``months_ahead`` months' partitions; drop partitions
    that ended more than ``retention_months`` ago. Returns the names made. Safe to repeat."""
    now = timezone.now().astimezone(SHANGHAI)
    existing = _existing()
    made = []
    for offset in range(months_ahead + 1):
        start = _month_start(now.year, now.month + offset)
        end = _month_start(start.year, start.month + 1)
        name = f"{TABLE}_p{start:%Y%m}"
        if name in existing:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            # Rows already in the default partition for this month would make the new
            # partition's bounds overlap: move them across while the default is detached.
            cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {DEFAULT}")
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
            cursor.execute(
                f"INSERT INTO {TABLE} SELECT * FROM {DEFAULT} "  # noqa: S608 - fixed names
                "WHERE created_at >= %s AND created_at < %s",
                [start, end],
            )
            cursor.execute(
                f"DELETE FROM {DEFAULT} WHERE created_at >= %s AND created_at < %s",  # noqa: S608
                [start, end],
            )
            cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {DEFAULT} DEFAULT")
        made.append(name)
    oldest_kept = _month_start(now.year, now.month - retention_months)
    for name in sorted(existing):
        suffix = name.removeprefix(f"{TABLE}_p")
        if name == DEFAULT or not suffix.isdigit():
            continue
        start = _month_start(int(suffix[:4]), int(suffix[4:]))
        if start < oldest_kept:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {name}")
            logger.info("gateway: dropped call-record partition %s (retention)", name)
    return made
