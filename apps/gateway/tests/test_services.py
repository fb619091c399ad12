"""Credential and subscription services under concurrency, with their audit trail."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.gateway import services
from apps.gateway.errors import CredentialLimitReached, GatewayStateConflict
from apps.gateway.models import Credential, Subscription
from apps.gateway.tests.support import gateway_app_create


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issues_cannot_both_take_the_last_slot():
    app = gateway_app_create()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def issue():
        barrier.wait()
        try:
            services.credential_issue(app_id=app.app_id, environment="sandbox")
            outcomes.append("issued")
        except CredentialLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["issued", "refused"]
    assert Credential.objects.filter(app_id=app.app_id, revoked_at__isnull=True).count() == 2


@pytest.mark.django_db
def test_the_database_refuses_a_third_active_credential_in_a_slot():
    from django.db import IntegrityError, transaction

    app = gateway_app_create()
    existing = Credential.objects.get(pk=app.credential_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        Credential.objects.create(
            app_id=app.app_id,
            environment="sandbox",
            slot=existing.slot,
            client_id="chsb_dup",
            secret_encrypted="x",
            secret_hint="x",
        )


@pytest.mark.django_db
def test_subscriptions_start_once_and_cancel_once():
    app = gateway_app_create()
    assert services.subscription_start(app_id=app.app_id, package_id=app.package_id) == (
        app.subscription_id
    )
    services.subscription_cancel(subscription_id=app.subscription_id)
    assert Subscription.objects.get(pk=app.subscription_id).status == "cancelled"
    with pytest.raises(GatewayStateConflict):
        services.subscription_cancel(subscription_id=app.subscription_id)
