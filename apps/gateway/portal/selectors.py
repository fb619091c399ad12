"""Developer-portal reads: the user's company and apps, packages, quota left this period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import redis
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from apps.core.redis import get_redis
from apps.gateway.context import app_slot
from apps.gateway.limits import period_tag_and_reset
from apps.gateway.models import App, Credential, Environment, Package, Partner, Subscription
from apps.gateway.portal.services import owned_app


def partner_of(*, user_id: int) -> Partner | None:
    """The user's company registration (the latest, if an earlier one was rejected)."""
    return Partner.objects.filter(owner_id=user_id).order_by("-pk").first()


def apps_of(*, user_id: int) -> QuerySet[App]:
    """The user's company's apps, newest first, with their count of active subscriptions."""
    return (
        App.objects.filter(partner__owner_id=user_id)
        .annotate(
            active_subscriptions=Count(
                "subscriptions", filter=Q(subscriptions__status=Subscription.Status.ACTIVE)
            )
        )
        .order_by("-created_at", "-pk")
    )


def app_of(*, user_id: int, app_id: int) -> App:
    """One of the user's apps; another company's app is ``APP_NOT_FOUND``."""
    return owned_app(user_id=user_id, app_id=app_id)


@dataclass(frozen=True)
class CredentialRow:
    id: int
    client_id: str
    environment: str
    secret_hint: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


def credentials_of(*, app_id: int, include_revoked: bool = True) -> list[CredentialRow]:
    """An app's credentials, unrevoked first, then newest first (never the secret)."""
    rows = Credential.objects.filter(app_id=app_id)
    if not include_revoked:
        rows = rows.filter(revoked_at__isnull=True)
    rows = rows.order_by(
        "environment", F("revoked_at").desc(nulls_first=True), "-created_at", "-pk"
    )  # fmt: skip
    return [
        CredentialRow(
            id=c.pk,
            client_id=c.client_id,
            environment=c.environment,
            secret_hint=c.secret_hint,
            created_at=c.created_at,
            expires_at=c.expires_at,
            revoked_at=c.revoked_at,
        )
        for c in rows
    ]


def packages_offered() -> QuerySet[Package]:
    """Active packages a partner may subscribe to itself, cheapest first: not those carrying
    the pre-authorised (one-step) billing agreement, which only an operator assigns."""
    return Package.objects.filter(is_active=True, carrier_billing_one_step=False).order_by(
        "price_fen", "price_per_call_fen", "code"
    )


@dataclass(frozen=True)
class QuotaUse:
    environment: str
    limit: int | None  # None: unlimited
    used: int | None  # None: the counters cannot be read right now
    resets_in_seconds: int

    @property
    def remaining(self) -> int | None:
        if self.limit is None or self.used is None:
            return None
        return max(0, self.limit - self.used)


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    package_code: str
    package_name: str
    capabilities: list[str]
    quota_period: str
    starts_at: datetime
    quota: list[QuotaUse]


def quota_key(*, app_id: int, subscription_id: int, environment: str, period_tag: str) -> str:
    """The Redis counter the limiter increments for this subscription and period."""
    return f"{app_slot(app_id)}:q:{subscription_id}:{environment}:{period_tag}"


def subscriptions_of(*, app_id: int, now: datetime | None = None) -> list[SubscriptionRow]:
    """An app's active subscriptions with the quota used and left this period per environment.

    The counts are the limiter's own counters in Redis (what the next call is checked against);
    when Redis is unreachable ``used`` is ``None`` and the page says so.
    """
    now = now or timezone.now()
    subs = list(
        Subscription.objects.select_related("package")
        .filter(app_id=app_id, status=Subscription.Status.ACTIVE)
        .order_by("starts_at", "pk")
    )
    keys: list[str] = []
    plan: list[tuple[Subscription, str, int]] = []
    for sub in subs:
        tag, reset = period_tag_and_reset(sub.package.quota_period, now)
        for environment in Environment.values:
            keys.append(
                quota_key(
                    app_id=app_id, subscription_id=sub.pk, environment=environment, period_tag=tag
                )
            )
            plan.append((sub, environment, reset))
    counts: list[int | None]
    try:
        # Every key of one app is in one hash slot, so one MGET serves a Redis Cluster too.
        raw = get_redis().mget(keys) if keys else []
        counts = [int(v) if v is not None else 0 for v in raw]
    except redis.RedisError:
        counts = [None] * len(keys)
    quota: dict[int, list[QuotaUse]] = {}
    for (sub, environment, reset), used in zip(plan, counts, strict=True):
        quota.setdefault(sub.pk, []).append(
            QuotaUse(environment, sub.package.quota_calls, used, reset)
        )
    return [
        SubscriptionRow(
            id=sub.pk,
            package_code=sub.package.code,
            package_name=sub.package.name,
            capabilities=list(sub.package.capabilities),
            quota_period=sub.package.quota_period,
            starts_at=sub.starts_at,
            quota=quota.get(sub.pk, []),
        )
        for sub in subs
    ]
