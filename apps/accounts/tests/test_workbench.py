"""The workbench: users added by number in any format, role permissions, token revocation."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts import services
from apps.accounts.models import ApiToken, User
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("13800000000", "pw"))
    return client


def test_adding_a_user_stores_e164(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/", {"phone": "139 1234 5678", "usable_password": "false"}
    )
    assert response.status_code == 302
    assert User.objects.filter(phone="+8613912345678").exists()
    bad = admin_client.post(
        "/admin/accounts/user/add/", {"phone": "12345", "usable_password": "false"}
    )
    assert bad.status_code == 200
    assert "有效的手机号码" in bad.content.decode()


def test_roles_have_their_permissions():
    operator = Group.objects.get(name="operator")
    finance = Group.objects.get(name="finance")
    operator_perms = set(operator.permissions.values_list("codename", flat=True))
    finance_perms = set(finance.permissions.values_list("codename", flat=True))
    assert {"change_product", "add_shelf", "view_smsmessage", "view_auditevent"} <= operator_perms
    assert "view_product" in finance_perms
    assert "change_product" not in finance_perms
    assert not Group.objects.get(name="consumer").permissions.exists()


def test_finance_staff_sees_the_catalog_read_only(client):
    user = User.objects.create_user("13800000001", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="finance"))
    client.force_login(user)
    assert client.get("/admin/catalog/product/").status_code == 200
    assert client.get("/admin/catalog/product/add/").status_code == 403


def test_workbench_revokes_tokens_with_an_audit_event(admin_client):
    user = User.objects.create_user("13800138000")
    token, record = services.api_token_issue(user_id=user.pk)
    response = admin_client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [record.pk]}
    )
    assert response.status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    assert services.api_token_authenticate(token=token) is None
    assert (
        AuditEvent.objects.filter(action="api_token.revoked", object_id=str(record.pk)).count() == 1
    )


def test_operators_cannot_make_superusers(client):
    operator = User.objects.create_user("13800000002", "pw", is_staff=True)
    operator.groups.add(Group.objects.get(name="operator"))
    client.force_login(operator)
    page = client.get(f"/admin/accounts/user/{operator.pk}/change/")
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
