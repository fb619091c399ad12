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
