"""The risk configuration (lists, caps, rules) held in memory, so a decision reads no table.

Every change bumps a generation number in Redis on commit. A snapshot knows the generation it
was loaded at (read before the tables); ``decide``'s counter script compares it with Redis's
and counts nothing when it moved: ``decide`` reloads and decides again, so the first decision
after a change anywhere uses it (a change made in this process drops the snapshot at once).
Each script call that finds the snapshot current confirms it. One not confirmed for
``RELOAD_SECONDS`` (Redis unreachable, or no decisions) is reloaded, and any after
``MAX_AGE_SECONDS`` (a bump lost while Redis was unreachable heals then): a decision pays a
reload rarely, and then four small reads (parsed rules are kept across loads, ``engine``).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis

from apps.core.redis import get_redis
from apps.risk.counters import GENERATION_KEY
from apps.risk.engine import Compiled, RuleInvalid, rule_compile
from apps.risk.events import Event

logger = logging.getLogger(__name__)

RELOAD_SECONDS = 30.0
MAX_AGE_SECONDS = 300.0
_EVENT_FIELD = {
    "msisdn": "msisdn",
    "device": "device_id",
    "id_hash": "id_hash",
    "cp": "cp_id",
    "partner": "partner_id",
}


@dataclass(frozen=True)
class CapSpec:
    code: str
    version: int
    kinds: frozenset[str]
    dimension: str
    window: str
    metric: str
    limit: int | None
    outcome: str


@dataclass
class Snapshot:
    generation: int
    loaded_at: float
    confirmed_at: float = 0.0
    exact: dict[tuple[str, str], list[tuple[str, datetime | None]]] = field(default_factory=dict)
    prefixes: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    networks: list[tuple[Any, str, datetime | None]] = field(default_factory=list)
    caps: list[CapSpec] = field(default_factory=list)
    active: list[Compiled] = field(default_factory=list)
    shadow: list[Compiled] = field(default_factory=list)

    def listed(self, event: Event, now: datetime) -> dict[str, list[str]]:
        """``{action: ["dimension:value", ...]}`` for the list entries the event hits."""
        hits: dict[str, list[str]] = {}

        def add(entries: list[tuple[str, datetime | None]], label: str) -> None:
            for action, expires in entries:
                if expires is None or expires > now:
                    hits.setdefault(action, []).append(label)

        for dimension, attr in _EVENT_FIELD.items():
            value = getattr(event, attr)
            if value and (dimension, value) in self.exact:
                add(self.exact[(dimension, value)], f"{dimension}:{value}")
        if event.msisdn:
            for prefix, action, expires in self.prefixes:
                if event.msisdn.startswith(prefix) and (expires is None or expires > now):
                    hits.setdefault(action, []).append(f"prefix:{prefix}")
        if event.ip:
            if ("ip", event.ip) in self.exact:
                add(self.exact[("ip", event.ip)], f"ip:{event.ip}")
            if self.networks:
                try:
                    address = ipaddress.ip_address(event.ip)
                except ValueError:
                    address = None
                for network, action, expires in self.networks:
                    live = expires is None or expires > now
                    if address is not None and address in network and live:
                        hits.setdefault(action, []).append(f"ip:{network}")
        return hits


_lock = threading.Lock()
_current: Snapshot | None = None


def _generation() -> int:
    """Redis's generation now, -1 when Redis is unreachable (then no script compares)."""
    try:
        return int(get_redis().get(GENERATION_KEY) or 0)
    except redis.RedisError:
        return -1


def load(generation: int | None = None) -> Snapshot:
    """Read the configuration; ``generation`` is Redis's (read first when not given, so a
    change committed during the load makes the next script call see a newer one)."""
    from django.utils import timezone

    from apps.risk.models import Cap, ListEntry, Rule

    if generation is None:
        generation = _generation()
    loaded_at = time.monotonic()
    snap = Snapshot(generation=generation, loaded_at=loaded_at, confirmed_at=loaded_at)
    entries = ListEntry.objects.exclude(expires_at__lte=timezone.now()).values_list(
        "action", "dimension", "value", "expires_at"
    )
    for action, dimension, value, expires in entries:
        if dimension == "prefix":
            snap.prefixes.append((value, action, expires))
        elif dimension == "ip" and "/" in value:
            snap.networks.append((ipaddress.ip_network(value, strict=False), action, expires))
        else:
            snap.exact.setdefault((dimension, value), []).append((action, expires))
    caps = list(Cap.objects.filter(active=True).order_by("code"))
    snap.caps = [
        CapSpec(
            c.code,
            c.version,
            frozenset(c.kinds),
            c.dimension,
            c.window,
            c.metric,
            c.limit,
            c.outcome,
        )
        for c in caps
    ]
    counter_codes = [c.code for c in caps]
    for rule in Rule.objects.filter(state__in=["active", "shadow"]).order_by("code"):
        try:
            parsed = rule_compile(rule.expression, counter_codes=counter_codes)
        except RuleInvalid:
            # Only a cap switched off after the rule went live can do this: the rule stays
            # out until the cap is back, and the workbench shows the rule's error.
            logger.warning("risk: rule %s@%s no longer compiles", rule.code, rule.version)
            continue
        compiled = Compiled(
            label=f"{rule.code}@{rule.version}",
            kinds=frozenset(rule.kinds),
            outcome=rule.outcome,
            reason_code=rule.reason_code,
            rule=parsed,
        )
        (snap.active if rule.state == "active" else snap.shadow).append(compiled)
    return snap


def current() -> Snapshot:
    """The snapshot to decide with (loaded on first use, after a change, or when stale)."""
    global _current
    snap = _current
    now = time.monotonic()
    if (
        snap is not None
        and now - snap.confirmed_at < RELOAD_SECONDS
        and now - snap.loaded_at < MAX_AGE_SECONDS
    ):
        return snap
    with _lock:
        if _current is None or _current is snap:
            _current = load()
        return _current


def reloaded(generation: int, stale: Snapshot) -> Snapshot:
    """The snapshot at ``generation`` (the counter script said ``stale`` is older)."""
    global _current
    with _lock:
        if _current is None or _current is stale or _current.generation != generation:
            _current = load(generation)
        return _current


def confirmed(snap: Snapshot, generation: int) -> None:
    """The counter script ran with ``snap`` and Redis holds ``generation``: it is current (a
    snapshot loaded while Redis was unreachable takes the generation it first sees)."""
    if snap.generation == -1:
        snap.generation = generation
    if snap.generation == generation:
        snap.confirmed_at = time.monotonic()


def invalidate() -> None:
    global _current
    _current = None
