"""Monthly range partitions of an append-only event table: made ahead, dropped after retention.

A table made with ``PARTITION BY RANGE ("created_at")`` and a ``<table>_default`` partition
(the gateway's call records, risk decisions) gets ``<table>_pYYYYMM`` partitions on
Asia/Shanghai months. Rows land in the default partition only when a month's partition was
not made in time; making it later moves them in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _month_start(year: int, month: int) -> datetime:
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=SHANGHAI)


def _existing(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def monthly_partitions_ensure(*, table: str, months_ahead: int, retention_months: int) -> list[str]:
    """Make this month's and the next ``months_ahead`` months' partitions of ``table`` (a
    fixed name from code, never input); drop partitions that ended more than
    ``retention_months`` ago. Returns the names made. Safe to repeat."""
    default = f"{table}_default"
    now = timezone.now().astimezone(SHANGHAI)
    existing = _existing(table)
    made = []
    for offset in range(months_ahead + 1):
        start = _month_start(now.year, now.month + offset)
        end = _month_start(start.year, start.month + 1)
        name = f"{table}_p{start:%Y%m}"
        if name in existing:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            # Rows already in the default partition for this month would make the new
            # partition's bounds overlap: move them across while the default is detached.
            cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {default}")
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
            cursor.execute(
                f"INSERT INTO {table} SELECT * FROM {default} "  # noqa: S608 - fixed names
                "WHERE created_at >= %s AND created_at < %s",
                [start, end],
            )
            cursor.execute(
                f"DELETE FROM {default} WHERE created_at >= %s AND created_at < %s",  # noqa: S608
                [start, end],
            )
            cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
        made.append(name)
    oldest_kept = _month_start(now.year, now.month - retention_months)
    for name in sorted(existing):
        suffix = name.removeprefix(f"{table}_p")
        if name == default or not suffix.isdigit():
            continue
        start = _month_start(int(suffix[:4]), int(suffix[4:]))
        if start < oldest_kept:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {name}")
            logger.info("dropped partition %s (retention)", name)
    return made
