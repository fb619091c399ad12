"""Search relevance in Chinese and English, typo fallback, filters, facets, sorting, paging."""

import pytest

from apps.catalog import search
from apps.catalog.selectors import SearchFilters, product_search, suggest
from apps.catalog.tests.factories import small_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    return small_catalog()


def names(result):
    return [item.name for item in result.items]


def test_segmentation_and_tsquery():
    assert search.segment("全国通用流量包") == ["全国", "通用", "流量", "包"]
    assert search.segment("iPhone 16 Pro") == ["iphone", "16", "pro"]
    assert search.tsquery("video  vip!") == "'video' & 'vip':*"
    assert search.tsquery("'; DROP TABLE --") == "'drop' & 'table':*"
    assert search.tsquery("!!!") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("流量", ["省内流量包 5GB", "全国通用流量包 10GB"]),
        ("video vip", ["视频会员 月卡"]),
        ("视频会员", ["视频会员 月卡"]),
        ("iphone", ["iPhone 16"]),
        ("iphon", ["iPhone 16"]),
        ("全国 10gb", ["全国通用流量包 10GB"]),
    ],
)
def test_relevance_in_both_languages(catalog, query, expected):
    result = product_search(filters=SearchFilters(query=query))
    assert names(result) == expected
    assert result.fuzzy is False


def test_typo_falls_back_to_trigram(catalog):
    result = product_search(filters=SearchFilters(query="iphnoe 16"))
    assert result.fuzzy is True
    assert names(result)[0] == "iPhone 16"


def test_no_match_at_all(catalog):
    result = product_search(filters=SearchFilters(query="冰箱洗衣机"))
    assert result.total == 0
    assert result.items == []


def test_name_matches_rank_above_category_matches(catalog):
    # "流量" is in the data packs' names (weight A) and in their category (weight B).
    result = product_search(filters=SearchFilters(query="流量包 全国"))
    assert names(result) == ["全国通用流量包 10GB"]


def test_highlighting_escapes_and_marks(catalog):
    result = product_search(filters=SearchFilters(query="流量"))
    assert result.items[0].highlighted_name == "省内<mark>流量</mark>包 5GB"
    assert search.highlight("<b>流量</b>", "流量") == "&lt;b&gt;<mark>流量</mark>&lt;/b&gt;"


def test_filters_price_kind_category_stock_owner(catalog):
    assert names(product_search(filters=SearchFilters(category="data", sort="price"))) == [
        "省内流量包 5GB",
        "全国通用流量包 10GB",
    ]
    # The parent category includes its subtree.
    assert product_search(filters=SearchFilters(category="electronic")).total == 2
    assert names(product_search(filters=SearchFilters(kind="digital"))) == ["视频会员 月卡"]
    assert names(
        product_search(filters=SearchFilters(price_min_fen=1500, price_max_fen=3000, sort="price"))
    ) == [
        "视频会员 月卡",
        "全国通用流量包 10GB",
    ]
    assert product_search(filters=SearchFilters(owner="platform")).total == 4
    assert product_search(filters=SearchFilters(owner="999")).total == 0
    assert product_search(filters=SearchFilters(category="no-such")).total == 0


def test_in_stock_filter(catalog):
    from apps.catalog.models import Sku
    from apps.catalog.services import product_refresh

    Sku.objects.filter(product=catalog["iphone"]).update(stock_on_hand=0)
    product_refresh(product_id=catalog["iphone"].pk)
    assert "iPhone 16" in names(product_search(filters=SearchFilters()))
    assert "iPhone 16" not in names(product_search(filters=SearchFilters(in_stock=True)))


def test_facets_ignore_their_own_filter(catalog):
    result = product_search(filters=SearchFilters(kind="electronic"))
    assert result.total == 2
    kinds = {f.value: f.count for f in result.facets["kind"]}
    assert kinds == {"electronic": 2, "digital": 1, "physical": 1}
    categories = {f.value: f.count for f in result.facets["category"]}
    assert categories == {"data": 2}


def test_sorting(catalog):
    assert names(product_search(filters=SearchFilters(sort="sales")))[:2] == [
        "省内流量包 5GB",
        "全国通用流量包 10GB",
    ]
    assert names(product_search(filters=SearchFilters(sort="-price")))[0] == "iPhone 16"
    assert names(product_search(filters=SearchFilters(sort="newest")))[0] == "iPhone 16"


def test_pagination(catalog, monkeypatch):
    from apps.catalog.selectors import search as selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    first = product_search(filters=SearchFilters(sort="price"))
    second = product_search(filters=SearchFilters(sort="price", page=2))
    beyond = product_search(filters=SearchFilters(sort="price", page=99))
    assert (first.total, first.pages, len(first.items)) == (4, 2, 3)
    assert names(second) == ["iPhone 16"]
    assert beyond.page == 2


def test_unpublished_and_scheduled_products_are_hidden(catalog):
    from datetime import timedelta

    from django.utils import timezone

    from apps.catalog.models import Product

    Product.objects.filter(pk=catalog["vip"].pk).update(status="draft")
    Product.objects.filter(pk=catalog["pack"].pk).update(
        on_shelf_at=timezone.now() + timedelta(hours=1)
    )
    Product.objects.filter(pk=catalog["local"].pk).update(
        off_shelf_at=timezone.now() - timedelta(seconds=1), on_shelf_at=None
    )
    assert names(product_search(filters=SearchFilters())) == ["iPhone 16"]


def test_suggestions(catalog):
    assert suggest(prefix="iph") == ["iPhone 16"]
    assert suggest(prefix="流量") == ["省内流量包 5GB", "全国通用流量包 10GB"]
    assert suggest(prefix="  ") == []


def test_broad_queries_are_capped(catalog, monkeypatch):
    from apps.catalog.selectors import search as selectors

    monkeypatch.setattr(selectors, "RESULT_POOL", 2)
    listing = product_search(filters=SearchFilters(sort="price"))
    assert (listing.total, listing.total_capped) == (2, True)
    assert len(listing.items) == 4  # a listing still pages in its own order
    assert sum(f.count for f in listing.facets["kind"]) == 2
    monkeypatch.setattr(selectors, "RESULT_POOL", 1)
    broad = product_search(filters=SearchFilters(query="流量"))
    assert (broad.total, broad.total_capped, len(broad.items)) == (1, True, 1)  # ranked in the pool


def test_products_of_the_category_a_query_names_rank_first(catalog):
    # 流量 is in airtime's words too (its parent category is 话费流量, and a top-up's name may
    # say 流量); the data packs' category is named 流量包, so data packs come first, and the
    # other way round for 话费 (issue #17).
    from apps.catalog.models import Product
    from apps.catalog.tests.factories import category, product, product_type

    airtime = category("airtime", parent=catalog["data"].parent, name="话费充值")
    top_up = product_type("airtime", needs_number=True)
    for i in range(3):
        made = product(airtime, top_up, f"话费流量双享充值 {i}")
        Product.objects.filter(pk=made.pk).update(sales_count=1000 + i)
    product(catalog["data"], product_type("extra"), "话费流量包 2GB")
    data_first = names(product_search(filters=SearchFilters(query="流量")))
    assert set(data_first[:3]) == {"话费流量包 2GB", "省内流量包 5GB", "全国通用流量包 10GB"}
    assert set(data_first[3:]) == {f"话费流量双享充值 {i}" for i in range(3)}
    airtime_first = names(product_search(filters=SearchFilters(query="话费")))
    assert airtime_first[:3] == [f"话费流量双享充值 {i}" for i in (2, 1, 0)]
    assert "话费流量包 2GB" in airtime_first[3:]


def test_a_broad_query_reads_one_pool_not_every_match(catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # categories, the pool, the page's cards
        result = product_search(filters=SearchFilters(query="流量"))
    assert result.total == 2
