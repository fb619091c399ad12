"""Range partitions of append-only event tables by time: made ahead, detached or dropped after
retention.

A table made with ``PARTITION BY RANGE ("created_at")`` and a ``<table>_default`` partition gets
``<table>_pYYYYMM`` (monthly) or ``<table>_pYYYYMMDD`` (daily) partitions on Asia/Shanghai
months or days. Rows land in the default partition only when a period's partition was not made
in time; the job's next run starts from the oldest such row and moves them, a period per
transaction. A migration gives rows older than the retention their own partitions and detaches
them at once, so the default partition stays empty (attaching it scans it).

Tables are registered here (``Partitioned``) with their period, how many periods are made
ahead, how many are kept and what happens after: ``detach`` leaves the old partition as a
table of its own for an operator to archive (``pg_dump -t``) and drop (docs/operations.md);
``drop`` removes it. The daily ``core-partitions`` beat job runs every registered table.
The gateway's call records and risk's decisions keep their own jobs (``monthly_partitions_ensure``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

Period = Literal["day", "month"]

# Making and detaching partitions lock the parent table exclusively for a moment; a long read
# holding it would otherwise queue every write of the table (each audited transaction) behind
# the job's DDL. The job gives up instead, and its next run tries again.
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class Partitioned:
    """One time-partitioned table: ``table`` is a fixed name from code, never input."""

    table: str
    period: Period
    ahead: int  # periods made after the current one
    retention: int | None  # periods kept before the current one; None: kept for ever
    expire: Literal["detach", "drop"] = "detach"


# The tables the ``core-partitions`` job keeps (docs/citus-plan.md step 9, docs/operations.md).
REGISTRY: dict[str, Partitioned] = {}


def register(spec: Partitioned) -> Partitioned:
    REGISTRY[spec.table] = spec
    return spec


# About 4,000 audit rows a second at 500 payments/s (docs/capacity.md): 345 million a day, so a
# day is the unit that stays small enough to index in memory, scan and archive; 400 days online.
AUDIT = register(Partitioned("core_auditevent", "day", ahead=7, retention=400))
# About 1,000 lines a second: monthly. Lines are the book, and balances are running sums of
# every line ever posted, so no month is detached by the job (archiving the book needs a
# carried-forward opening journal first).
LEDGER_LINES = register(Partitioned("ledger_journalline", "month", ahead=2, retention=None))


def _month_start(year: int, month: int) -> datetime:
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=SHANGHAI)


def period_start(period: Period, at: datetime, offset: int = 0) -> datetime:
    """The start of the Shanghai day or month holding ``at``, moved by ``offset`` periods."""
    local = at.astimezone(SHANGHAI)
    if period == "month":
        return _month_start(local.year, local.month + offset)
    day = datetime(local.year, local.month, local.day, tzinfo=SHANGHAI)
    # Shanghai has no daylight saving: a day is 24 hours.
    return day + timedelta(days=offset)


def partition_name(table: str, period: Period, start: datetime) -> str:
    return f"{table}_p{start:%Y%m}" if period == "month" else f"{table}_p{start:%Y%m%d}"


def _partition_start(table: str, period: Period, name: str) -> datetime | None:
    suffix = name.removeprefix(f"{table}_p")
    if name == suffix or not suffix.isdigit() or len(suffix) != (6 if period == "month" else 8):
        return None
    day = int(suffix[6:8]) if period == "day" else 1
    return datetime(int(suffix[:4]), int(suffix[4:6]), day, tzinfo=SHANGHAI)


def partitions_attached(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def _make(table: str, name: str, start: datetime, end: datetime) -> None:
    default = f"{table}_default"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # Rows already in the default partition for this period would make the new
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
        _statement_triggers_copy(cursor, table, [name])


def _statement_triggers_copy(cursor: object, table: str, partitions: list[str]) -> None:
    """Give ``partitions`` the parent's statement-level triggers (the ledger's TRUNCATE guard):
    PostgreSQL clones row-level triggers to partitions, not statement-level ones, so a
    ``TRUNCATE`` of one partition would pass the parent's guard."""
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass "
        "AND NOT tgisinternal AND (tgtype & 1) = 0",  # bit 0 unset: FOR EACH STATEMENT
        [table],
    )
    triggers = cursor.fetchall()  # type: ignore[attr-defined]
    for partition in partitions:
        for name, definition in triggers:
            cursor.execute(  # type: ignore[attr-defined]
                "SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s",
                [partition, name],
            )
            if cursor.fetchone() is None:  # type: ignore[attr-defined]
                on_parent = (
                    f" ON public.{table} "
                    if f" ON public.{table} " in definition
                    else f" ON {table} "
                )
                cursor.execute(definition.replace(on_parent, f" ON {partition} ", 1))  # type: ignore[attr-defined]


def statement_triggers_ensure(table: str) -> None:
    """Every partition of ``table`` (the default included) carries the parent's
    statement-level triggers (a migration step for partitions made before this existed)."""
    with connection.cursor() as cursor:
        _statement_triggers_copy(cursor, table, sorted(partitions_attached(table)))


def _default_oldest(table: str) -> datetime | None:
    """The oldest row waiting in the default partition (the job missed its period)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(created_at) FROM {table}_default")  # noqa: S608 - fixed name
        row = cursor.fetchone()
    return row[0] if row else None


def partitions_make(
    spec: Partitioned, *, since: datetime | None = None, keep_old: bool = False
) -> list[str]:
    """Make the partitions of ``spec.table`` from the period holding ``since`` (default: now,
    or the oldest row waiting in the default partition if the job missed its period) to
    ``spec.ahead`` periods after now; before the retention only with ``keep_old`` (a
    migration's old rows, which ``partitions_expire`` then detaches). Returns the names made;
    safe to repeat."""
    now = timezone.now()
    if since is None:
        waiting = _default_oldest(spec.table)
        since = min(waiting, now) if waiting is not None else now
    first = period_start(spec.period, since)
    if spec.retention is not None and not keep_old:
        first = max(first, period_start(spec.period, now, -spec.retention))
    last = period_start(spec.period, now, spec.ahead)
    existing = partitions_attached(spec.table)
    made = []
    start = first
    while start <= last:
        end = period_start(spec.period, start, 1)
        name = partition_name(spec.table, spec.period, start)
        if name not in existing:
            _make(spec.table, name, start, end)
            made.append(name)
        start = end
    return made


def partitions_expire(spec: Partitioned) -> list[str]:
    """Detach (or drop) the partitions that started more than ``spec.retention`` periods
    before the current one. Returns their names; a detached partition stays a table of its own
    (same name) until an operator archives and drops it."""
    if spec.retention is None:
        return []
    oldest_kept = period_start(spec.period, timezone.now(), -spec.retention)
    expired = []
    for name in sorted(partitions_attached(spec.table)):
        start = _partition_start(spec.table, spec.period, name)
        if start is None or start >= oldest_kept:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            if spec.expire == "drop":
                cursor.execute(f"DROP TABLE {name}")
            else:
                cursor.execute(f"ALTER TABLE {spec.table} DETACH PARTITION {name}")
        logger.info("partition %s %sed (retention)", name, spec.expire)
        expired.append(name)
    return expired


def partitions_maintain() -> dict[str, dict[str, list[str]]]:
    """The beat job's work: for every registered table, make ahead and expire old ones."""
    return {
        table: {"made": partitions_make(spec), "expired": partitions_expire(spec)}
        for table, spec in REGISTRY.items()
    }


def monthly_partitions_ensure(*, table: str, months_ahead: int, retention_months: int) -> list[str]:
    """Make this month's and the next ``months_ahead`` months' partitions of ``table`` (a
    fixed name from code, never input); drop partitions that started more than
    ``retention_months`` months before this one. Returns the names made. Safe to repeat."""
    spec = Partitioned(
        table, "month", ahead=months_ahead, retention=retention_months, expire="drop"
    )
    made = partitions_make(spec, since=timezone.now())
    partitions_expire(spec)
    return made


def partitioned_swap(
    schema_editor: object, *, table: str, spec: Partitioned, key: tuple[str, ...]
) -> None:
    """Migration step: turn the plain table ``table`` into a table range-partitioned on
    ``created_at`` with primary key ``key``, keeping its rows, columns (identity included),
    checks, foreign keys, indexes and triggers under their names.

    The old table is renamed and stripped of its constraints, the new one made ``LIKE`` it with
    its default partition and the partitions the rows need (those past the retention too,
    detached at the end), the rows copied (before the triggers are made again, so the
    copy does not re-check every journal), the identity moved past the highest id, the old
    table dropped. One transaction: a failure leaves the plain table as it was.
    """
    old = f"{table}_unpartitioned"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('c', 'f') ORDER BY conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY c.relname",
            [table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY tgname",
            [table],
        )
        triggers = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT min(created_at) FROM {table}")  # noqa: S608 - fixed name
        (oldest,) = cursor.fetchone()

        cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
        for name, _definition in triggers:
            cursor.execute(f"DROP TRIGGER {name} ON {old}")
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {old} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute(f"ALTER TABLE {old} DROP CONSTRAINT {table}_pkey")
        if sequence:
            cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {old}_id_seq")

        cursor.execute(
            f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY, "
            f"PRIMARY KEY ({', '.join(key)})) PARTITION BY RANGE (created_at)"
        )
        cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for _name, definition in indexes:
            cursor.execute(definition)
    # Old rows get partitions of their own too (detached at the end, past the retention), so
    # the default partition stays empty and attaching it again stays cheap.
    partitions_make(spec, since=oldest, keep_old=True)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608
        if sequence:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 - fixed names
                f"coalesce((SELECT max(id) FROM {old}), 0) + 1, false)",
                [table],
            )
        cursor.execute(f"DROP TABLE {old}")
        for _name, definition in triggers:
            cursor.execute(definition)
        _statement_triggers_copy(cursor, table, sorted(partitions_attached(table)))
    partitions_expire(spec)
