"""The risk workbench: dashboard, CSV import, rule drafting (refused when invalid), moves, backtest,
holds (answered only with the change permission, once), cases (refunds only with finance's right)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import RequestFactory
from django.utils import timezone

from apps.core.models import AuditEvent, OutboxEvent
from apps.risk import services
from apps.risk.admin import HoldAdmin
from apps.risk.events import Event, Kind
from apps.risk.models import Case, Hold, ListEntry, Rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("13900000001", password="x")
    client.force_login(user)
    return user


def test_the_dashboard_counts_decisions_reasons_and_queues(client, operator):
    services.list_entry_add(
        action="block", dimension="msisdn", value="13800000030", reason="t", actor_id=None
    )
    services.decide(event=Event(kind=Kind.SIGN_IN, msisdn="13800000030"))
    from apps.risk.recorder import decisions_flush

    decisions_flush()
    Hold.objects.create(
        owner="payments",
        reference="k",
        kind="payment_start",
        decision_id="8a7f5d2e-0d5c-4c1e-9b7a-2f0e8d8b1a11",
    )

    html = client.get("/admin/risk/hold/dashboard/").content.decode()

    assert "LIST_BLOCK_MSISDN" in html and "sign_in" in html
    assert "<strong>1</strong>" in html  # the review queue
    assert 'href="/admin/analytics/risk/"' in html  # the decisions over time, charted


def test_a_csv_import_in_the_workbench_names_the_bad_line_and_writes_nothing(client, operator):
    bad = SimpleUploadedFile("l.csv", b"block,msisdn,13800000031,fraud\nblock,ip,nope,x\n")
    good = SimpleUploadedFile("l.csv", "block,prefix,170,虚商号段\n".encode())

    refused = client.post("/admin/risk/listentry/import/", {"file": bad})
    done = client.post("/admin/risk/listentry/import/", {"file": good})

    assert refused.status_code == 200 and "Line 2" in refused.content.decode()
    assert done.status_code == 302
    entry = ListEntry.objects.get()
    assert (entry.dimension, entry.value, entry.source, entry.added_by_id) == (
        "prefix",
        "170",
        "csv",
        operator.pk,
    )


def test_a_rule_is_drafted_moved_with_why_and_backtested_in_the_workbench(client, operator):
    form = {
        "code": "big",
        "expression": "amount_fen >",
        "outcome": "block",
        "reason_code": "BIG",
        "why": "fraud wave",
    }
    refused = client.post("/admin/risk/rule/new/", form)
    assert "does not parse" in refused.content.decode() and not Rule.objects.exists()

    made = client.post(
        "/admin/risk/rule/new/", {**form, "expression": "amount_fen > 100", "kinds": ["checkout"]}
    )
    rule = Rule.objects.get()
    assert made.status_code == 302 and rule.state == "draft"
    client.post(
        f"/admin/risk/rule/{rule.pk}/manage/", {"move": "1", "to": "shadow", "why": "watch first"}
    )
    services.decide(event=Event(kind=Kind.CHECKOUT, amount_fen=500))
    from apps.risk.recorder import decisions_flush

    decisions_flush()
    page = client.get(f"/admin/risk/rule/{rule.pk}/manage/").content.decode()
    tested = client.post(
        f"/admin/risk/rule/{rule.pk}/manage/",
        {"backtest": "1", "start": "2000-01-01 00:00", "end": "2100-01-01 00:00"},
    )

    rule.refresh_from_db()
    assert rule.state == "shadow"
    assert AuditEvent.objects.filter(
        object_type="risk_rule", action="risk_rule.shadow", actor_id=operator.pk
    ).exists()
    assert "<td>1</td><td>1</td>" in page  # fired once in shadow, on an allowed event
    assert (
        tested.status_code == 200
        and "<th>Hits</th><td>1</td>" in tested.content.decode().replace("命中", "Hits")
    )


def test_holds_are_released_or_refused_from_the_queue(client, operator):
    hold = Hold.objects.create(
        owner="payments",
        reference="k",
        kind="payment_start",
        decision_id="8a7f5d2e-0d5c-4c1e-9b7a-2f0e8d8b1a11",
    )

    client.post("/admin/risk/hold/", {"action": "refuse", "_selected_action": [hold.pk]})

    hold.refresh_from_db()
    assert (hold.status, hold.decided_by_id) == ("refused", operator.pk)


def _held() -> Hold:
    return Hold.objects.create(
        owner="payments",
        reference="k",
        kind="payment_start",
        decision_id="8a7f5d2e-0d5c-4c1e-9b7a-2f0e8d8b1a11",
    )


def _staff(phone: str, *codenames: str, groups: tuple[str, ...] = ()) -> Any:
    user = get_user_model().objects.create_user(phone, password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    user.groups.add(*Group.objects.filter(name__in=groups))
    return get_user_model().objects.get(pk=user.pk)  # no cached permissions


def test_a_viewer_of_the_queue_may_not_release_or_refuse_a_hold(client):
    """Releasing lets a content charge, SMS batch, checkout or payment through: looking at the
    queue is not enough, the change permission on holds is needed, and the action checks it."""
    hold = _held()
    viewer = _staff("13900000011", "view_hold")
    client.force_login(viewer)

    page = client.get("/admin/risk/hold/").content.decode()
    for action in ("release", "refuse"):
        client.post("/admin/risk/hold/", {"action": action, "_selected_action": [hold.pk]})
    hold.refresh_from_db()
    assert (hold.status, hold.decided_by_id) == ("held", None)
    assert 'value="release"' not in page and 'value="refuse"' not in page

    request = RequestFactory().post("/admin/risk/hold/")
    request.user, request._messages = viewer, CookieStorage(request)
    with pytest.raises(PermissionDenied):  # the action itself refuses, not only the list
        HoldAdmin(Hold, admin.site).release(request, Hold.objects.filter(pk=hold.pk))
    hold.refresh_from_db()
    assert hold.status == "held"
    assert not AuditEvent.objects.filter(object_type="risk_hold").exists()


def test_the_risk_role_releases_a_hold(client):
    hold = _held()
    client.force_login(_staff("13900000012", groups=("risk",)))

    client.post("/admin/risk/hold/", {"action": "release", "_selected_action": [hold.pk]})

    hold.refresh_from_db()
    assert hold.status == "released"


def _open_case() -> Case:
    return Case.objects.create(
        anomaly="complaint_rate", subject="cp_id:7", day=timezone.localdate(), title="t",
        references=["CC-1"],
    )  # fmt: skip


def _close_form(outcome: str) -> dict[str, str]:
    return {"assignee": "", "notes": "n", "outcome": outcome}


def test_closing_a_case_as_refunds_issued_needs_finances_refund_approval(client):
    """ "Refunds issued" pays back the linked payments without finance's approval: a risk user
    without ``payments.change_refund`` is refused with a form error and nothing changes."""
    case = _open_case()
    client.force_login(_staff("13900000013", groups=("risk",)))

    refused = client.post(f"/admin/risk/case/{case.pk}/change/", _close_form("refunds"))
    other = client.post(f"/admin/risk/case/{case.pk}/change/", _close_form("no_action"))

    assert refused.status_code == 200
    assert "outcome" in refused.context["adminform"].form.errors
    assert other.status_code == 302  # other outcomes stay with risk
    case.refresh_from_db()
    assert (case.status, case.outcome, case.notes) == ("closed", "no_action", "n")
    assert not OutboxEvent.objects.filter(
        topic="risk.case.closed", payload__outcome="refunds"
    ).exists()


def test_a_user_who_may_approve_refunds_closes_a_case_as_refunds_issued(client):
    case = _open_case()
    user = _staff("13900000014", groups=("risk", "finance"))
    client.force_login(user)

    done = client.post(f"/admin/risk/case/{case.pk}/change/", _close_form("refunds"))

    assert done.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "refunds")
    event = OutboxEvent.objects.get(topic="risk.case.closed")
    assert (event.payload["outcome"], event.payload["actor_id"]) == ("refunds", user.pk)


@pytest.mark.django_db(transaction=True)
def test_two_operators_answering_one_hold_at_once_get_a_message_not_an_error(client):
    """Operator B has the hold row locked and answered (not yet committed) when operator A's
    refusal reaches it: A waits on the lock, then finds it answered and is told so."""
    hold = _held()
    first, second = _staff("13900000015", groups=("risk",)), _staff("13900000016", groups=("risk",))
    client.force_login(first)
    assert client.get("/admin/risk/hold/").status_code == 200  # warm: the race is the point
    answered: dict[str, Any] = {}

    def operator_a() -> None:
        try:
            answered["page"] = client.post(
                "/admin/risk/hold/",
                {"action": "refuse", "_selected_action": [hold.pk]},
                follow=True,
            )
        except Exception as exc:  # the test reports what the operator met
            answered["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=operator_a)
    with transaction.atomic():
        services.hold_answer(hold_id=hold.pk, release=True, actor_id=second.pk, note="b")
        thread.start()
        deadline = time.monotonic() + 60
        while not _waiting_on_a_lock() and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_a_lock(), f"operator A never reached the hold's row lock: {answered}"
    thread.join(60)

    assert "error" not in answered, answered.get("error")
    page = answered["page"]
    assert page.status_code == 200
    html = page.content.decode()
    assert "already answered" in html or "已被他人处理" in html
    hold.refresh_from_db()
    assert (hold.status, hold.decided_by_id) == ("released", second.pk)


def _waiting_on_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one snapshot per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])
