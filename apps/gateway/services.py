"""Gateway writes the pipeline depends on: credentials, subscriptions, allow-lists.

Every change here commits and then invalidates the app's cached context in every process
(``app_context_invalidate``), and is audited. The partner and app lifecycle pages build on
these and on the models.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import redis
from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record, audited_transition
from apps.core.crypto import encrypt_text
from apps.core.tasks import enqueue_on_commit
from apps.gateway import locks
from apps.gateway.context import app_context_invalidate
from apps.gateway.errors import (
    CredentialLimitReached,
    CredentialNotFound,
    GatewayStateConflict,
    InvalidAllowlist,
    ProductionNotApproved,
)
from apps.gateway.models import App, Credential, Environment, Package, Partner, Subscription

logger = logging.getLogger(__name__)

_CLIENT_ID_PREFIX = {Environment.SANDBOX: "chsb_", Environment.PRODUCTION: "chlive_"}


@dataclass(frozen=True)
class IssuedCredential:
    """A new credential; ``secret`` is shown to the partner once and never again."""

    id: int
    app_id: int
    environment: str
    client_id: str
    secret: str
    expires_at: datetime | None


def credential_issue(
    *,
    app_id: int,
    environment: str,
    expires_at: datetime | None = None,
    actor_id: int | None = None,
) -> IssuedCredential:
    """Create a client id and secret for an app's environment.

    Locks the app row, so two concurrent issues cannot both take the last slot; at most two
    unrevoked credentials per app and environment (a partial unique index on the slot backs
    this). Expired ones still hold their slot until revoked. Production needs the partner
    and the app approved for production. Not idempotent: each call makes a new secret.
    """
    if environment not in Environment.values:
        raise GatewayStateConflict(f"Unknown environment {environment!r}.")
    if expires_at is not None and expires_at <= timezone.now():
        raise GatewayStateConflict("The expiry must be in the future.")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        app = locks.app_lock_with_partner(app_id)
        if app.partner.status != Partner.Status.APPROVED and environment == Environment.PRODUCTION:
            raise ProductionNotApproved()
        if environment == Environment.PRODUCTION and (
            app.production_status != App.ProductionStatus.APPROVED
        ):
            raise ProductionNotApproved()
        taken = set(
            Credential.objects.filter(
                app_id=app_id, environment=environment, revoked_at__isnull=True
            ).values_list("slot", flat=True)
        )
        free = [slot for slot in (1, 2) if slot not in taken]
        if not free:
            raise CredentialLimitReached()
        credential = Credential.objects.create(
            app=app,
            environment=environment,
            slot=free[0],
            client_id=_CLIENT_ID_PREFIX[Environment(environment)] + secrets.token_hex(12),
            secret_encrypted=encrypt_text(secret),
            secret_hint=secret[-4:],
            created_by_id=actor_id,
            expires_at=expires_at,
        )
        audit_record(
            action="gateway_credential.issued",
            object_type="gateway_credential",
            object_id=credential.pk,
            actor_id=actor_id,
            after={
                "app_id": app_id,
                "environment": environment,
                "client_id": credential.client_id,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
        app_context_invalidate(app_id=app_id)
    return IssuedCredential(
        id=credential.pk,
        app_id=app_id,
        environment=environment,
        client_id=credential.client_id,
        secret=secret,
        expires_at=expires_at,
    )


def credential_revoke(*, credential_id: int, actor_id: int | None = None) -> bool:
    """Revoke a credential at once: its signatures and its tokens are refused from the next
    call in every process. Locks the app, then the credential. Idempotent: revoking a revoked
    credential changes nothing and returns False."""
    from apps.gateway.tasks import credential_tokens_drop_task

    app_id = Credential.objects.filter(pk=credential_id).values_list("app_id", flat=True).first()
    if app_id is None:
        raise CredentialNotFound()
    with transaction.atomic():
        locks.app_lock_with_partner(app_id)
        credential = locks.credential_lock(credential_id)
        if credential.revoked_at is not None:
            return False
        credential.revoked_at = timezone.now()
        credential.revoked_by_id = actor_id
        credential.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            action="gateway_credential.revoked",
            object_type="gateway_credential",
            object_id=credential.pk,
            actor_id=actor_id,
            before={"revoked_at": None},
            after={
                "revoked_at": credential.revoked_at.isoformat(),
                "client_id": credential.client_id,
            },
        )
        app_context_invalidate(app_id=app_id)
        enqueue_on_commit(credential_tokens_drop_task, credential.pk)
    return True


def credential_expiry_set(
    *, credential_id: int, expires_at: datetime | None, actor_id: int | None = None
) -> None:
    """Change when an unrevoked credential expires (e.g. the old one, during rotation)."""
    with transaction.atomic():
        credential = locks.credential_lock(credential_id)
        if credential.revoked_at is not None:
            raise GatewayStateConflict("A revoked credential cannot be changed.")
        before = credential.expires_at
        credential.expires_at = expires_at
        credential.save(update_fields=["expires_at"])
        audit_record(
            action="gateway_credential.expiry_set",
            object_type="gateway_credential",
            object_id=credential.pk,
            actor_id=actor_id,
            before={"expires_at": before.isoformat() if before else None},
            after={"expires_at": expires_at.isoformat() if expires_at else None},
        )
        app_context_invalidate(app_id=credential.app_id)


def ip_allowlist_normalise(entries: list[str]) -> list[str]:
    """Parse each entry as an address or network; refuse the list if any is neither."""
    normalised = []
    for entry in entries:
        text = entry.strip()
        if not text:
            continue
        try:
            normalised.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError as exc:
            raise InvalidAllowlist(details={"entry": text}) from exc
    return normalised


def app_allowlist_set(*, app_id: int, entries: list[str], actor_id: int | None = None) -> list[str]:
    """Replace an app's IP allow-list (empty allows any address); returns it normalised."""
    normalised = ip_allowlist_normalise(entries)
    with transaction.atomic():
        app = locks.app_lock_with_partner(app_id)
        before = list(app.ip_allowlist)
        app.ip_allowlist = normalised
        app.save(update_fields=["ip_allowlist", "updated_at"])
        audit_record(
            action="gateway_app.allowlist_set",
            object_type="gateway_app",
            object_id=app_id,
            actor_id=actor_id,
            before={"ip_allowlist": before},
            after={"ip_allowlist": normalised},
        )
        app_context_invalidate(app_id=app_id)
    return normalised


def subscription_start(
    *,
    app_id: int,
    package_id: int,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    actor_id: int | None = None,
) -> int:
    """Subscribe an app to an active package; returns the subscription id.

    Locks the app. Idempotent per (app, package): an active subscription is returned as is.
    """
    with transaction.atomic():
        locks.app_lock_with_partner(app_id)
        existing = Subscription.objects.filter(
            app_id=app_id, package_id=package_id, status=Subscription.Status.ACTIVE
        ).first()
        if existing is not None:
            return existing.pk
        package = Package.objects.get(pk=package_id)
        if not package.is_active:
            raise GatewayStateConflict("This package is no longer offered.")
        subscription = Subscription.objects.create(
            app_id=app_id,
            package=package,
            starts_at=starts_at or timezone.now(),
            ends_at=ends_at,
        )
        audit_record(
            action="gateway_subscription.active",
            object_type="gateway_subscription",
            object_id=subscription.pk,
            actor_id=actor_id,
            after={"app_id": app_id, "package": package.code},
        )
        app_context_invalidate(app_id=app_id)
    return subscription.pk


def subscription_cancel(*, subscription_id: int, actor_id: int | None = None) -> None:
    """Cancel a subscription now (locks the app, then the subscription)."""
    app_id = Subscription.objects.values_list("app_id", flat=True).get(pk=subscription_id)
    with transaction.atomic():
        locks.app_lock_with_partner(app_id)
        subscription = locks.subscription_lock(subscription_id)
        audited_transition(
            subscription,
            Subscription.Status.CANCELLED,
            object_type="gateway_subscription",
            object_id=subscription.pk,
            refused=lambda d: GatewayStateConflict(details=d),
            actor_id=actor_id,
        )
        subscription.save(update_fields=["status"])
        app_context_invalidate(app_id=app_id)


def package_changed(*, package_id: int) -> None:
    """Make every app subscribed to a package reload its context (after an operator edit)."""
    for app_id in (
        Subscription.objects.filter(package_id=package_id, status=Subscription.Status.ACTIVE)
        .values_list("app_id", flat=True)
        .distinct()
    ):
        app_context_invalidate(app_id=app_id)


def package_one_step_record(
    *, package_id: int, before: bool | None, after: bool, actor_id: int | None
) -> None:
    """Audit an operator's change of a package's one-step carrier-billing flag (``before`` is
    None for a new package); nothing when it did not change. In the caller's transaction."""
    if bool(before) == after:
        return
    audit_record(
        action="gateway_package.carrier_billing_one_step",
        object_type="gateway_package",
        object_id=package_id,
        actor_id=actor_id,
        before=None if before is None else {"carrier_billing_one_step": before},
        after={"carrier_billing_one_step": after},
    )


def credential_tokens_drop(*, credential_id: int) -> None:
    """Delete the access tokens of a revoked credential (the pipeline refuses them already)."""
    from apps.gateway.tokens import tokens_drop_for_credential

    try:
        tokens_drop_for_credential(credential_id)
    except redis.RedisError:
        logger.error("gateway: tokens of credential %s not dropped; they expire", credential_id)
