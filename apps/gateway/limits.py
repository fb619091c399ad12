"""One Redis round trip per call: context version, nonce, rate limit and quota, all or nothing.

Every key of one call carries the app's hash tag (``gw:{a<id>}:...``), so the script also runs
on a Redis Cluster. The rate limit is a sliding window (a sorted set of the last second's
calls) per app, environment and capability; the quota is a counter per subscription,
environment and calendar period (Asia/Shanghai day or month). A call refused by either limit
counts against neither.
"""

from __future__ import annotations

import time
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from functools import cache

from redis import Redis
from redis.commands.core import Script

from apps.core.redis import get_redis
from apps.gateway.context import AppContext, SubscriptionEntry, app_slot, version_key

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
RATE_WINDOW_MS = 1000
# A nonce is remembered for the whole window in which its date would be accepted (±300 s).
NONCE_TTL_SECONDS = 600

# KEYS[1] version, KEYS[2] nonce, KEYS[3] rate window, KEYS[4..] quota counters.
# ARGV[1] expected version, ARGV[2] nonce TTL (0: unsigned call), ARGV[3] now ms,
# ARGV[4] window ms, ARGV[5] rate limit, ARGV[6] call id, then (limit or -1, ttl s) per quota.
# Returns {outcome, a, b, c}: 0 counted {quota index, rate left, quota left or -1};
# 1 stale context; 2 nonce replayed; 3 rate limited {retry ms}; 4 every quota used up.
_LUA = """
local version = redis.call('GET', KEYS[1]) or '0'
if version ~= ARGV[1] then return {1, 0, 0, 0} end
if tonumber(ARGV[2]) > 0 then
  if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[2])) then
    return {2, 0, 0, 0}
  end
end
local now = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local rate = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[3])
if count >= rate then
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {3, tonumber(oldest[2]) + window - now, 0, 0}
end
for i = 4, #KEYS do
  local limit = tonumber(ARGV[7 + (i - 4) * 2])
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if limit < 0 or used < limit then
    used = redis.call('INCR', KEYS[i])
    if used == 1 then redis.call('EXPIRE', KEYS[i], tonumber(ARGV[8 + (i - 4) * 2])) end
    redis.call('ZADD', KEYS[3], now, ARGV[6])
    redis.call('PEXPIRE', KEYS[3], window)
    local left = -1
    if limit >= 0 then left = limit - used end
    return {0, i - 3, rate - count - 1, left}
  end
end
return {4, 0, 0, 0}
"""


class Outcome(IntEnum):
    COUNTED = 0
    STALE = 1
    REPLAYED = 2
    RATE_LIMITED = 3
    QUOTA_EXCEEDED = 4


@dataclass(frozen=True)
class LimitDecision:
    outcome: Outcome
    rate_limit: int
    rate_remaining: int = 0
    retry_after_seconds: int = 0
    subscription: SubscriptionEntry | None = None
    quota_limit: int | None = None
    quota_remaining: int | None = None
    quota_reset_seconds: int = 0


@cache
def _script(client: Redis) -> Script:
    return client.register_script(_LUA)


def period_tag_and_reset(period: str, now: datetime) -> tuple[str, int]:
    """The quota period ``now`` falls in (Asia/Shanghai calendar) and seconds until it ends."""
    local = now.astimezone(SHANGHAI)
    if period == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        tag = f"d{local:%Y%m%d}"
    else:
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        tag = f"m{local:%Y%m}"
    return tag, max(1, int((end - local).total_seconds()))


def limits_check(
    *,
    context: AppContext,
    environment: str,
    capability: str,
    subscriptions: list[SubscriptionEntry],
    call_id: str,
    nonce_key: str | None,
    now: datetime,
) -> LimitDecision:
    """Check the context version and the nonce, then count the call under the rate limit and
    the first subscription with quota left; nothing is counted unless everything passes.

    The rate is the highest of the covering packages'. Raises ``redis.RedisError`` when Redis
    is unreachable (the caller decides: refuse writes, let reads pass).
    """
    slot = app_slot(context.app_id)
    rate = max(s.rate_per_second for s in subscriptions)
    keys = [
        version_key(context.app_id),
        nonce_key or version_key(context.app_id),
        f"{slot}:r:{environment}:{capability}",
    ]
    args: list[str | int] = [
        context.version,
        NONCE_TTL_SECONDS if nonce_key else 0,
        int(time.time() * 1000),
        RATE_WINDOW_MS,
        rate,
        call_id,
    ]
    resets = []
    for sub in subscriptions:
        tag, reset = period_tag_and_reset(sub.quota_period, now)
        resets.append(reset)
        keys.append(f"{slot}:q:{sub.id}:{environment}:{tag}")
        args += [-1 if sub.quota_calls is None else sub.quota_calls, reset + 3600]
    outcome, a, b, c = (int(x) for x in _script(get_redis())(keys=keys, args=args))
    if outcome == Outcome.COUNTED:
        sub = subscriptions[a - 1]
        return LimitDecision(
            Outcome.COUNTED,
            rate_limit=rate,
            rate_remaining=b,
            subscription=sub,
            quota_limit=sub.quota_calls,
            quota_remaining=None if c < 0 else c,
            quota_reset_seconds=resets[a - 1],
        )
    if outcome == Outcome.RATE_LIMITED:
        return LimitDecision(
            Outcome.RATE_LIMITED, rate_limit=rate, retry_after_seconds=max(1, -(-a // 1000))
        )
    if outcome == Outcome.QUOTA_EXCEEDED:
        return LimitDecision(
            Outcome.QUOTA_EXCEEDED,
            rate_limit=rate,
            retry_after_seconds=min(resets),
            quota_limit=subscriptions[0].quota_calls,
            quota_remaining=0,
            quota_reset_seconds=min(resets),
        )
    return LimitDecision(Outcome(outcome), rate_limit=rate)


def nonce_key(*, app_id: int, client_id: str, nonce: str) -> str:
    return f"{app_slot(app_id)}:n:{client_id}:{nonce}"
