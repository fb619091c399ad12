"""Isolate a provincial BOSS that is down or slow: a circuit breaker and an in-flight cap each.

State lives in Redis, so every web and worker process sees the same breaker:

- closed: calls go through; ``CARRIER_BREAKER_FAILURES`` consecutive failures (the carrier
  unavailable after the adapter's tries: timeouts, 5xx, connection errors) open it;
- open: calls are refused at once, before anything is sent (``ProvinceUnavailable``), for
  ``CARRIER_BREAKER_COOLDOWN_SECONDS``;
- half-open: after the cool-down one call at a time (across processes) is let through as a
  probe; its success closes the breaker, its failure opens it again for another cool-down.

Apart from the breaker, at most ``CARRIER_PROVINCE_MAX_IN_FLIGHT`` calls to one province run
at once (a slot per call, expiring if its holder dies), so a slow province cannot take every
worker: the others are refused and retried later while the other 30 provinces keep going.
A refused call was never sent, so retrying it under the same idempotency key is always safe.
If Redis itself is unreachable the gate lets calls through (the adapter's own timeouts bound them).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

from apps.carrier.errors import CarrierUnavailable, ProvinceUnavailable
from apps.core.errors import DomainError
from apps.core.redis import get_redis

logger = logging.getLogger(__name__)

# Redis' own clock, so processes on different machines agree on when a cool-down ends.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1e6 "
_ALLOW = (
    _NOW
    + """
local open_until = redis.call('GET', KEYS[1])
if not open_until then return 'closed' end
if now < tonumber(open_until) then return 'open' end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 'probe' end
return 'open'
"""
)
_FAILURE = (
    _NOW
    + """
local fails = redis.call('INCR', KEYS[1])
if ARGV[3] == '1' or fails >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], tostring(now + tonumber(ARGV[2])))
  redis.call('DEL', KEYS[3])
  return 1
end
return 0
"""
)
_ACQUIRE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return 1
"""
)


def _keys(province: str) -> tuple[str, str, str, str]:
    base = f"carrier:boss:{province}:"
    return base + "failures", base + "open_until", base + "probe", base + "in_flight"


def _slot_seconds() -> float:
    # Longer than any one call can take: every try timing out, plus the backoff between them.
    return settings.CARRIER_TIMEOUT_SECONDS * settings.CARRIER_MAX_ATTEMPTS + 5


def breaker_state(*, province: str) -> str:
    """``closed``, ``open`` or ``half_open`` (cool-down over, or a probe in flight). For
    operators and tests; reading it changes nothing."""
    client = get_redis()
    _, open_until, probe, _ = _keys(province)
    until = client.get(open_until)
    if until is None:
        return "closed"
    seconds, micros = client.time()
    return (
        "open"
        if seconds + micros / 1e6 < float(until) and not client.exists(probe)
        else "half_open"
    )


@contextmanager
def province_gate(province: str) -> Iterator[None]:
    """Run one call to ``province``'s BOSS through its breaker and in-flight cap.

    Raises ``ProvinceUnavailable`` (a ``CarrierUnavailable``) without calling when the breaker
    is open or the province already has its cap of calls in flight. The body's
    ``CarrierUnavailable`` counts as a failure; any answer, a refusal included, as a success.
    """
    failures, open_until, probe, in_flight = _keys(province)
    token = uuid.uuid4().hex
    try:
        client = get_redis()
        state = client.eval(_ALLOW, 2, open_until, probe, int(_slot_seconds() * 1000))
        state = state.decode() if isinstance(state, bytes) else str(state)
        if state == "open":
            raise ProvinceUnavailable(details={"province": province, "reason": "breaker_open"})
        cap = settings.CARRIER_PROVINCE_MAX_IN_FLIGHT
        if not client.eval(_ACQUIRE, 1, in_flight, cap, _slot_seconds(), token):
            if state == "probe":
                client.delete(probe)
            raise ProvinceUnavailable(details={"province": province, "reason": "busy"})
    except (redis.RedisError, ImportError) as exc:  # ImportError: fakeredis without Lua
        logger.warning("province gate for %s skipped: %s", province, exc)
        yield
        return
    try:
        yield
    except CarrierUnavailable:
        _record(lambda: client.eval(_FAILURE, 3, failures, open_until, probe,
                                    settings.CARRIER_BREAKER_FAILURES,
                                    settings.CARRIER_BREAKER_COOLDOWN_SECONDS,
                                    "1" if state == "probe" else "0"))  # fmt: skip
        raise
    except DomainError:  # the province answered (a refusal, an unknown number): it is up
        _record(lambda: client.delete(failures, open_until, probe))
        raise
    else:
        _record(lambda: client.delete(failures, open_until, probe))
    finally:
        _record(lambda: client.zrem(in_flight, token))


def _record(write: Callable[[], object]) -> None:
    try:
        write()
    except redis.RedisError as exc:
        logger.warning("province breaker not updated: %s", exc)


def breaker_half_open(*, province: str) -> bool:
    """End an open breaker's cool-down now, so the next call is its probe (an operator's lever
    once a province is known to be back). Returns whether the breaker was open."""
    _, open_until, _, _ = _keys(province)
    return bool(get_redis().set(open_until, "0", xx=True))
