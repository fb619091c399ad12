"""The operator's workbench for the gateway: reviews with reasons, packages, the dashboard."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.core.models import AuditEvent
from apps.gateway.models import App, Credential, Package, Partner, UsageHourly
from apps.gateway.portal import services
from apps.gateway.tests.portal_support import OTHER_LICENCE, approved_partner, registered_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    staff = UserFactory(phone="+8613800000077", is_staff=True)
    staff.groups.add(Group.objects.get(name="operator"))
    client.force_login(staff)
    client.staff = staff
    return client


def _action(client, model, action, ids, **extra):
    return client.post(
        f"/admin/gateway/{model}/",
        {"action": action, "_selected_action": [str(i) for i in ids], "index": "0", **extra},
    )


def test_operator_approves_a_registration(operator_client):
    partner = registered_partner()
    response = _action(operator_client, "partner", "approve", [partner.pk])
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.status, partner.reviewed_by_id) == ("approved", operator_client.staff.pk)
    assert partner.owner.groups.filter(name="partner").exists()
    assert (
        AuditEvent.objects.filter(
            action="gateway_partner.approved", actor_id=operator_client.staff.pk
        ).count()
        == 1
    )


def test_rejection_asks_for_a_reason_first(operator_client):
    partner = registered_partner()
    page = _action(operator_client, "partner", "reject", [partner.pk])
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert Partner.objects.get().status == "pending"
    # Sent back without a reason: asked again, nothing decided.
    again = operator_client.post(
        "/admin/gateway/partner/",
        {"action": "reject", "_selected_action": [str(partner.pk)], "apply": "1", "reason": " "},
    )
    assert again.status_code == 200
    assert Partner.objects.get().status == "pending"
    done = operator_client.post(
        "/admin/gateway/partner/",
        {
            "action": "reject",
            "_selected_action": [str(partner.pk)],
            "apply": "1",
            "reason": "执照已过期",
        },
    )
    assert done.status_code == 302
    partner.refresh_from_db()
    assert (partner.status, partner.reject_reason) == ("rejected", "执照已过期")
    assert AuditEvent.objects.get(action="gateway_partner.rejected").after["reason"] == "执照已过期"


def test_production_review_and_credential_revoke(operator_client):
    partner = approved_partner()
    created = services.app_create(user_id=partner.owner_id, name="A")
    app = created.app
    services.app_production_request(user_id=partner.owner_id, app_id=app.pk)
    _action(operator_client, "app", "approve_production", [app.pk])
    app.refresh_from_db()
    assert app.production_status == "approved"
    _action(operator_client, "credential", "revoke", [created.credential.id])
    assert Credential.objects.get(pk=created.credential.id).revoked_at is not None
    assert AuditEvent.objects.filter(
        action="gateway_credential.revoked", actor_id=operator_client.staff.pk
    ).exists()
    # The change form shows no secret and cannot be edited.
    page = operator_client.get(f"/admin/gateway/credential/{created.credential.id}/change/")
    assert page.status_code == 200
    assert (
        Credential.objects.get(pk=created.credential.id).secret_encrypted
        not in page.content.decode()
    )


def test_operator_defines_a_package(operator_client):
    response = operator_client.post(
        "/admin/gateway/package/add/",
        {"code": "sms-pro", "name": "短信专业版", "description": "", "capabilities": ["sms", "sim-swap"],
         "quota_calls": "100000", "quota_period": "month", "rate_per_second": "50",
         "price_fen": "99900", "price_per_call_fen": "3", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    package = Package.objects.get(code="sms-pro")
    assert (package.capabilities, package.quota_calls, package.price_fen) == (
        ["sms", "sim-swap"],
        100_000,
        99_900,
    )
    bad = operator_client.post(
        "/admin/gateway/package/add/",
        {"code": "x", "name": "x", "capabilities": ["teleport"], "quota_period": "month",
         "rate_per_second": "1", "price_fen": "0", "price_per_call_fen": "0"},
    )  # fmt: skip
    assert bad.status_code == 200 and not Package.objects.filter(code="x").exists()


def test_dashboard_lists_pending_requests_and_top_apps(operator_client):
    pending = registered_partner(licence_number=OTHER_LICENCE)
    partner = approved_partner()
    busy = services.app_create(user_id=partner.owner_id, name="忙碌应用").app
    quiet = services.app_create(user_id=partner.owner_id, name="安静应用").app
    services.app_production_request(user_id=partner.owner_id, app_id=quiet.pk)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    for app, calls in [(busy, 900), (quiet, 40)]:
        UsageHourly.objects.create(
            app_id=app.pk, partner_id=partner.pk, environment="sandbox", capability="sms", hour=hour,
            calls=calls, errors=1, latency_sum_us=calls * 1000, latency_buckets=[calls] + [0] * 12,
        )  # fmt: skip
    page = operator_client.get("/admin/gateway/partner/dashboard/")
    assert page.status_code == 200
    board = page.context["board"]
    assert [p.pk for p in board.pending_partners] == [pending.pk]
    assert [a.pk for a in board.production_requests] == [quiet.pk]
    assert [(t.app_name, t.calls, t.errors) for t in board.top_apps] == [
        ("忙碌应用", 900, 1),
        ("安静应用", 40, 1),
    ]
    assert board.report.calls == 940
    assert 'id="gateway-usage"' in page.content.decode()


def test_consumers_cannot_open_the_gateway_workbench(client):
    client.force_login(UserFactory())
    assert client.get("/admin/gateway/partner/dashboard/").status_code == 302
    partner = registered_partner()
    _action(client, "partner", "approve", [partner.pk])
    assert Partner.objects.get().status == "pending"
    assert App.objects.count() == 0
