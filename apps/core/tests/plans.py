"""Test helper: which tables and partitions a statement's plan scans (``EXPLAIN``)."""

from __future__ import annotations

import re

from django.db import connection

_SCAN = re.compile(
    r"(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan)(?: Backward)?(?: using \w+)? on (\w+)"
)


def scanned(sql: str, *, prefix: str = "") -> set[str]:
    """The relations the plan of ``sql`` scans, those whose name starts with ``prefix``."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return {name for name in _SCAN.findall(plan) if name.startswith(prefix)}
