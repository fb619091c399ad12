"""A subscription made in one process counts in every other at once (issue #17): a process
that kept the app's context reads it again when the context's version in Redis moved."""

from __future__ import annotations

import secrets

import pytest

from apps.gateway import context as gateway_context
from apps.gateway import services
from apps.gateway.models import Package
from apps.gateway.tests.support import SignedClient, gateway_app_create

pytestmark = pytest.mark.django_db


def test_a_new_subscription_counts_at_once_in_a_process_that_kept_the_old_context(
    carrier_sandbox, django_capture_on_commit_callbacks
):
    client = SignedClient(gateway_app_create(capabilities=["sim-swap"]))
    body = {"device": {"phoneNumber": "+8613800138000"}}
    before = client.post("/device-roaming-status/v1/retrieve", body)
    stale = gateway_context._contexts[client.app.app_id]
    package = Package.objects.create(
        code=f"pkg-{secrets.token_hex(6)}", name="Roaming", capabilities=["device-roaming-status"],
        rate_per_second=100,
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_start(app_id=client.app.app_id, package_id=package.pk)
    # Another process still holds the context it read before the subscription.
    gateway_context._contexts[client.app.app_id] = stale
    after = client.post("/device-roaming-status/v1/retrieve", body)

    assert (before.status_code, before.json()["code"]) == (403, "PERMISSION_DENIED")
    assert after.status_code == 200, after.content
