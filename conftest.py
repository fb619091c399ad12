"""Fixtures for the whole suite: a clean Redis per test, the carrier sandbox process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.fixtures.sandbox"]


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Counters and nonces from one test must not leak into the next."""
    from apps.core.redis import get_redis

    get_redis().flushdb()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def redis_down(settings) -> Iterator[None]:
    """Point the platform at a Redis that refuses connections (nothing listens on port 9)."""
    from apps.core.redis import get_redis

    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    get_redis.cache_clear()
    yield
    get_redis.cache_clear()
