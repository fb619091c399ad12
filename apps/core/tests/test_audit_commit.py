"""A transaction's audit events go in one INSERT at its commit, and only if it commits."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.core.audit import audit_record
from apps.core.models import AuditEvent


def _things():
    return AuditEvent.objects.filter(object_type="thing")


def _record(action: str) -> None:
    audit_record(action=action, object_type="thing", object_id=7, after={"status": action})


def _audit_inserts(queries: CaptureQueriesContext) -> list[str]:
    table = AuditEvent._meta.db_table
    return [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'INSERT INTO "{table}"')
    ]


@pytest.mark.django_db(transaction=True)
def test_a_committed_transaction_writes_its_events_with_one_insert_before_commit_in_order():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        _record("a")
        with transaction.atomic():  # a helper's savepoint
            _record("b")
        _record("c")
        assert _things().count() == 0  # waiting for the commit
    assert len(_audit_inserts(queries)) == 1
    sql = [q["sql"] for q in queries.captured_queries]
    assert sql.index(_audit_inserts(queries)[0]) < sql.index("COMMIT")  # in the transaction
    assert list(_things().order_by("id").values_list("action", flat=True)) == ["a", "b", "c"]


def _record_and_fail() -> None:
    with transaction.atomic():
        _record("rolled back")
        raise RuntimeError("boom")


@pytest.mark.django_db(transaction=True)
def test_events_of_a_rolled_back_savepoint_or_transaction_are_never_written():
    with transaction.atomic():
        _record("kept")
        try:
            with transaction.atomic():
                _record("undone")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        _record("kept too")
    with pytest.raises(RuntimeError):
        _record_and_fail()
    assert list(_things().order_by("id").values_list("action", flat=True)) == [
        "kept",
        "kept too",
    ]
    assert connection.audit_pending == []


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_event_is_written_at_once():
    _record("now")
    assert _things().count() == 1


@pytest.mark.django_db
def test_under_a_test_case_transaction_the_outermost_block_of_the_code_writes_them():
    with CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            _record("a")
            _record("b")
        assert _things().count() == 2
    assert len(_audit_inserts(queries)) == 1
