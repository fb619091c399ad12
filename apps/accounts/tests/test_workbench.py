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


@pytest.fixture
def operator_client(client):
    operator = User.objects.create_user("13800000002", "pw", is_staff=True)
    operator.groups.add(Group.objects.get(name="operator"))
    client.force_login(operator)
    return client


def _change(client, user, **fields):
    data = {
        "phone": user.phone,
        "nickname": user.nickname,
        "is_active": "on" if user.is_active else "",
        "real_name-TOTAL_FORMS": "0",
        "real_name-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return client.post(
        f"/admin/accounts/user/{user.pk}/change/", {k: v for k, v in data.items() if v != ""}
    )


def test_an_operator_cannot_take_over_a_superuser(operator_client):
    boss = User.objects.create_superuser("13800000009", "boss-pw")
    assert _change(operator_client, boss, phone="13800000002").status_code == 403
    assert _change(operator_client, boss, is_active="").status_code == 403
    password = operator_client.post(
        f"/admin/accounts/user/{boss.pk}/password/",
        {"password1": "Take-0ver-now", "password2": "Take-0ver-now", "usable_password": "true"},
    )
    assert password.status_code == 403
    boss.refresh_from_db()
    assert (boss.phone, boss.is_active, boss.check_password("boss-pw")) == (
        "+8613800000009",
        True,
        True,
    )


def test_an_operator_cannot_change_another_staff_account(operator_client):
    finance = User.objects.create_user("13800000008", "fin-pw", is_staff=True)
    assert _change(operator_client, finance, phone="13800000007").status_code == 403
    finance.refresh_from_db()
    assert finance.phone == "+8613800000008"


def test_an_operator_still_edits_a_consumer(operator_client):
    consumer = User.objects.create_user("13800000006")
    response = _change(operator_client, consumer, nickname="小王")
    assert response.status_code == 302
    consumer.refresh_from_db()
    assert consumer.nickname == "小王"


def test_a_superuser_edits_staff_accounts(admin_client):
    finance = User.objects.create_user("13800000008", "fin-pw", is_staff=True)
    response = _change(admin_client, finance, phone="13800000007", is_staff="on")
    assert response.status_code == 302
    finance.refresh_from_db()
    assert finance.phone == "+8613800000007"
