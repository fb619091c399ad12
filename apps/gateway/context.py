"""What the pipeline knows about an app per call, cached in the process and checked for staleness.

Loading an app's context (partner and app state, unrevoked credentials with their secrets,
current subscriptions) costs a few queries, so each process keeps it. A change commits and then
bumps ``gw:{a<id>}:ver`` in Redis; the limiter script compares that version with the cached
one in the same round trip that counts the call, so a revoked secret or a suspended partner is
refused on the next call in every process. Without Redis a context is trusted for
``CONTEXT_TTL_SECONDS`` at most.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import redis
from django.db import transaction
from django.utils import timezone

from apps.core.crypto import decrypt_text
from apps.core.redis import get_redis
from apps.gateway.capabilities_catalog import CAPABILITIES
from apps.gateway.models import App, Credential, Environment, Partner, Subscription

logger = logging.getLogger(__name__)

CONTEXT_TTL_SECONDS = 30.0
_UNKNOWN_CLIENT_TTL_SECONDS = 5.0
_MAX_ENTRIES = 20_000

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def app_slot(app_id: int) -> str:
    """The Redis hash tag of an app: every key one call touches lives in this slot."""
    return f"gw:{{a{app_id}}}"


def version_key(app_id: int) -> str:
    return f"{app_slot(app_id)}:ver"


@dataclass(frozen=True)
class GatewayApp:
    """The caller, as capability views see it (``request.gateway_app``)."""

    app_id: int
    partner_id: int
    environment: str
    client_id: str
    callback_urls: tuple[str, ...] = ()

    @property
    def callback_url(self) -> str | None:
        return self.callback_urls[0] if self.callback_urls else None


@dataclass(frozen=True)
class CredentialEntry:
    id: int
    client_id: str
    environment: str
    secret: str
    expires_at: datetime | None


@dataclass(frozen=True)
class SubscriptionEntry:
    id: int
    capabilities: frozenset[str]
    quota_calls: int | None
    quota_period: str
    rate_per_second: int
    starts_at: datetime
    ends_at: datetime | None

    def current(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


@dataclass(frozen=True)
class AppContext:
    app_id: int
    partner_id: int
    version: str
    usable: bool  # partner approved and app active
    production_approved: bool
    callback_urls: tuple[str, ...]
    networks: tuple[IPNetwork, ...]
    credentials: dict[str, CredentialEntry]
    subscriptions: tuple[SubscriptionEntry, ...]
    loaded_at: float = field(default_factory=time.monotonic)

    def credential(self, client_id: str, now: datetime) -> CredentialEntry | None:
        """The credential if it may be used now: unrevoked, unexpired, its environment open."""
        entry = self.credentials.get(client_id)
        if entry is None or not self.usable:
            return None
        if entry.expires_at is not None and entry.expires_at <= now:
            return None
        if entry.environment == Environment.PRODUCTION and not self.production_approved:
            return None
        return entry

    def ip_allowed(self, ip: str | None) -> bool:
        if not self.networks:
            return True
        if not ip:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def subscriptions_for(self, capability: str, now: datetime) -> list[SubscriptionEntry]:
        """Current subscriptions covering ``capability``, the oldest first (its quota is used
        first)."""
        return [s for s in self.subscriptions if capability in s.capabilities and s.current(now)]

    def scopes(self, now: datetime) -> list[str]:
        """Every scope the app's current subscriptions open, in catalogue order."""
        capabilities = {c for s in self.subscriptions if s.current(now) for c in s.capabilities}
        return [
            scope
            for code in CAPABILITIES
            if code in capabilities
            for scope in CAPABILITIES[code].scopes
        ]

    def gateway_app(self, credential: CredentialEntry) -> GatewayApp:
        return GatewayApp(
            app_id=self.app_id,
            partner_id=self.partner_id,
            environment=credential.environment,
            client_id=credential.client_id,
            callback_urls=self.callback_urls,
        )


_lock = threading.Lock()
_contexts: dict[int, AppContext] = {}
_app_of_client: dict[str, int] = {}
_unknown_clients: dict[str, float] = {}


def _read_version(app_id: int) -> str:
    try:
        raw = get_redis().get(version_key(app_id))
    except redis.RedisError:
        return "?"  # never equal to a stored version: the limiter reloads once Redis is back
    if raw is None:
        return "0"
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _parse_networks(entries: list[str]) -> tuple[IPNetwork, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            # The services refuse bad entries; one that slipped in must not open the app.
            logger.error("gateway: ignoring malformed allow-list entry %r", entry)
    if entries and not networks:
        # Every entry was malformed: allow nothing rather than everything.
        return (ipaddress.ip_network("0.0.0.0/32"),)
    return tuple(networks)


def context_load(app_id: int) -> AppContext | None:
    """Read the app's context from the database (the version first, so a change committed
    while loading makes the cached copy stale rather than wrongly current)."""
    version = _read_version(app_id)
    app = App.objects.select_related("partner").filter(pk=app_id).first()
    if app is None:
        return None
    now = timezone.now()
    credentials = {
        c.client_id: CredentialEntry(
            id=c.pk,
            client_id=c.client_id,
            environment=c.environment,
            secret=decrypt_text(c.secret_encrypted),
            expires_at=c.expires_at,
        )
        for c in Credential.objects.filter(app_id=app_id, revoked_at__isnull=True)
    }
    subscriptions = tuple(
        SubscriptionEntry(
            id=s.pk,
            capabilities=frozenset(s.package.capabilities),
            quota_calls=s.package.quota_calls,
            quota_period=s.package.quota_period,
            rate_per_second=s.package.rate_per_second,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
        )
        for s in Subscription.objects.select_related("package")
        .filter(app_id=app_id, status=Subscription.Status.ACTIVE, package__is_active=True)
        .exclude(ends_at__lte=now)
        .order_by("starts_at", "id")
    )
    context = AppContext(
        app_id=app.pk,
        partner_id=app.partner_id,
        version=version,
        usable=app.partner.status == Partner.Status.APPROVED and app.status == App.Status.ACTIVE,
        production_approved=app.production_status == App.ProductionStatus.APPROVED,
        callback_urls=tuple(app.callback_urls),
        networks=_parse_networks(app.ip_allowlist),
        credentials=credentials,
        subscriptions=subscriptions,
    )
    with _lock:
        if len(_contexts) >= _MAX_ENTRIES:
            _contexts.clear()
            _app_of_client.clear()
        _contexts[app_id] = context
        for client_id in credentials:
            _app_of_client[client_id] = app_id
    return context


def context_for_app(app_id: int, *, reload: bool = False) -> AppContext | None:
    """The cached context of an app, loaded when missing, too old, or ``reload``."""
    context = _contexts.get(app_id)
    if reload or context is None or time.monotonic() - context.loaded_at > CONTEXT_TTL_SECONDS:
        return context_load(app_id)
    return context


def context_current(context: AppContext) -> AppContext | None:
    """``context``, or the app's context read again when another process changed it since
    (its Redis version moved). For a refusal the cached copy would give: a subscription or a
    credential made a moment ago elsewhere must count on the next call, not 30 s later."""
    if _read_version(context.app_id) == context.version:
        return context
    return context_load(context.app_id)


def context_for_client(client_id: str) -> AppContext | None:
    """The context of the app that owns ``client_id`` (None for an unknown or revoked id)."""
    app_id = _app_of_client.get(client_id)
    if app_id is not None:
        context = context_for_app(app_id)
        if context is not None and client_id in context.credentials:
            return context
    seen = _unknown_clients.get(client_id)
    if seen is not None and time.monotonic() - seen < _UNKNOWN_CLIENT_TTL_SECONDS:
        return None
    row = (
        Credential.objects.filter(client_id=client_id, revoked_at__isnull=True)
        .values_list("app_id", flat=True)
        .first()
    )
    if row is None:
        with _lock:
            if len(_unknown_clients) >= _MAX_ENTRIES:
                _unknown_clients.clear()
            _unknown_clients[client_id] = time.monotonic()
        return None
    return context_load(row)


def context_forget_all() -> None:
    """Drop every cached context in this process (tests, and after a bulk change)."""
    with _lock:
        _contexts.clear()
        _app_of_client.clear()
        _unknown_clients.clear()


def app_context_invalidate(*, app_id: int) -> None:
    """After the current transaction commits, make every process reload this app's context.

    Call it from every service that changes what the pipeline reads: partner or app status,
    production approval, allow-list, callbacks, credentials, subscriptions, packages.
    """

    def bump() -> None:
        with _lock:
            _contexts.pop(app_id, None)
            _unknown_clients.clear()
        try:
            get_redis().incr(version_key(app_id))
        except redis.RedisError:
            # Other processes notice within CONTEXT_TTL_SECONDS.
            logger.error("gateway: could not bump the context version of app %s", app_id)

    transaction.on_commit(bump)
