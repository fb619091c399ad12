"""Payments workbench: who may ask the provider for a payment's state."""

import pytest
from django.contrib.auth.models import Group, Permission

from apps.accounts.models import User

pytestmark = pytest.mark.django_db


def _staff(client, phone, *groups):
    user = User.objects.create_user(phone, "pw", is_staff=True)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    client.force_login(user)
    return user


def _actions(client) -> set[str]:
    response = client.get("/admin/payments/paymentintent/")
    assert response.status_code == 200
    form = response.context["action_form"]
    return {choice[0] for choice in form.fields["action"].choices} if form else set()


def test_view_permission_alone_does_not_offer_the_provider_query(client):
    user = _staff(client, "13800000011")
    user.user_permissions.add(Permission.objects.get(codename="view_paymentintent"))
    assert "query_provider" not in _actions(client)


@pytest.mark.parametrize("role", ["operator", "finance"])
def test_operator_and_finance_may_query_the_provider(client, role):
    _staff(client, "13800000012", role)
    assert "query_provider" in _actions(client)
