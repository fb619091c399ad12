"""One Redis client per process: the real server when REDIS_URL is set, fakeredis otherwise."""

from __future__ import annotations

import functools

import redis
from django.conf import settings


@functools.cache
def get_redis() -> redis.Redis:
    """Return the shared client (connection-pooled and thread-safe)."""
    if settings.REDIS_URL:
        return redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0
        )
    import fakeredis

    return fakeredis.FakeRedis()
