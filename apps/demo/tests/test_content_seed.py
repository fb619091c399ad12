"""The demo CP: approved, a product of each of the five kinds on sale, its published key."""

from __future__ import annotations

import pytest

from apps.content.models import ContentProduct, PricePoint, SigningKey
from apps.demo.content_seed import DEMO_CP_KEY_ID, seed_content
from apps.demo.seed import seed_users

pytestmark = pytest.mark.django_db


def test_the_demo_cp_sells_all_five_kinds_and_seeding_again_adds_nothing():
    seed_users()
    assert seed_content() == 5
    assert seed_content() == 0
    products = ContentProduct.objects.filter(status="approved")
    assert sorted(products.values_list("kind", flat=True)) == [
        "animation",
        "game",
        "music",
        "reading",
        "video",
    ]
    assert all(p.catalog_product_id for p in products)
    further = PricePoint.objects.filter(
        is_default=False, status="approved", catalog_sku_id__isnull=False
    )
    assert sorted(further.values_list("billing_code", flat=True)) == [
        "DEMO-ANIM-1-C",
        "DEMO-GAME-1-L",
    ]
    assert PricePoint.objects.count() == 7  # each product's default and the two more, once
    assert SigningKey.objects.get(key_id=DEMO_CP_KEY_ID).slot == "active"
