"""The settlement workbench pages open, and its forms go through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts.models import User
from apps.settlement.models import ReportExport, SettlementBatch, SettlementRule
from apps.settlement.services import today
from apps.settlement.tests.support import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(client) -> User:
    user = User.objects.create_superuser("13800138066")
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "model", ["settlementrule", "settlementbatch", "statement", "reportexport", "reconbatch",
              "recondifference"],
)  # fmt: skip
def test_each_page_opens(client, finance, model: str) -> None:
    assert client.get(f"/admin/settlement/{model}/").status_code == 200


def test_a_rule_is_added_through_the_service_and_a_past_date_refused(client, finance) -> None:
    fields = {"kind": "cp", "method": "tiered", "rate": "0", "unit_fee_fen": 0,
              "complaint_fee_fen": 0, "minimum_payout_fen": 10_000, "deduct_refunds": "on",
              "tiers_text": "0 0.5\n100000 0.6"}  # fmt: skip
    past = client.post("/admin/settlement/settlementrule/add/",
                       {**fields, "effective_from": (today() - dt.timedelta(days=1)).isoformat()})  # fmt: skip
    assert past.status_code == 200 and not SettlementRule.objects.exists()

    client.post("/admin/settlement/settlementrule/add/",
                {**fields, "effective_from": today().isoformat()})  # fmt: skip

    rule = SettlementRule.objects.get()
    assert (rule.tiers, rule.created_by_id) == ([[0, "0.5"], [100000, "0.6"]], finance.pk)


def test_a_batch_is_run_from_the_workbench(
    client, finance, django_capture_on_commit_callbacks
) -> None:
    post("cp", 1, 1_000)
    start = today().replace(day=1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/settlement/settlementbatch/add/", {
            "kind": "cp", "period_start": start.isoformat(),
            "period_end": (today() + dt.timedelta(days=1)).isoformat(),
        })  # fmt: skip
    batch = SettlementBatch.objects.get()
    assert (batch.status, batch.parties_done, batch.run_by_id) == ("done", 1, finance.pk)
    assert "1/1" in client.get("/admin/settlement/settlementbatch/").text


def test_a_report_is_requested_from_the_workbench(client, finance, settings, tmp_path,
                                                  django_capture_on_commit_callbacks) -> None:  # fmt: skip
    settings.SETTLEMENT_REPORTS_DIR = tmp_path
    post("cp", 1, 1_000)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/settlement/reportexport/add/", {
            "report": "trial_balance", "fmt": "csv", "start": today().isoformat(),
            "end": (today() + dt.timedelta(days=1)).isoformat(),
        })  # fmt: skip
    export = ReportExport.objects.get()
    assert (export.status, export.rows_written) == ("done", 2)
    download = client.get(f"/admin/settlement/reportexport/{export.pk}/file/")
    assert b"cp:1:payable" in b"".join(download.streaming_content)


def test_running_batches_again_needs_the_right_to_run_them(client, monkeypatch) -> None:
    """Seeing the batches is not enough to start one again (it was a view-permission action)."""
    from django.contrib.auth.models import Permission

    from apps.settlement import services, tasks

    post("cp", 1, 1_000)
    start = today().replace(day=1)
    batch_id = services.batch_run(
        kind="cp", period_start=start, period_end=today() + dt.timedelta(days=1)
    )
    queued: list[tuple[object, ...]] = []
    monkeypatch.setattr(tasks.settlement_batch_task, "delay", lambda *args: queued.append(args))
    action = {"action": "run_again", "_selected_action": [str(batch_id)]}

    viewer = User.objects.create_user("13800138067", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_settlementbatch"))
    client.force_login(viewer)
    client.post("/admin/settlement/settlementbatch/", action)
    assert queued == []

    runner = User.objects.create_superuser("13800138068")
    client.force_login(runner)
    client.post("/admin/settlement/settlementbatch/", action)
    assert len(queued) == 1
