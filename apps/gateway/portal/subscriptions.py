"""An app's subscriptions to capability packages: subscribe, unsubscribe (portal writes).

Locks: the app row, then the subscription row. Both changes are audited and make every
process reload the app's context once they commit, so the next call sees them.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.audit import audit_record, audited_transition
from apps.gateway.context import app_context_invalidate
from apps.gateway.models import App, Package, Partner, Subscription
from apps.gateway.portal.errors import (
    AlreadySubscribed,
    AppStateConflict,
    PackageNotFound,
    PartnerNotApproved,
    SubscriptionNotFound,
)
from apps.gateway.portal.services import owned_app


def subscription_create(*, user_id: int, app_id: int, package_code: str) -> Subscription:
    """Subscribe the user's app to an active package from now on, open-ended.

    One active subscription per app and package (checked under the app row lock; a partial
    unique index is the backstop).
    """
    with transaction.atomic():
        app = owned_app(user_id=user_id, app_id=app_id, lock=True)
        if app.partner.status != Partner.Status.APPROVED:
            raise PartnerNotApproved()
        if app.status != App.Status.ACTIVE:
            raise AppStateConflict(details={"status": app.status})
        package = Package.objects.filter(code=package_code, is_active=True).first()
        if package is None:
            raise PackageNotFound()
        if Subscription.objects.filter(
            app=app, package=package, status=Subscription.Status.ACTIVE
        ).exists():
            raise AlreadySubscribed()
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(
                    app=app, package=package, starts_at=timezone.now()
                )
        except IntegrityError as exc:
            raise AlreadySubscribed() from exc
        audit_record(
            action="subscription.created", object_type="subscription",
            object_id=subscription.pk, actor_id=user_id,
            after={"status": subscription.status, "app_id": app.pk, "package": package.code},
        )  # fmt: skip
        app_context_invalidate(app_id=app.pk)
    return subscription


def subscription_cancel(*, user_id: int, app_id: int, package_code: str) -> Subscription:
    """End the app's active subscription to the package now; the quota it used is kept."""
    with transaction.atomic():
        app = owned_app(user_id=user_id, app_id=app_id, lock=True)
        subscription = (
            Subscription.objects.select_for_update()
            .filter(app=app, package__code=package_code, status=Subscription.Status.ACTIVE)
            .first()
        )
        if subscription is None:
            raise SubscriptionNotFound()
        audited_transition(
            subscription, Subscription.Status.CANCELLED, object_type="subscription",
            object_id=subscription.pk, refused=lambda d: AppStateConflict(details=d),
            actor_id=user_id, after={"app_id": app.pk, "package": package_code},
        )  # fmt: skip
        # The window must stay non-empty (a check constraint), even for a same-instant cancel.
        subscription.ends_at = max(timezone.now(), subscription.starts_at + timedelta(seconds=1))
        subscription.save(update_fields=["status", "ends_at"])
        app_context_invalidate(app_id=app.pk)
    return subscription
