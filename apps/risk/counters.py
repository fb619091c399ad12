"""Sliding-window counters in Redis: check every cap of an event and count it, atomically.

Each (cap, subject) is one hash of buckets (a window is 60 buckets: a minute counts per
second, a 30-day month per 12 hours). One Lua script sums the buckets still inside every
window, and only when no cap would go over its limit adds the event to all of them: concurrent
callers are serialised by Redis, so a cap of 10 lets exactly 10 through. The same round trip
reads the configuration generation and the subject's score, and counts nothing when the
caller's configuration is older than the generation (it reloads and asks again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.core.redis import get_redis
from apps.risk.recorder import QUEUE_KEY

BUCKETS = 60
WINDOW_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400}
GENERATION_KEY = "risk:gen"

_CHECK_AND_COUNT = """
local now = tonumber(ARGV[1])
local n = #KEYS - 3
local first_row = 3 + n * 4
if #ARGV >= first_row then
  redis.call('RPUSH', KEYS[3 + n], unpack(ARGV, first_row))
end
local generation = redis.call('GET', KEYS[1]) or '0'
if ARGV[2] ~= '' and ARGV[2] ~= generation then
  return {generation, '0', {}, {}, {}, 1}
end
local sums, over, buckets = {}, {}, {}
for i = 1, n do
  local a = 2 + (i - 1) * 4
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
    local a = 2 + (i - 1) * 4
    local size, nb, inc = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    redis.call('HINCRBY', KEYS[i + 2], buckets[i], inc)
    redis.call('EXPIRE', KEYS[i + 2], size * (nb + 1))
    sums[i] = sums[i] + inc
  end
end
return {generation, redis.call('GET', KEYS[2]) or '0', sums, over, buckets, 0}
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
    """``stale``: the generation is not the one the caller's configuration was loaded at;
    nothing was counted (the rows were pushed all the same)."""

    generation: int
    score: float
    totals: dict[str, int]
    over: tuple[str, ...]
    counted: tuple[tuple[str, int, int], ...]
    stale: bool = False


def score_key(msisdn: str) -> str:
    return f"risk:score:{msisdn}"


def check_and_count(
    counts: list[Count],
    *,
    now: float,
    score_subject: str,
    generation: int = -1,
    rows: list[str] | None = None,
) -> Counted:
    """Run the script (raises ``redis.RedisError`` when Redis is unreachable). ``rows`` are
    recorded decisions to append to the record queue in the same round trip. ``generation``
    is the one the caller's configuration was loaded at (-1: unknown, not compared).

    ``totals`` are the window sums including this event when it was counted (or excluding it
    when a cap refused it: then nothing was counted, ``over`` names the caps over their limit).
    """
    args: list[int | float | str] = [int(now), "" if generation < 0 else generation]
    for c in counts:
        size = WINDOW_SECONDS[c.window] // BUCKETS
        args += [size, BUCKETS, c.increment, -1 if c.limit is None else c.limit]
    keys = [GENERATION_KEY, score_key(score_subject or "-"), *(c.key for c in counts), QUEUE_KEY]
    args += rows or []
    current, score, sums, over, buckets, stale = _script(_CHECK_AND_COUNT)(keys=keys, args=args)
    if stale:
        return Counted(
            generation=int(current), score=0.0, totals={}, over=(), counted=(), stale=True
        )
    over_codes = tuple(counts[i - 1].code for i in over)
    counted = (
        ()
        if over_codes
        else tuple((c.key, int(b), c.increment) for c, b in zip(counts, buckets, strict=True))
    )
    return Counted(
        generation=int(current),
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
    _script(_RELEASE)(keys=[k for k, _b, _i in counted], args=args)


def _script(source: str) -> Any:
    """The script registered on the current client (kept: registering hashes the source)."""
    client = get_redis()
    script = _scripts.get(source)
    if script is None or script.registered_client is not client:
        script = _scripts[source] = client.register_script(source)
    return script


_scripts: dict[str, Any] = {}


def generation_bump() -> None:
    get_redis().incr(GENERATION_KEY)
