"""Monthly partitions of ``gateway_callrecord``: made ahead of time, dropped after retention.

Partitions follow Asia/Shanghai months and are named ``gateway_callrecord_pYYYYMM``
(``apps.core.partitions`` does the work for every partitioned event table).
"""

from __future__ import annotations

from apps.core.partitions import monthly_partitions_ensure

TABLE = "gateway_callrecord"
DEFAULT = "gateway_callrecord_default"


def callrecord_partitions_ensure(*, months_ahead: int = 2, retention_months: int = 13) -> list[str]:
    """Make this month's and the next ``months_ahead`` months' partitions; drop partitions
    that ended more than ``retention_months`` ago. Returns the names made. Safe to repeat."""
    return monthly_partitions_ensure(
        table=TABLE, months_ahead=months_ahead, retention_months=retention_months
    )
