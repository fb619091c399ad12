"""Products' sales counts: counted in Redis by the paying requests, written by a beat task."""

from __future__ import annotations

import pytest
import redis

from apps.catalog.models import Product
from apps.catalog.services import products as product_services
from apps.catalog.services import products_sales_flush, products_sold
from apps.catalog.tests.factories import small_catalog

pytestmark = pytest.mark.django_db


def _counts() -> dict[int, int]:
    return dict(Product.objects.values_list("pk", "sales_count"))


def test_sales_are_counted_then_written_in_one_flush_never_below_zero():
    catalog = small_catalog()
    products_sales_flush()
    vip, other = catalog["vip"].pk, next(p for p in _counts() if p != catalog["vip"].pk)
    before = _counts()
    products_sold(units={vip: 2})
    products_sold(units={vip: 1, other: -10_000})
    assert _counts() == before  # not written by the paying request
    assert products_sales_flush() == 2
    after = _counts()
    assert after[vip] == before[vip] + 3 and after[other] == 0
    assert products_sales_flush() == 0  # taken once


def test_units_go_straight_to_the_table_when_redis_cannot_take_them(monkeypatch):
    catalog = small_catalog()
    products_sales_flush()
    vip = catalog["vip"].pk
    before = _counts()[vip]

    class Down:
        def pipeline(self, **_: object) -> Down:
            raise redis.ConnectionError("down")

    monkeypatch.setattr(product_services, "get_redis", lambda: Down())
    products_sold(units={vip: 4})
    assert _counts()[vip] == before + 4


def test_a_failed_write_puts_the_units_back(monkeypatch):
    catalog = small_catalog()
    products_sales_flush()
    vip = catalog["vip"].pk
    before = _counts()[vip]
    products_sold(units={vip: 5})

    def broken(units: dict[int, int]) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(product_services, "_sales_write", broken)
    with pytest.raises(RuntimeError):
        products_sales_flush()
    monkeypatch.undo()
    assert products_sales_flush() == 1
    assert _counts()[vip] == before + 5
