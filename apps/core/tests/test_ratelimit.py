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
    assert get_redis().zcard("rl:{t}:t:number") == 1
    assert rate_hit_all([]) == (None, 0)


def test_keys_counted_together_share_one_cluster_slot():
    """Redis Cluster runs a script only over keys of one slot (else CROSSSLOT): the keys of one
    all-or-nothing count carry one hash tag."""
    from redis.crc import key_slot

    from apps.core.ratelimit import RateLimit, rate_hit_all

    rate_hit_all(
        [RateLimit("otp:phone:+8613800138000", 5, 3600), RateLimit("otp:ip:10.0.0.1", 20, 3600)]
    )
    keys = sorted(get_redis().keys("rl:*"))
    assert len(keys) == 2
    assert len({key_slot(key) for key in keys}) == 1
