"""Bulk distribution under real concurrency: the same file twice at once, one row twice at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.enterprise import billing, services
from apps.enterprise.models import BulkBatch, BulkRow
from apps.enterprise.tests.bulk_support import data_packs, enterprise, sandbox_packs, together
from apps.ledger.models import Journal

pytestmark = pytest.mark.django_db(transaction=True)
FILE = "手机号,流量包\n13800138031,DATA-1G\n13800138032,DATA-500M\n".encode()


@pytest.fixture
def owner(carrier_sandbox):
    data_packs()
    for number in ("+8613800138031", "+8613800138032"):
        carrier_sandbox.put_subscriber(number, status="active")
    return enterprise()


def test_the_same_file_uploaded_twice_at_once_makes_one_batch_and_one_hold(owner):
    def upload() -> Any:
        return services.bulk_batch_create(owner_id=owner.pk, file_name="a.csv", content=FILE)

    first, second = together(upload, upload)
    assert not isinstance(first, Exception) and not isinstance(second, Exception)
    assert first.batch_no == second.batch_no
    assert sorted([first.created, second.created]) == [False, True]
    assert BulkBatch.objects.count() == 1
    assert BulkRow.objects.count() == 2
    # Committed for real here, so the (eager) delivery ran once, for the one batch.
    assert Journal.objects.filter(kind="bulk_hold").count() == 1
    assert Journal.objects.filter(kind="bulk_charge").count() == 2
    assert len(sandbox_packs("+8613800138031", first.batch_no)) == 1
    balance = billing.prepaid_balance(enterprise_id=owner.pk)
    assert (balance.available_fen, balance.held_fen) == (10_000 - 800, 0)


def test_one_row_delivered_by_two_workers_at_once_is_applied_and_charged_once(owner, monkeypatch):
    from apps.enterprise import tasks

    # The broker's edge: the dispatch is not sent, so the rows wait for the threads below.
    monkeypatch.setattr(tasks.bulk_batch_dispatch_task, "apply_async", lambda *a, **k: None)
    created = services.bulk_batch_create(owner_id=owner.pk, file_name="a.csv", content=FILE)
    row = BulkRow.objects.get(batch__batch_no=created.batch_no, row_no=2)
    results = together(*[lambda: services.bulk_row_deliver(row_id=row.pk)] * 4)
    assert all(r in ("delivered", "delivering") for r in results), results
    row.refresh_from_db()
    assert row.status == "delivered"
    assert len(sandbox_packs("+8613800138031", created.batch_no)) == 1
    assert Journal.objects.filter(idempotency_key=f"bulk:row:{row.pk}:charge").count() == 1
    balance = billing.prepaid_balance(enterprise_id=owner.pk)
    assert (balance.available_fen, balance.held_fen) == (10_000 - 800, 300)


def test_two_batches_cannot_spend_the_same_balance(owner):
    poor = enterprise("13900000007", topup_fen=1200)  # covers either file (8.00, 11.00), not both

    def upload(content: bytes) -> Callable[[], Any]:
        return lambda: services.bulk_batch_create(
            owner_id=poor.pk, file_name="a.csv", content=content
        )

    results = together(upload(FILE), upload(FILE + b"13800138031,DATA-500M\n"))
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and type(refused[0]).__name__ == "InsufficientPrepaidBalance"
    assert BulkBatch.objects.filter(owner=poor).count() == 1
    held = BulkRow.objects.filter(batch__owner=poor).exclude(status="invalid").count()
    assert billing.prepaid_balance(enterprise_id=poor.pk).available_fen == 1200 - (
        800 if held == 2 else 1100
    )
