"""Bulk distribution: validation, exactly-once delivery, the same file twice, retries, money."""

from __future__ import annotations

import pytest

from apps.core.models import AuditEvent
from apps.enterprise import billing, selectors, services
from apps.enterprise.errors import (
    BulkBatchBusy,
    BulkFileInvalid,
    InsufficientPrepaidBalance,
    NothingToRetry,
)
from apps.enterprise.models import BulkBatch, BulkRow
from apps.enterprise.tests.bulk_support import data_packs, enterprise, sandbox_packs
from apps.ledger.models import Journal
from apps.ledger.selectors import account_balance

pytestmark = pytest.mark.django_db

FILE = (
    "手机号,流量包\n"
    "13800138001,DATA-1G\n"
    "13800138002,DATA-500M\n"
    "12345,DATA-1G\n"
    "13800138003,NOPE\n"
    "138 0013 8001,DATA-1G\n"
    "13800138004,DATA-1G\n"
    "\n"
).encode()


@pytest.fixture
def arranged(carrier_sandbox):
    data_packs()
    for number in ("+8613800138001", "+8613800138002", "+8613800138003"):
        carrier_sandbox.put_subscriber(number, status="active")
    carrier_sandbox.put_subscriber("+8613800138004", status="suspended")
    return enterprise()


def _rows(batch_no: str) -> list[tuple[int, str, str, str, int]]:
    return list(
        BulkRow.objects.filter(batch__batch_no=batch_no)
        .order_by("row_no")
        .values_list("row_no", "msisdn", "status", "error_code", "price_fen")
    )


def _create(owner, content: bytes = FILE, capture=None):
    with capture(execute=True):
        return services.bulk_batch_create(owner_id=owner.pk, file_name="list.csv", content=content)


def test_bad_rows_are_reported_and_good_rows_delivered_once(
    arranged, django_capture_on_commit_callbacks
):
    created = _create(arranged, capture=django_capture_on_commit_callbacks)
    assert created.created
    assert _rows(created.batch_no) == [
        (2, "+8613800138001", "delivered", "", 500),
        (3, "+8613800138002", "delivered", "", 300),
        (4, "", "invalid", "INVALID_PHONE_NUMBER", 0),
        (5, "+8613800138003", "invalid", "UNKNOWN_PACK", 0),
        (6, "+8613800138001", "invalid", "DUPLICATE_OF_LINE_2", 0),
        (7, "+8613800138004", "failed", "SUBSCRIBER_NOT_ACTIVE", 500),
    ]
    assert [mb for _, mb in sandbox_packs("+8613800138001", created.batch_no)] == [1024]
    assert [mb for _, mb in sandbox_packs("+8613800138002", created.batch_no)] == [500]
    assert sandbox_packs("+8613800138004", created.batch_no) == []
    progress = selectors.batch_progress(batch_no=created.batch_no, owner_id=arranged.pk)
    assert (progress.status, progress.total, progress.delivered, progress.failed) == (
        "completed",
        6,
        2,
        1,
    )
    assert (progress.invalid, progress.pending, progress.charged_fen, progress.percent) == (
        3,
        0,
        800,
        100,
    )
    # Money: 13.00 held for the three valid rows, 8.00 earned, 5.00 back for the failed one.
    balance = billing.prepaid_balance(enterprise_id=arranged.pk)
    assert (balance.available_fen, balance.held_fen) == (10_000 - 800, 0)
    assert list(Journal.objects.filter(reference=created.batch_no).order_by("id").values_list("kind", flat=True)) == [
        "bulk_hold", "bulk_charge", "bulk_charge", "bulk_release",
    ]  # fmt: skip
    # Running every row again delivers and charges nothing more.
    for row_id in BulkRow.objects.filter(batch__batch_no=created.batch_no).values_list(
        "pk", flat=True
    ):
        services.bulk_row_deliver(row_id=row_id)
    assert len(sandbox_packs("+8613800138001", created.batch_no)) == 1
    assert Journal.objects.filter(reference=created.batch_no).count() == 4


def test_the_same_file_again_returns_the_first_batch_and_delivers_nothing(
    arranged, django_capture_on_commit_callbacks
):
    first = _create(arranged, capture=django_capture_on_commit_callbacks)
    journals, applied = Journal.objects.count(), len(sandbox_packs("+8613800138001"))
    again = _create(arranged, capture=django_capture_on_commit_callbacks)
    assert (again.batch_no, again.created) == (first.batch_no, False)
    assert BulkBatch.objects.count() == 1
    assert BulkRow.objects.count() == 6
    assert Journal.objects.count() == journals
    assert len(sandbox_packs("+8613800138001")) == applied
    assert len(sandbox_packs("+8613800138001", first.batch_no)) == 1
    # Another enterprise's identical file is its own batch.
    other = enterprise("13900000002")
    assert _create(other, capture=django_capture_on_commit_callbacks).created


def test_retry_sends_only_the_failed_rows_under_their_first_keys(
    arranged, carrier_sandbox, django_capture_on_commit_callbacks
):
    created = _create(arranged, capture=django_capture_on_commit_callbacks)
    failed_key = BulkRow.objects.get(batch__batch_no=created.batch_no, row_no=7).idempotency_key
    carrier_sandbox.put_subscriber("+8613800138004", status="active")
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.bulk_batch_retry_failed(
            batch_no=created.batch_no, owner_id=arranged.pk, actor_id=arranged.pk
        )
    assert retried == 1
    assert [s for _, _, s, _, _ in _rows(created.batch_no)] == [
        "delivered", "delivered", "invalid", "invalid", "invalid", "delivered",
    ]  # fmt: skip
    assert sandbox_packs("+8613800138004", created.batch_no) == [(failed_key, 1024)]
    assert (
        len(sandbox_packs("+8613800138001", created.batch_no)) == 1
    )  # the delivered rows were not sent again
    balance = billing.prepaid_balance(enterprise_id=arranged.pk)
    assert (balance.available_fen, balance.held_fen) == (10_000 - 1300, 0)
    assert account_balance(code="platform:revenue") == -1300
    batch = BulkBatch.objects.get(batch_no=created.batch_no)
    assert (batch.status, batch.retry_round) == ("completed", 1)
    with pytest.raises(NothingToRetry):
        services.bulk_batch_retry_failed(
            batch_no=created.batch_no, owner_id=arranged.pk, actor_id=None
        )


def test_retry_of_a_running_batch_is_refused(arranged):
    created = services.bulk_batch_create(owner_id=arranged.pk, file_name="a.csv", content=FILE)
    # Not captured: the delivery tasks never ran, so the batch is still running.
    with pytest.raises(BulkBatchBusy):
        services.bulk_batch_retry_failed(
            batch_no=created.batch_no, owner_id=arranged.pk, actor_id=None
        )


def test_a_row_failing_twice_releases_its_price_twice_after_two_holds(
    arranged, django_capture_on_commit_callbacks
):
    created = _create(arranged, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.bulk_batch_retry_failed(
            batch_no=created.batch_no, owner_id=arranged.pk, actor_id=None
        )
    row = BulkRow.objects.get(batch__batch_no=created.batch_no, row_no=7)
    assert (row.status, row.failures, row.attempts) == ("failed", 2, 2)
    kinds = list(Journal.objects.filter(reference=created.batch_no).values_list("kind", flat=True))
    assert sorted(kinds) == sorted(
        ["bulk_hold", "bulk_charge", "bulk_charge", "bulk_release", "bulk_hold", "bulk_release"]
    )
    balance = billing.prepaid_balance(enterprise_id=arranged.pk)
    assert (balance.available_fen, balance.held_fen) == (10_000 - 800, 0)


def test_a_balance_short_of_the_valid_rows_refuses_the_file_and_writes_nothing(arranged):
    poor = enterprise("13900000003", topup_fen=700)
    with pytest.raises(InsufficientPrepaidBalance) as refused:
        services.bulk_batch_create(owner_id=poor.pk, file_name="a.csv", content=FILE)
    assert refused.value.details == {"needed_fen": 1300, "available_fen": 700}
    assert not BulkBatch.objects.exists()
    assert not BulkRow.objects.exists()
    assert billing.prepaid_balance(enterprise_id=poor.pk).available_fen == 700


@pytest.mark.parametrize(
    "content",
    [b"", b"name,city\nzhang,beijing\n", "手机号,流量包\n".encode(), b"\xff\xfe\x00garbage\x00"],
)
def test_an_unreadable_file_is_refused(arranged, content):
    with pytest.raises(BulkFileInvalid):
        services.bulk_batch_create(owner_id=arranged.pk, file_name="a.csv", content=content)
    assert not BulkBatch.objects.exists()


def test_an_xlsx_file_reads_like_the_csv(arranged, django_capture_on_commit_callbacks):
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["number", "pack"])
    sheet.append([13800138001, "DATA-500M"])  # typed in as a number
    sheet.append(["13800138002", "DATA-1G"])
    out = io.BytesIO()
    book.save(out)
    with django_capture_on_commit_callbacks(execute=True):
        created = services.bulk_batch_create(
            owner_id=arranged.pk, file_name="a.xlsx", content=out.getvalue()
        )
    assert _rows(created.batch_no) == [
        (2, "+8613800138001", "delivered", "", 300),
        (3, "+8613800138002", "delivered", "", 500),
    ]


def test_results_csv_lists_every_row(arranged, django_capture_on_commit_callbacks):
    created = _create(arranged, capture=django_capture_on_commit_callbacks)
    lines = "".join(selectors.batch_results_csv(batch_no=created.batch_no, owner_id=arranged.pk))
    body = lines.lstrip("\ufeff").splitlines()
    assert body[0] == "line,number,pack,status,error_code,price_fen,carrier_request_id"
    assert body[3] == "4,12345,DATA-1G,invalid,INVALID_PHONE_NUMBER,0,"
    assert body[6].startswith("7,+8613800138004,DATA-1G,failed,SUBSCRIBER_NOT_ACTIVE,500,")
    assert body[1].split(",")[6].startswith("BO")


def test_topup_is_once_per_reference(arranged):
    again = billing.enterprise_topup(
        enterprise_id=arranged.pk, amount_fen=10_000, reference=f"BANK-{arranged.pk}", actor_id=1
    )
    assert again.journal_id is not None
    assert billing.prepaid_balance(enterprise_id=arranged.pk).available_fen == 10_000
    assert AuditEvent.objects.filter(action="bulk.enterprise_topup").count() == 1


def test_the_sweep_finishes_rows_left_in_flight_and_fails_those_out_of_attempts(
    arranged, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    created = services.bulk_batch_create(owner_id=arranged.pk, file_name="a.csv", content=FILE)
    # As if a worker died mid-row: rows 2 and 3 in flight for ten minutes, row 3 out of attempts.
    old = timezone.now() - timedelta(minutes=10)
    rows = BulkRow.objects.filter(batch__batch_no=created.batch_no)
    rows.filter(row_no__in=[2, 3, 7]).update(status="delivering", attempts=1, updated_at=old)
    rows.filter(row_no=3).update(attempts=services.MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bulk_rows_retry_stuck() == 3
    assert [(n, s, e) for n, _, s, e, _ in _rows(created.batch_no)] == [
        (2, "delivered", ""), (3, "failed", "CARRIER_UNAVAILABLE"), (4, "invalid", "INVALID_PHONE_NUMBER"),
        (5, "invalid", "UNKNOWN_PACK"), (6, "invalid", "DUPLICATE_OF_LINE_2"), (7, "failed", "SUBSCRIBER_NOT_ACTIVE"),
    ]  # fmt: skip
    assert sandbox_packs("+8613800138002", created.batch_no) == []
    assert BulkBatch.objects.get(batch_no=created.batch_no).status == "completed"
    balance = billing.prepaid_balance(enterprise_id=arranged.pk)
    assert (balance.available_fen, balance.held_fen) == (10_000 - 500, 0)


def test_the_sweep_leaves_a_batch_that_is_still_moving(arranged):
    created = services.bulk_batch_create(owner_id=arranged.pk, file_name="a.csv", content=FILE)
    from datetime import timedelta

    from django.utils import timezone

    rows = BulkRow.objects.filter(batch__batch_no=created.batch_no)
    rows.filter(row_no=2).update(updated_at=timezone.now() - timedelta(hours=1))  # waiting long
    rows.filter(row_no=3).update(status="delivered")  # but another row just moved
    assert services.bulk_rows_retry_stuck() == 0
    assert rows.get(row_no=2).status == "pending"
