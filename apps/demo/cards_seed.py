"""Seed the demo's cards sold online: the e_card products and an online batch for each.

Idempotent: a product is keyed by its SKU code, and a SKU that already has an online batch
gets no other.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.catalog.models import Sku
from apps.catalog.services import SkuSpec
from apps.demo import catalog_data as data
from apps.demo.catalog_seed import _Seeder
from apps.fulfilment.cards import card_batch_create, card_value_for_sku
from apps.fulfilment.models import CardBatch

CARDS_PER_SKU = 50


def seed_cards() -> int:
    """Create the missing card products and their batches; returns how many batches were made."""
    with transaction.atomic():
        seeder = _Seeder()
        for category, code, name, name_en, price, attributes in data.E_CARDS:
            seeder.add(category, "e_card", name, [SkuSpec(code, name.rsplit(" ", 1)[-1], price, stock=0)],
                       name_en=name_en, subtitle="购买后在订单详情查看卡号和密码", attributes=attributes)  # fmt: skip
    made = 0
    for sku_id in Sku.objects.filter(code__in=[row[1] for row in data.E_CARDS]).values_list(
        "pk", flat=True
    ):
        if CardBatch.objects.filter(sku_id=sku_id).exists():
            continue
        card_batch_create(value=card_value_for_sku(sku_id=sku_id), quantity=CARDS_PER_SKU, sku_id=sku_id,
                          expires_at=timezone.now() + timedelta(days=365), actor_id=None)  # fmt: skip
        made += 1
    return made
