"""Sliding-window counters in Redis: check every cap of an event and count it, atomically.

Each (cap, subject) is one hash of buckets (a window is 60 buckets: a minute counts per
second, a 30-day month per 12 hours). One Lua script sums the buckets still inside every
window, and only when no cap would go over its limit adds the event to all of them: concurrent
callers are serialised by Redis, so a cap of 10 lets exactly 10 through. The same round trip
reads the configuration generation and the subject's score.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.redis import get_redis
from apps.risk.recorder import QUEUE_KEY

BUCKETS = 60
WINDOW_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400}
GENERATION_KEY = "risk:gen"

_CHECK_AND_COUNT = """
local now = tonumber(ARGV[1])
local n = #KEYS - 3
local sums, over, buckets = {}, {}, {}
for i = 1, n do
  local a = 1 + (i - 1) * 4
  local size, nb = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local inc, limit = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local key = KEYS[i + 2]
  local current = math.floor(now / size)
  local oldest = current - nb + 1
  local all = redis.call('HGETALL', key)
  local sum = 0
  for j = 1, #all, 2 do
    if tonumber(all[j]) < oldest then
      redis.call('HDEL', key, all[j])
    else
      sum = sum + tonumber(all[j + 1])
    end
  end
  sums[i], buckets[i] = sum, current
  if limit >= 0 and sum + inc > limit then over[#over + 1] = i end
end
if #over == 0 then
  for i = 1, n do
    local a = 1 + (i - 1) * 4
    local size, nb, inc = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    redis.call('HINCRBY', KEYS[i + 2], buckets[i], inc)
    redis.call('EXPIRE', KEYS[i + 2], size * (nb + 1))
    sums[i] = sums[i] + inc
  end
end
local first_row = 2 + n * 4
if #ARGV >= first_row then
  redis.call('RPUSH', KEYS[3 + n], unpack(ARGV, first_row))
end
return {redis.call('GET', KEYS[1]) or '0', redis.call('GET', KEYS[2]) or '0', sums, over, buckets}
"""

_RELEASE = """
for i = 1, #KEYS do
  redis.call('HINCRBY', KEYS[i], ARGV[2 * i - 1], -tonumber(ARGV[2 * i]))
end
return #KEYS
"""


@dataclass(frozen=True)
class Count:
    """One cap to check for one subject: ``increment`` is 1 or the amount."""

    code: str
    subject: str
    window: str
    increment: int
    limit: int | None

    @property
    def key(self) -> str:
        return f"risk:c:{self.code}:{self.subject}"


@dataclass(frozen=True)
class Counted:
    generation: int
    score: float
    totals: dict[str, int]
    over: tuple[str, ...]
    counted: tuple[tuple[str, int, int], ...]


def score_key(msisdn: str) -> str:
    return f"risk:score:{msisdn}"


def check_and_count(
    counts: list[Count], *, now: float, score_subject: str, rows: list[str] | None = None
) -> Counted:
    """Run the script (raises ``redis.RedisError`` when Redis is unreachable). ``rows`` are
    recorded decisions to append to the record queue in the same round trip.

    ``totals`` are the window sums including this event when it was counted (or excluding it
    when a cap refused it: then nothing was counted, ``over`` names the caps over their limit).
    """
    args: list[int | float | str] = [int(now)]
    for c in counts:
        size = WINDOW_SECONDS[c.window] // BUCKETS
        args += [size, BUCKETS, c.increment, -1 if c.limit is None else c.limit]
    keys = [GENERATION_KEY, score_key(score_subject or "-"), *(c.key for c in counts), QUEUE_KEY]
    args += rows or []
    redis = get_redis()
    script = redis.register_script(_CHECK_AND_COUNT)
    generation, score, sums, over, buckets = script(keys=keys, args=args)
    over_codes = tuple(counts[i - 1].code for i in over)
    counted = (
        ()
        if over_codes
        else tuple((c.key, int(b), c.increment) for c, b in zip(counts, buckets, strict=True))
    )
    return Counted(
        generation=int(generation),
        score=float(score),
        totals={c.code: int(s) for c, s in zip(counts, sums, strict=True)},
        over=over_codes,
        counted=counted,
    )


def release(counted: tuple[tuple[str, int, int], ...]) -> None:
    """Take back what ``check_and_count`` added (the thing it counted did not happen)."""
    if not counted:
        return
    args: list[int] = []
    for _key, bucket, increment in counted:
        args += [bucket, increment]
    get_redis().register_script(_RELEASE)(keys=[k for k, _b, _i in counted], args=args)


def generation_bump() -> None:
    get_redis().incr(GENERATION_KEY)
