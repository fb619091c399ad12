"""Sliding-window rate limits in Redis, checked and counted in one atomic script."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from apps.core.redis import get_redis

# KEYS[1]: the window's sorted set. ARGV: now (ms), window (ms), limit, member.
# Returns {allowed, count, retry_after_ms}. A refused hit is not counted.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {1, count + 1, 0}
"""


# KEYS: one sorted set per limit. ARGV: now (ms), member, then (window ms, limit) per key.
# Counts the hit under every key only if every key has room; else returns the first full one.
_ALL_OR_NOTHING = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i + 1])
  local limit = tonumber(ARGV[2 * i + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {i, tonumber(oldest[2]) + window - now}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 1]))
end
return {0, 0}
"""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    limit: int
    retry_after_seconds: int


def rate_hit(*, key: str, limit: int, window_seconds: int) -> RateDecision:
    """Count one hit under ``key`` unless ``limit`` hits already fall in the last window.

    Raises ``redis.RedisError`` when Redis is unreachable: each caller decides whether that
    fails open or closed.
    """
    client = get_redis()
    now_ms = int(time.time() * 1000)
    allowed, count, retry_ms = client.eval(
        _SLIDING_WINDOW, 1, f"rl:{key}", now_ms, window_seconds * 1000, limit, uuid.uuid4().hex
    )
    return RateDecision(
        allowed=bool(allowed),
        count=int(count),
        limit=limit,
        retry_after_seconds=max(1, -(-int(retry_ms) // 1000)) if not allowed else 0,
    )


@dataclass(frozen=True)
class RateLimit:
    key: str
    limit: int
    window_seconds: int


def rate_hit_all(limits: list[RateLimit]) -> tuple[RateLimit | None, int]:
    """Count one hit under every limit, or under none if any is full.

    Returns ``(None, 0)`` when counted, else ``(the first full limit, retry-after seconds)``.
    A refusal by one limit never uses up another. Raises ``redis.RedisError`` when Redis is
    unreachable.
    """
    if not limits:
        return None, 0
    now_ms = int(time.time() * 1000)
    args: list[int | str] = [now_ms, uuid.uuid4().hex]
    for item in limits:
        args += [item.window_seconds * 1000, item.limit]
    # One hash tag for all the keys (their family, "otp" in "otp:phone:..."), so that Redis
    # Cluster finds them in one slot; different families share the tag "{rl}".
    families = {item.key.split(":", 1)[0] for item in limits}
    tag = families.pop() if len(families) == 1 else "rl"
    full, retry_ms = get_redis().eval(
        _ALL_OR_NOTHING, len(limits), *(f"rl:{{{tag}}}:{item.key}" for item in limits), *args
    )
    if not full:
        return None, 0
    return limits[int(full) - 1], max(1, -(-int(retry_ms) // 1000))
