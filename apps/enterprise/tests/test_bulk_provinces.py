"""A batch across provinces: one province's BOSS down holds back only its own rows."""

from __future__ import annotations

import pytest

from apps.carrier.breaker import breaker_half_open, breaker_state
from apps.carrier.errors import ProvinceUnavailable
from apps.enterprise import services
from apps.enterprise.models import BulkRow
from apps.enterprise.tests.bulk_support import data_packs, enterprise, sandbox_packs
from apps.ledger.models import Journal

pytestmark = pytest.mark.django_db

# 134 0000… is Beijing's and 134 5806… Guangdong's in apps/carrier/data/segments.csv.
BEIJING, GUANGDONG = "+8613400001001", "+8613458061001"
FILE = f"手机号,流量包\n{BEIJING[3:]},DATA-1G\n{GUANGDONG[3:]},DATA-1G\n".encode()


def test_rows_of_a_failing_province_wait_while_the_others_are_delivered(
    carrier_sandbox, settings, django_capture_on_commit_callbacks
):
    # Given Guangdong's BOSS answers every request with an error
    settings.CARRIER_MAX_ATTEMPTS = 1
    settings.CARRIER_BREAKER_FAILURES = 2
    data_packs()
    for number in (BEIJING, GUANGDONG):
        carrier_sandbox.put_subscriber(number, status="active")
    carrier_sandbox.set_province_knobs("gd", error_rate=1.0)
    owner = enterprise()

    # When a file with a Beijing and a Guangdong number is uploaded
    with django_capture_on_commit_callbacks(execute=True):
        created = services.bulk_batch_create(owner_id=owner.pk, file_name="a.csv", content=FILE)

    # Then Beijing's row is delivered, Guangdong's waits (not failed: no money back yet), and
    # Guangdong's breaker is open, so sending again is refused without a call
    rows = dict(BulkRow.objects.values_list("msisdn", "status"))
    assert rows == {BEIJING: "delivered", GUANGDONG: "delivering"}
    assert [mb for _, mb in sandbox_packs(BEIJING, created.batch_no)] == [1024]
    assert sandbox_packs(GUANGDONG, created.batch_no) == []
    assert breaker_state(province="gd") == "open"
    gd_row = BulkRow.objects.get(msisdn=GUANGDONG)
    with pytest.raises(ProvinceUnavailable):
        services.bulk_row_deliver(row_id=gd_row.pk)
    assert sandbox_packs(GUANGDONG, created.batch_no) == []

    # When Guangdong is back and its breaker lets a probe through, the row goes once
    carrier_sandbox.set_province_knobs("gd")
    breaker_half_open(province="gd")
    assert services.bulk_row_deliver(row_id=gd_row.pk) == "delivered"
    assert services.bulk_row_deliver(row_id=gd_row.pk) == "delivered"
    assert [mb for _, mb in sandbox_packs(GUANGDONG, created.batch_no)] == [1024]
    assert breaker_state(province="gd") == "closed"
    charges = Journal.objects.filter(reference=created.batch_no, kind="bulk_charge").count()
    assert charges == 2
