"""Granting a role from another app's decision (the gateway's partner approval)."""

import pytest

from apps.accounts.services import user_role_grant
from apps.accounts.tests.factories import UserFactory
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_grant_adds_the_group_once_and_audits_once():
    user = UserFactory()
    assert user_role_grant(user_id=user.pk, role="partner", actor_id=7) is True
    assert user_role_grant(user_id=user.pk, role="partner", actor_id=7) is False
    assert list(user.groups.values_list("name", flat=True)) == ["partner"]
    events = AuditEvent.objects.filter(action="user.role_granted", object_id=str(user.pk))
    assert [(e.actor_id, e.after) for e in events] == [(7, {"role": "partner"})]


def test_unknown_role_is_refused_and_nothing_changes():
    user = UserFactory()
    with pytest.raises(ValueError, match="unknown role"):
        user_role_grant(user_id=user.pk, role="emperor")
    assert user.groups.count() == 0
    assert not AuditEvent.objects.filter(action="user.role_granted").exists()
