"""The demo marketing seed runs twice without adding anything twice."""

import pytest

from apps.demo.catalog_seed import seed_catalog
from apps.demo.marketing_seed import seed_marketing
from apps.marketing.models import Campaign, Channel, Coupon, FlashSale

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent():
    seed_catalog()
    assert seed_marketing() == 5
    assert seed_marketing() == 0
    assert Campaign.objects.count() == 5 and Coupon.objects.count() == 200
    assert FlashSale.objects.count() == 1 and Channel.objects.get().codes.get().code == "campus"
