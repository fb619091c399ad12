"""The portal's side of subscriptions and credentials: the partner's checks around gwcore's writes.

gwcore's services (``apps.gateway.services``) do the writing, the locking, the audit and the
context invalidation; these functions add what only the portal knows: whose app it is, that
the company is approved, which package a code names, and the rotation policy.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.gateway import services as gateway
from apps.gateway.errors import CredentialNotFound
from apps.gateway.models import App, Credential, Package, Partner, Subscription
from apps.gateway.portal.errors import (
    AppStateConflict,
    PackageNotFound,
    PackageOperatorAssigned,
    PartnerNotApproved,
    SubscriptionNotFound,
)
from apps.gateway.portal.services import CREDENTIAL_TTL, ROTATION_GRACE, owned_app


def _usable_app(*, user_id: int, app_id: int) -> App:
    app = owned_app(user_id=user_id, app_id=app_id)
    if app.partner.status != Partner.Status.APPROVED:
        raise PartnerNotApproved()
    if app.status != App.Status.ACTIVE:
        raise AppStateConflict(details={"status": app.status})
    return app


def app_subscribe(*, user_id: int, app_id: int, package_code: str) -> int:
    """Subscribe the user's app to an active package; idempotent (returns the subscription id).

    A package with the pre-authorised (one-step, no texted code) billing agreement is refused:
    the carrier signs that agreement with the partner and an operator assigns it (admin)."""
    app = _usable_app(user_id=user_id, app_id=app_id)
    package = Package.objects.filter(code=package_code, is_active=True).first()
    if package is None:
        raise PackageNotFound()
    if package.carrier_billing_one_step:
        raise PackageOperatorAssigned()
    return gateway.subscription_start(app_id=app.pk, package_id=package.pk, actor_id=user_id)


def app_unsubscribe(*, user_id: int, app_id: int, package_code: str) -> None:
    """End the app's active subscription to the package now; the quota it used is kept."""
    app = owned_app(user_id=user_id, app_id=app_id)
    subscription_id = (
        Subscription.objects.filter(
            app=app, package__code=package_code, status=Subscription.Status.ACTIVE
        )
        .values_list("pk", flat=True)
        .first()
    )
    if subscription_id is None:
        raise SubscriptionNotFound()
    gateway.subscription_cancel(subscription_id=subscription_id, actor_id=user_id)


def app_credential_issue(
    *, user_id: int, app_id: int, environment: str
) -> gateway.IssuedCredential:
    """A new client id and secret for the user's app, valid for a year; the secret is returned
    once. At most two unrevoked per environment (gwcore refuses a third)."""
    app = _usable_app(user_id=user_id, app_id=app_id)
    return gateway.credential_issue(
        app_id=app.pk,
        environment=environment,
        expires_at=timezone.now() + CREDENTIAL_TTL,
        actor_id=user_id,
    )


def _owned_credential(*, user_id: int, app_id: int, credential_id: int) -> Credential:
    owned_app(user_id=user_id, app_id=app_id)
    credential = Credential.objects.filter(pk=credential_id, app_id=app_id).first()
    if credential is None:
        raise CredentialNotFound()
    return credential


def app_credential_rotate(
    *, user_id: int, app_id: int, credential_id: int
) -> gateway.IssuedCredential:
    """Issue a successor to a credential and let the old one expire after the grace period.

    One transaction: if the new one cannot be issued (two already active), the old one's
    expiry is not touched. An old expiry sooner than the grace period is kept.
    """
    old = _owned_credential(user_id=user_id, app_id=app_id, credential_id=credential_id)
    if old.revoked_at is not None:
        raise AppStateConflict(details={"credential": "revoked"})
    with transaction.atomic():
        issued = app_credential_issue(user_id=user_id, app_id=app_id, environment=old.environment)
        grace_end = timezone.now() + ROTATION_GRACE
        if old.expires_at is None or old.expires_at > grace_end:
            gateway.credential_expiry_set(
                credential_id=old.pk, expires_at=grace_end, actor_id=user_id
            )
    return issued


def app_credential_revoke(*, user_id: int, app_id: int, credential_id: int) -> bool:
    """Revoke one of the user's credentials at once; ``False`` if it was already revoked."""
    credential = _owned_credential(user_id=user_id, app_id=app_id, credential_id=credential_id)
    return gateway.credential_revoke(credential_id=credential.pk, actor_id=user_id)
