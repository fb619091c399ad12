"""The rebuild command restores search terms for every product."""

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.models import Product
from apps.catalog.selectors import SearchFilters, product_search
from apps.catalog.tests.factories import small_catalog

pytestmark = pytest.mark.django_db


def test_rebuild_restores_lost_terms():
    small_catalog()
    Product.objects.update(search_terms_a="", search_terms_b="", search_text="")
    assert product_search(filters=SearchFilters(query="iphone")).total == 0
    call_command("rebuild_search_index", "--batch", "2")
    assert [i.name for i in product_search(filters=SearchFilters(query="iphone")).items] == [
        "iPhone 16"
    ]
    assert Product.objects.filter(search_terms_a="").count() == 0


def test_bad_batch_is_refused():
    with pytest.raises(CommandError):
        call_command("rebuild_search_index", "--batch", "0")
