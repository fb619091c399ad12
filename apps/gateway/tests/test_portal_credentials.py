"""Credentials through the portal: sandbox at once, production after approval, rotation, revoke."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.crypto import decrypt_text
from apps.core.models import AuditEvent
from apps.gateway.errors import CredentialLimitReached, CredentialNotFound, ProductionNotApproved
from apps.gateway.models import Credential
from apps.gateway.portal import services
from apps.gateway.portal.access import (
    app_credential_issue,
    app_credential_revoke,
    app_credential_rotate,
)
from apps.gateway.portal.errors import AppNotFound
from apps.gateway.portal.selectors import credentials_of
from apps.gateway.tests.portal_support import OTHER_LICENCE, approved_partner, operator

pytestmark = pytest.mark.django_db


def _credential_actions():
    return list(
        AuditEvent.objects.filter(object_type="gateway_credential")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_new_app_gets_a_sandbox_credential_stored_encrypted():
    partner = approved_partner()
    created = services.app_create(user_id=partner.owner_id, name="A")
    issued = created.credential
    row = Credential.objects.get()
    assert (row.app_id, row.environment, row.client_id) == (
        created.app.pk,
        "sandbox",
        issued.client_id,
    )
    assert issued.secret not in row.secret_encrypted
    assert decrypt_text(row.secret_encrypted) == issued.secret
    assert row.secret_hint == issued.secret[-4:]
    # A year from now, to the minute.
    assert abs(row.expires_at - (timezone.now() + timedelta(days=365))) < timedelta(minutes=1)
    assert _credential_actions() == ["gateway_credential.issued"]
    [listed] = credentials_of(app_id=created.app.pk)
    assert (listed.client_id, listed.secret_hint, listed.active) == (
        issued.client_id,
        row.secret_hint,
        True,
    )
    assert not hasattr(listed, "secret")


def test_at_most_two_active_per_environment_and_revoke_frees_a_slot():
    partner = approved_partner()
    app = services.app_create(user_id=partner.owner_id, name="A").app
    owner = partner.owner_id
    second = app_credential_issue(user_id=owner, app_id=app.pk, environment="sandbox")
    with pytest.raises(CredentialLimitReached):
        app_credential_issue(user_id=owner, app_id=app.pk, environment="sandbox")
    assert Credential.objects.filter(revoked_at__isnull=True).count() == 2
    assert app_credential_revoke(user_id=owner, app_id=app.pk, credential_id=second.id) is True
    assert app_credential_revoke(user_id=owner, app_id=app.pk, credential_id=second.id) is False
    app_credential_issue(user_id=owner, app_id=app.pk, environment="sandbox")
    assert Credential.objects.filter(revoked_at__isnull=True).count() == 2
    assert _credential_actions() == [
        "gateway_credential.issued",
        "gateway_credential.issued",
        "gateway_credential.revoked",
        "gateway_credential.issued",
    ]


def test_rotation_issues_a_successor_and_the_old_one_expires_in_a_day():
    partner = approved_partner()
    created = services.app_create(user_id=partner.owner_id, name="A")
    old_id = created.credential.id
    new = app_credential_rotate(
        user_id=partner.owner_id, app_id=created.app.pk, credential_id=old_id
    )
    old = Credential.objects.get(pk=old_id)
    assert old.revoked_at is None
    assert abs(old.expires_at - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    assert new.environment == "sandbox" and new.client_id != old.client_id
    # Both slots taken: rotating again refuses and leaves the expiries as they were.
    with pytest.raises(CredentialLimitReached):
        app_credential_rotate(user_id=partner.owner_id, app_id=created.app.pk, credential_id=new.id)
    assert Credential.objects.get(pk=new.id).expires_at > timezone.now() + timedelta(days=300)
    assert _credential_actions() == [
        "gateway_credential.issued",
        "gateway_credential.issued",
        "gateway_credential.expiry_set",
    ]


def test_production_credentials_only_after_approval():
    partner = approved_partner()
    app = services.app_create(user_id=partner.owner_id, name="A").app
    with pytest.raises(ProductionNotApproved):
        app_credential_issue(user_id=partner.owner_id, app_id=app.pk, environment="production")
    services.app_production_request(user_id=partner.owner_id, app_id=app.pk)
    services.app_production_review(app_id=app.pk, approve=True, actor_id=operator().pk)
    issued = app_credential_issue(user_id=partner.owner_id, app_id=app.pk, environment="production")
    assert issued.client_id.startswith("chlive_")
    assert Credential.objects.filter(environment="production").count() == 1


def test_another_companys_credentials_are_not_found():
    partner = approved_partner()
    created = services.app_create(user_id=partner.owner_id, name="A")
    stranger = approved_partner(licence_number=OTHER_LICENCE)
    mine = services.app_create(user_id=stranger.owner_id, name="B").app
    with pytest.raises(AppNotFound):
        app_credential_revoke(
            user_id=stranger.owner_id, app_id=created.app.pk, credential_id=created.credential.id
        )
    with pytest.raises(
        CredentialNotFound
    ):  # the right app id of their own, someone else's credential
        app_credential_revoke(
            user_id=stranger.owner_id, app_id=mine.pk, credential_id=created.credential.id
        )
    assert Credential.objects.get(pk=created.credential.id).revoked_at is None
