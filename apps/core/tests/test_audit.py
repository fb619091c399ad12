"""Audit events: one statement for a batch, in order; nothing written when the block fails."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.core.audit import audit_batch, audit_record
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _ours():
    """This module's events: a test that commits elsewhere (ledger accounts made again after
    a flush, audited) must not count here."""
    return AuditEvent.objects.filter(object_type="thing")


def _record(action: str) -> None:
    audit_record(action=action, object_type="thing", object_id=7, after={"status": action})


def test_a_batch_writes_its_events_with_one_insert_in_order():
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), audit_batch():
        _record("a")
        with audit_batch():  # a nested batch joins the outer one
            _record("b")
        _record("c")
        assert _ours().count() == 0  # not yet written
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    rows = list(_ours().order_by("id").values_list("action", "object_id", "after"))
    assert rows == [
        ("a", "7", {"status": "a"}),
        ("b", "7", {"status": "b"}),
        ("c", "7", {"status": "c"}),
    ]
    assert _ours().filter(created_at__isnull=True).count() == 0


def _fail_in_batch() -> None:
    with audit_batch():
        _record("lost")
        raise RuntimeError("boom")


def test_a_failed_batch_writes_nothing_and_the_next_record_is_immediate():
    with pytest.raises(RuntimeError):
        _fail_in_batch()
    assert _ours().count() == 0
    _record("kept")  # outside any batch: written at once
    assert list(_ours().values_list("action", flat=True)) == ["kept"]
