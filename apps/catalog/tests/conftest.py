"""Catalog tests: no page or search answer cached by one test is seen by the next."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()
