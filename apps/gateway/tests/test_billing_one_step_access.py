"""Who can give a partner one-step (no-code) carrier billing: only an operator, never the
partner itself from the developer portal; the flag takes its own permission and is audited."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.tests.factories import UserFactory
from apps.core.models import AuditEvent
from apps.gateway.billing import pre_authorised_billing
from apps.gateway.models import Package, Subscription
from apps.gateway.portal.access import app_subscribe
from apps.gateway.portal.errors import PackageOperatorAssigned
from apps.gateway.portal.selectors import packages_offered
from apps.gateway.tests.portal_support import partner_app

pytestmark = pytest.mark.django_db


def _package(code: str, *, one_step: bool) -> Package:
    return Package.objects.create(
        code=code, name=code, capabilities=["carrier-billing"], carrier_billing_one_step=one_step
    )


def _form(package: Package, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "code": package.code, "name": package.name, "description": "",
        "capabilities": package.capabilities, "quota_period": "month", "rate_per_second": "10",
        "price_fen": "0", "price_per_call_fen": "0", "is_active": "on",
    }  # fmt: skip
    data.update(changes)
    return data


@pytest.fixture
def operator(client):
    staff = UserFactory(phone="+8613800000078", is_staff=True)
    staff.groups.add(Group.objects.get(name="operator"))
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def superuser(client):
    boss = UserFactory(phone="+8613800000079", is_staff=True, is_superuser=True)
    client.force_login(boss)
    client.staff = boss
    return client


def test_the_portal_neither_offers_nor_subscribes_a_one_step_package():
    _package("billing", one_step=False)
    _package("billing-1step", one_step=True)
    assert [p.code for p in packages_offered()] == ["billing"]
    app = partner_app()
    with pytest.raises(PackageOperatorAssigned) as refused:
        app_subscribe(user_id=app.partner.owner_id, app_id=app.pk, package_code="billing-1step")
    assert (refused.value.code, refused.value.http_status) == ("PACKAGE_OPERATOR_ASSIGNED", 403)
    assert not Subscription.objects.exists()
    assert not pre_authorised_billing(app_id=app.pk)


def test_the_portal_api_refuses_a_posted_one_step_package(api_client):
    _package("billing-1step", one_step=True)
    app = partner_app()
    api_client.force_authenticate(app.partner.owner)
    assert api_client.get("/api/v1/developer/packages/").json() == []
    response = api_client.post(
        f"/api/v1/developer/apps/{app.pk}/subscriptions/",
        {"package": "billing-1step"},
        format="json",
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "PACKAGE_OPERATOR_ASSIGNED"
    assert not Subscription.objects.exists()


def test_an_operator_without_the_permission_cannot_switch_the_flag(operator):
    package = _package("billing", one_step=False)
    response = operator.post(
        f"/admin/gateway/package/{package.pk}/change/",
        _form(package, carrier_billing_one_step="on", name="renamed"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    package.refresh_from_db()
    assert (package.name, package.carrier_billing_one_step) == ("renamed", False)
    assert not AuditEvent.objects.filter(action="gateway_package.carrier_billing_one_step").exists()


def test_the_flag_change_takes_its_permission_and_is_audited(superuser):
    package = _package("billing", one_step=False)
    response = superuser.post(
        f"/admin/gateway/package/{package.pk}/change/",
        _form(package, carrier_billing_one_step="on"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    package.refresh_from_db()
    assert package.carrier_billing_one_step is True
    event = AuditEvent.objects.get(action="gateway_package.carrier_billing_one_step")
    assert (event.actor_id, event.object_id) == (superuser.staff.pk, str(package.pk))
    assert (event.before, event.after) == (
        {"carrier_billing_one_step": False},
        {"carrier_billing_one_step": True},
    )
    # Saved again unchanged: nothing new to audit.
    superuser.post(
        f"/admin/gateway/package/{package.pk}/change/",
        _form(package, carrier_billing_one_step="on", name="again"),
    )
    assert AuditEvent.objects.filter(action="gateway_package.carrier_billing_one_step").count() == 1


def test_an_operator_with_the_permission_assigns_the_package(superuser):
    package = _package("billing-1step", one_step=True)
    app = partner_app()
    response = superuser.post(
        "/admin/gateway/subscription/add/", {"app": str(app.pk), "package": str(package.pk)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = Subscription.objects.get()
    assert (subscription.app_id, subscription.package_id) == (app.pk, package.pk)
    assert AuditEvent.objects.filter(
        action="gateway_subscription.active", actor_id=superuser.staff.pk
    ).exists()
    assert pre_authorised_billing(app_id=app.pk)


def test_an_operator_without_the_permission_cannot_assign_it(operator):
    package = _package("billing-1step", one_step=True)
    app = partner_app()
    response = operator.post(
        "/admin/gateway/subscription/add/", {"app": str(app.pk), "package": str(package.pk)}
    )
    assert response.status_code == 403
    assert not Subscription.objects.exists()
