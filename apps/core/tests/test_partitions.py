"""Time partitions of event tables (apps.core.partitions): made ahead, rows in the right
partition, old ones detached, the plain-to-partitioned swap of a migration, and the audit
reads pruned to the partitions they need."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core import partitions
from apps.core.audit import audit_record, audit_trail
from apps.core.models import AuditEvent
from apps.core.partitions import Partitioned, partition_name, period_start
from apps.core.tests.plans import scanned

pytestmark = pytest.mark.django_db


def _sql(query: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def _partition_of(table: str, row_id: int) -> str:
    return _sql(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [row_id])[0][0]  # noqa: S608


def _day(offset: int = 0) -> str:
    return partition_name("core_auditevent", "day", period_start("day", timezone.now(), offset))


def _plan_relations(sql: str) -> set[str]:
    """The tables and partitions a statement's plan scans."""
    return scanned(sql) - {"ledger_ledgeraccount", "ledger_journal"}


def _days(first: int, last: int) -> set[str]:
    return {_day(offset) for offset in range(first, last + 1)}


def test_the_audit_table_is_partitioned_by_day_with_a_composite_key():
    assert _sql(
        "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'core_auditevent'::regclass"
    ) == [("r",)]
    key = _sql(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'core_auditevent'::regclass "
        "AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)"
    )
    assert key == [("created_at",), ("id",)]


def test_partitions_are_made_ahead_once_and_an_audit_event_lands_in_its_day():
    partitions.partitions_make(partitions.AUDIT)
    assert partitions.partitions_make(partitions.AUDIT) == []
    attached = partitions.partitions_attached("core_auditevent")
    assert _days(0, partitions.AUDIT.ahead) <= attached

    event = audit_record(action="probe.made", object_type="probe", object_id=1)
    event = AuditEvent.objects.get(object_type="probe")  # the buffered writer reads no id back
    assert _partition_of("core_auditevent", event.id) == _day(0)
    # The workbench opens an event by its id (the model's primary key).
    assert AuditEvent.objects.get(pk=event.pk).action == "probe.made"


def test_the_buffered_multi_row_writer_fills_the_partitioned_table():
    partitions.partitions_make(partitions.AUDIT)
    with transaction.atomic():
        for n in range(3):
            audit_record(action="probe.batch", object_type="probe", object_id=n)
    rows = AuditEvent.objects.filter(action="probe.batch")
    assert rows.count() == 3
    assert {_partition_of("core_auditevent", r.id) for r in rows} == {_day(0)}


def test_a_row_beyond_the_partitions_waits_in_the_default_and_moves_when_its_day_is_made():
    partitions.partitions_make(partitions.AUDIT)
    later = timezone.now() + timedelta(days=partitions.AUDIT.ahead + 2)
    event = AuditEvent.objects.create(action="probe.late", object_type="probe", object_id="1")
    AuditEvent.objects.filter(pk=event.pk).delete()  # created_at is auto_now_add: write it raw
    _sql(
        "INSERT INTO core_auditevent (actor_label, action, object_type, object_id, created_at)"
        " VALUES ('', 'probe.late', 'probe', '1', %s) RETURNING id",
        [later],
    )
    row_id = AuditEvent.objects.get(action="probe.late").id
    assert _partition_of("core_auditevent", row_id) == "core_auditevent_default"

    further = Partitioned("core_auditevent", "day", ahead=partitions.AUDIT.ahead + 2, retention=400)
    made = partitions.partitions_make(further)
    assert made == [_day(partitions.AUDIT.ahead + 1), _day(partitions.AUDIT.ahead + 2)]
    assert _partition_of("core_auditevent", row_id) == _day(partitions.AUDIT.ahead + 2)
    assert AuditEvent.objects.filter(action="probe.late").count() == 1


def test_a_run_after_missed_days_makes_them_and_moves_their_rows_out_of_the_default():
    """The job was down: rows of days without a partition wait in the default; the next run
    starts from the oldest of them, not from today."""
    missed = timezone.now() - timedelta(days=20)
    assert _day(-20) not in partitions.partitions_attached("core_auditevent")
    row_id = _sql(
        "INSERT INTO core_auditevent (actor_label, action, object_type, object_id, created_at)"
        " VALUES ('', 'probe.missed', 'probe', '1', %s) RETURNING id",
        [missed],
    )[0][0]
    assert _partition_of("core_auditevent", row_id) == "core_auditevent_default"

    made = partitions.partitions_make(partitions.AUDIT)

    assert _day(-20) in made
    assert _partition_of("core_auditevent", row_id) == _day(-20)
    assert _sql("SELECT count(*) FROM core_auditevent_default") == [(0,)]


def test_partitions_past_the_retention_are_detached_and_keep_their_rows():
    old_day = timezone.now() - timedelta(days=10)
    partitions.partitions_make(partitions.AUDIT, since=old_day)
    _sql(
        "INSERT INTO core_auditevent (actor_label, action, object_type, object_id, created_at)"
        " VALUES ('', 'probe.old', 'probe', '1', %s)",
        [old_day],
    )
    short = Partitioned("core_auditevent", "day", ahead=7, retention=3)

    expired = partitions.partitions_expire(short)

    assert expired == sorted(_days(-10, -4))
    attached = partitions.partitions_attached("core_auditevent")
    assert not set(expired) & attached
    assert _days(-3, 7) <= attached
    # Detached, not dropped: the day's rows wait in their own table to be archived.
    assert _sql(f"SELECT action FROM {_day(-10)}") == [("probe.old",)]  # noqa: S608
    assert not AuditEvent.objects.filter(action="probe.old").exists()
    assert partitions.partitions_expire(short) == []


def test_a_table_kept_for_ever_expires_nothing():
    partitions.partitions_make(partitions.LEDGER_LINES)
    assert partitions.partitions_expire(partitions.LEDGER_LINES) == []


def test_the_beat_job_makes_every_registered_table_ahead_idempotently():
    from apps.core.tasks import partitions_task

    partitions_task()
    again = partitions_task()
    assert set(again) == {"core_auditevent", "ledger_journalline"}
    assert all(result == {"made": [], "expired": []} for result in again.values())


def test_the_swap_of_a_migration_keeps_rows_ids_indexes_constraints_and_triggers():
    _sql(
        "CREATE TABLE probe_events (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
        " amount bigint NOT NULL CHECK (amount <> 0), created_at timestamptz NOT NULL)"
    )
    _sql("CREATE INDEX probe_events_amount ON probe_events (amount, created_at)")
    _sql(
        "CREATE FUNCTION probe_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " RAISE EXCEPTION 'append-only'; END; $$"
    )
    _sql(
        "CREATE TRIGGER probe_events_immutable BEFORE UPDATE OR DELETE ON probe_events"
        " FOR EACH ROW EXECUTE FUNCTION probe_refuse()"
    )
    now = timezone.now()
    months = [period_start("month", now, offset) for offset in (-2, -1, 0)]
    for n, at in enumerate(months, start=1):
        _sql("INSERT INTO probe_events (amount, created_at) VALUES (%s, %s)", [n, at])
    spec = Partitioned("probe_events", "month", ahead=1, retention=None)

    partitions.partitioned_swap(None, table="probe_events", spec=spec, key=("created_at", "id"))

    rows = _sql("SELECT id, amount, tableoid::regclass::text FROM probe_events ORDER BY id")
    assert rows == [
        (n, n, partition_name("probe_events", "month", at)) for n, at in enumerate(months, 1)
    ]
    new_id = _sql("INSERT INTO probe_events (amount, created_at) VALUES (9, now()) RETURNING id")
    assert new_id == [(4,)]
    names = {
        r[0] for r in _sql("SELECT indexname FROM pg_indexes WHERE tablename = 'probe_events'")
    }
    assert names == {"probe_events_pkey", "probe_events_amount"}
    with pytest.raises(Exception, match="check constraint"), transaction.atomic():
        _sql("INSERT INTO probe_events (amount, created_at) VALUES (0, now())")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        _sql("DELETE FROM probe_events")
    assert not _sql("SELECT 1 FROM pg_class WHERE relname = 'probe_events_unpartitioned'")


def test_the_order_timelines_audit_read_touches_only_the_days_since_the_order():
    partitions.partitions_make(partitions.AUDIT, since=timezone.now() - timedelta(days=5))
    since = timezone.now() - timedelta(days=2)
    with CaptureQueriesContext(connection) as queries:
        audit_trail(object_type="order", object_ids=["X1"], since=since)
    (read,) = [q["sql"] for q in queries.captured_queries if "core_auditevent" in q["sql"]]

    assert _plan_relations(read) == _days(-2, partitions.AUDIT.ahead) | {"core_auditevent_default"}
    assert not _days(-5, -3) & _plan_relations(read)


def test_the_workbench_lists_filters_and_opens_audit_events_of_the_partitioned_table(client):
    from django.contrib.auth import get_user_model

    partitions.partitions_make(partitions.AUDIT, since=timezone.now() - timedelta(days=3))
    _sql(
        "INSERT INTO core_auditevent (actor_label, action, object_type, object_id, created_at)"
        " VALUES ('', 'probe.old', 'probe', 'P1', %s)",
        [timezone.now() - timedelta(days=2)],
    )
    event = AuditEvent.objects.create(action="probe.new", object_type="probe", object_id="P2")
    client.force_login(get_user_model().objects.create_superuser("13800000009", password="pw"))

    listing = client.get("/admin/core/auditevent/", {"object_type": "probe"})
    assert listing.status_code == 200
    assert "probe.old" in listing.text and "probe.new" in listing.text
    assert "probe.new" in client.get("/admin/core/auditevent/", {"q": "P2"}).text
    page = client.get(f"/admin/core/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert "probe.new" in page.text
