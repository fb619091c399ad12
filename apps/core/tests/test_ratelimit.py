"""The sliding-window limiter counts hits atomically and does not count refusals."""

from apps.core.ratelimit import rate_hit
from apps.core.redis import get_redis


def test_allows_up_to_limit_then_refuses_with_retry_after():
    decisions = [rate_hit(key="t:a", limit=3, window_seconds=60) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert decisions[2].count == 3
    assert 1 <= decisions[3].retry_after_seconds <= 60
    # Refused hits were not added to the window.
    assert get_redis().zcard("rl:t:a") == 3


def test_keys_are_independent():
    assert rate_hit(key="t:b", limit=1, window_seconds=60).allowed
    assert rate_hit(key="t:c", limit=1, window_seconds=60).allowed
    assert not rate_hit(key="t:b", limit=1, window_seconds=60).allowed


def test_all_or_nothing_counts_under_every_key_or_none():
    from apps.core.ratelimit import RateLimit, rate_hit_all

    number = RateLimit("t:number", 5, 60)
    address = RateLimit("t:ip", 1, 60)
    assert rate_hit_all([number, address]) == (None, 0)
    full, retry_after = rate_hit_all([number, address])
    assert full == address
    assert 1 <= retry_after <= 60
    # The refusal by the address did not use up the number's allowance.
    assert get_redis().zcard("rl:t:number") == 1
    assert rate_hit_all([]) == (None, 0)
