"""The recharge box's grids: one square per face value (the cheapest airtime SKU on sale) and
per volume (the cheapest national 30-day pack), ties to the oldest product, in reading order;
answered by one query per grid whatever the number of recharge SKUs (issue #18: building every
SKU made the home page's render take a second at 100,000 products)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.selectors import recharge_box
from apps.catalog.tests.factories import category, product, product_type

pytestmark = pytest.mark.django_db


def test_each_square_is_the_cheapest_on_sale_ties_to_the_oldest_product():
    cat = category("electronic")
    airtime = product_type("airtime", schema=[{"key": "face_value", "type": "int"}])
    data = product_type("data_pack", schema=[
        {"key": "volume"}, {"key": "scope"}, {"key": "validity_days", "type": "int"},
    ])  # fmt: skip
    national_100 = product(
        cat, airtime, "话费100 全国", price=9_980, attributes={"face_value": 100}
    )
    product(cat, airtime, "话费100 广东", price=9_980, attributes={"face_value": 100})  # tie: newer
    product(cat, airtime, "话费100 贵", price=10_000, attributes={"face_value": 100})
    cheap_50 = product(cat, airtime, "话费50 特价", price=4_900, attributes={"face_value": 50})
    product(cat, airtime, "话费50", price=5_000, attributes={"face_value": 50})
    product(cat, airtime, "话费15", price=1_500, attributes={"face_value": 15})  # not a square
    ten_gb = product(cat, data, "10GB 全国 30天", price=3_000,
                     attributes={"volume": "10GB", "scope": "全国", "validity_days": 30})  # fmt: skip
    product(cat, data, "10GB 广东 30天", price=2_000,
            attributes={"volume": "10GB", "scope": "广东", "validity_days": 30})  # fmt: skip
    product(cat, data, "10GB 全国 7天", price=1_000,
            attributes={"volume": "10GB", "scope": "全国", "validity_days": 7})  # fmt: skip
    two_gb = product(cat, data, "2GB 全国 30天", price=900,
                     attributes={"volume": "2GB", "scope": "全国", "validity_days": 30})  # fmt: skip

    with CaptureQueriesContext(connection) as captured:
        box = recharge_box()

    assert len(captured.captured_queries) == 2
    assert [(o.label, o.sku_id, o.price_fen) for o in box.airtime] == [
        ("50元", cheap_50.skus.get().pk, 4_900),
        ("100元", national_100.skus.get().pk, 9_980),
    ]
    assert [(o.label, o.note, o.sku_id) for o in box.data] == [
        ("2GB", "30天 全国", two_gb.skus.get().pk),
        ("10GB", "30天 全国", ten_gb.skus.get().pk),
    ]
    assert (box.airtime_pick, box.data_pick) == (national_100.skus.get().pk, ten_gb.skus.get().pk)
    assert [o.label_en for o in box.airtime] == ["50 yuan", "100 yuan"]
