"""The order page's timeline reads the audit events from the order's day on: its plan touches
only those daily partitions (docs/citus-plan.md step 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core import partitions
from apps.core.partitions import partition_name, period_start
from apps.core.tests.plans import scanned
from apps.orders.selectors import order_timeline
from apps.orders.tests.support import paid_order

pytestmark = pytest.mark.django_db


def _scanned(sql: str) -> set[str]:
    return scanned(sql, prefix="core_auditevent")


def _day(offset: int) -> str:
    start = period_start("day", timezone.now(), offset)
    return partition_name("core_auditevent", "day", start)


def test_the_order_timeline_reads_only_the_days_since_the_order():
    partitions.partitions_make(partitions.AUDIT, since=timezone.now() - timedelta(days=5))
    order = paid_order(User.objects.create_user("13800138000"), [small_catalog()["vip"]])

    with CaptureQueriesContext(connection) as queries:
        timeline = order_timeline(number=order.number)

    assert [entry.action for entry in timeline][:1] == ["order.created"]
    reads = [q["sql"] for q in queries.captured_queries if "core_auditevent" in q["sql"]]
    assert len(reads) == 2  # the order's and its payments' events (no refund: no query)
    expected = {_day(n) for n in range(partitions.AUDIT.ahead + 1)} | {"core_auditevent_default"}
    for sql in reads:
        assert _scanned(sql) == expected
