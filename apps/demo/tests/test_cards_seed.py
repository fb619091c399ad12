"""The demo's cards sold online: products with stock equal to their unsold cards, seeded once."""

import pytest

from apps.catalog.models import Sku
from apps.demo import catalog_data
from apps.demo.cards_seed import CARDS_PER_SKU, seed_cards
from apps.fulfilment.models import Card, CardBatch

pytestmark = pytest.mark.django_db


def test_card_products_and_batches_are_seeded_once():
    assert seed_cards() == len(catalog_data.E_CARDS)
    assert seed_cards() == 0
    skus = Sku.objects.filter(code__startswith="ECARD-")
    assert sorted(skus.values_list("code", "stock_on_hand")) == sorted(
        (row[1], CARDS_PER_SKU) for row in catalog_data.E_CARDS
    )
    assert {b.kind for b in CardBatch.objects.all()} == {"recharge", "data", "points"}
    assert CardBatch.objects.get(sku_id=skus.get(code="ECARD-DATA-5GB").pk).volume_mb == 5120
    assert Card.objects.count() == CARDS_PER_SKU * len(catalog_data.E_CARDS)
    assert not Card.objects.filter(pin_encrypted="").exists()
