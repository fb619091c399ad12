"""Mall pages: content, bounded queries, whole-page cache and its invalidation, scheduling."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.catalog import services
from apps.catalog.models import Banner, Shelf, ShelfItem, Sku
from apps.catalog.tests.factories import small_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    cache.clear()
    items = small_catalog()
    shelf = Shelf.objects.create(title="热门流量包", placement="home")
    for i, key in enumerate(["pack", "local", "vip"]):
        ShelfItem.objects.create(shelf=shelf, product=items[key], sort=i)
    Banner.objects.create(title="流量节", link="/c/data/")
    return items


def test_home_shows_banners_shelves_and_categories(client, catalog):
    text = client.get("/").content.decode()
    assert "流量节" in text
    assert "热门流量包" in text
    assert "全国通用流量包 10GB" in text
    assert "¥30.00" in text
    assert 'href="/c/data/"' in text


def test_banners_rotate_with_controls_when_there_are_several(client, catalog):
    # One banner: no controls
    assert "carousel-prev" not in client.get("/").content.decode()
    # Two: previous, next and a dot each (static/js/site.js moves them, and every 5 s)
    Banner.objects.create(title="新机上市", link="/c/phones/")
    cache.clear()
    html = client.get("/").content.decode()
    assert "data-carousel" in html and "data-prev" in html and "data-next" in html
    assert html.count("data-dot=") == 2 and 'aria-label="2 / 2"' in html


@pytest.mark.parametrize(
    ("url", "max_queries"),
    [("/", 6), ("/c/data/", 7), ("/search/?q=流量", 8), ("/p/{iphone}/", 4)],
)
def test_hot_pages_have_bounded_queries(
    client, catalog, django_assert_max_num_queries, url, max_queries
):
    url = url.format(iphone=catalog["iphone"].pk)
    with django_assert_max_num_queries(max_queries):
        assert client.get(url).status_code == 200


def test_query_count_does_not_grow_with_products(client, catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.catalog.tests.factories import product, product_type

    with CaptureQueriesContext(connection) as few:
        client.get("/c/data/?sort=price")
    ptype = product_type("more")
    for i in range(15):
        product(catalog["data"], ptype, f"更多流量包 {i}")
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get("/c/data/?sort=price")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_anonymous_pages_are_cached_and_a_price_change_shows_at_once(
    client, catalog, django_capture_on_commit_callbacks
):
    url = f"/p/{catalog['pack'].pk}/"
    first = client.get(url)
    second = client.get(url)
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert "¥30.00" in second.content.decode()
    sku = Sku.objects.get(product=catalog["pack"])
    sku.price_fen = 2500
    sku.list_price_fen = 3000
    sku.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.product_refresh(product_id=catalog["pack"].pk)
    third = client.get(url)
    assert third["X-Cache"] == "miss"
    assert "¥25.00" in third.content.decode()


def test_cached_pages_carry_no_per_visitor_token_or_cookie(client, catalog):
    url = f"/p/{catalog['pack'].pk}/"
    miss = client.get(url)
    fresh = client.__class__()
    hit = fresh.get(url)
    assert (miss["X-Cache"], hit["X-Cache"]) == ("miss", "hit")
    assert not miss.cookies
    assert not hit.cookies
    assert 'name="csrfmiddlewaretoken" value="" data-csrf' in hit.content.decode()
    assert hit["Cache-Control"].startswith("public")


def test_a_form_on_a_cached_page_fetches_its_token_then_posts(catalog):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.get(f"/p/{catalog['pack'].pk}/")
    refused = browser.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": ""})
    assert refused.status_code == 403
    token = browser.get("/csrf/")
    assert token.status_code == 204
    assert "no-store" in token["Cache-Control"]
    cookie = browser.cookies["csrftoken"].value
    done = browser.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": cookie})
    assert done.status_code == 302


def test_signed_in_users_are_not_served_from_cache(client, catalog):
    from apps.accounts.models import User

    client.force_login(User.objects.create_user("13800138000"))
    page = client.get("/")
    assert "X-Cache" not in page
    assert "private" in page["Cache-Control"]


def test_scheduled_shelves_and_banners(client, catalog):
    now = timezone.now()
    Shelf.objects.update(starts_at=now + timedelta(hours=1))
    Banner.objects.update(ends_at=now - timedelta(minutes=1))
    cache.clear()
    text = client.get("/").content.decode()
    assert "热门流量包" not in text
    assert "流量节" not in text
    Shelf.objects.update(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    cache.clear()
    assert "热门流量包" in client.get("/").content.decode()


def test_unknown_things_are_404_not_500(client, catalog):
    assert client.get("/c/nope/").status_code == 404
    assert client.get("/p/999999/").status_code == 404
    assert client.get("/pages/nope/").status_code == 404
    bad = client.get("/search/?q=流量&price_min=abc&sort=zzz&page=-3")
    assert bad.status_code == 200
    assert (
        "Some filters were not understood" in bad.content.decode()
        or "部分筛选条件" in bad.content.decode()
    )


def test_english_names_when_english_is_chosen(client, catalog):
    cache.clear()
    text = client.get(f"/p/{catalog['vip'].pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Video VIP monthly" in text


def test_portal_page_is_sanitised(client, catalog):
    from apps.catalog.models import PortalPage

    PortalPage.objects.create(
        slug="help", title="帮助", body="<p>好</p><script>alert(1)</script>", is_published=True
    )
    text = client.get("/pages/help/").content.decode()
    assert "<p>好</p>" in text
    assert "alert(1)" not in text


def test_number_check_against_the_carrier(client, catalog, carrier_sandbox):
    ok = client.get("/p/check-number/?recipient=13800138000").content.decode()
    assert 'class="ok"' in ok
    other = client.get("/p/check-number/?recipient=13012345678").content.decode()
    assert "中国联通" in other and "CUCC" not in other and 'class="error"' in other
    unknown = client.get("/p/check-number/?recipient=13512345678").content.decode()
    assert 'class="error"' in unknown
    invalid = client.get("/p/check-number/?recipient=123").content.decode()
    assert 'class="error"' in invalid


def test_a_choice_attribute_shows_its_label_not_its_code(client):
    from apps.catalog.tests.factories import category, product, product_type

    kind = product_type("e_card", schema=[{
        "key": "card_kind", "label": "卡种", "type": "choice", "choices": ["recharge", "data"],
        "choice_labels": {"recharge": "话费卡", "data": "流量卡"}, "required": True,
    }])  # fmt: skip
    card = product(
        category("cards-online"), kind, "话费充值卡密 50元", attributes={"card_kind": "recharge"}
    )
    html = client.get(f"/p/{card.pk}/").content.decode()
    assert "<dt>卡种</dt><dd>话费卡</dd>" in html and "recharge" not in html


def test_a_search_without_results_says_so_once_and_filters_fold_on_phones(client, catalog):
    html = client.get("/search/", {"q": "量子计算机"}).content.decode()
    assert "没有找到" in html and "相近" not in html
    assert '<details class="filter-panel" data-open-wide>' in html  # folded until site.js opens it


def test_english_mode_uses_the_english_name_and_subtitle_and_falls_back(client, catalog):
    from apps.catalog.models import Product

    Product.objects.filter(pk=catalog["pack"].pk).update(
        subtitle="全国可用", subtitle_en="Nationwide"
    )
    Product.objects.filter(pk=catalog["vip"].pk).update(subtitle="热门剧集", subtitle_en="")
    client.cookies["django_language"] = "en"
    pack = client.get(f"/p/{catalog['pack'].pk}/").content.decode()
    assert "National data pack 10GB" in pack and "Nationwide" in pack and "全国可用" not in pack
    vip = client.get(f"/p/{catalog['vip'].pk}/").content.decode()
    assert "热门剧集" in vip  # no English subtitle: the Chinese one


def test_english_mode_names_skus_attributes_and_facets_in_english(client, catalog):
    from apps.catalog.models import Category, Product, ProductType

    ProductType.objects.filter(code="data_pack").update(
        attribute_schema=[
            {"key": "scope", "label": "使用范围", "label_en": "Where it works", "type": "choice",
             "choices": ["全国", "省内"], "choice_labels_en": {"全国": "Nationwide"}},
            {"key": "validity_days", "label": "有效期", "label_en": "Valid for", "type": "int",
             "unit": "天", "unit_en": " days"},
            {"key": "volume", "label": "流量", "type": "str"},
        ]
    )  # fmt: skip
    pack = catalog["pack"]
    Product.objects.filter(pk=pack.pk).update(
        attributes={"scope": "全国", "validity_days": 30, "volume": "10GB"}
    )
    Sku.objects.filter(product=pack).update(name="10GB/30天", name_en="10GB/30 days")
    Category.objects.filter(slug="data").update(name_en="Data packs")
    Sku.objects.filter(product=catalog["local"]).update(name="5GB/7天", name_en="")

    client.cookies["django_language"] = "en"
    page = client.get(f"/p/{pack.pk}/").content.decode()
    assert "<span>10GB/30 days</span>" in page and "10GB/30天" not in page
    assert "<dt>Where it works</dt><dd>Nationwide</dd>" in page
    assert "<dt>Valid for</dt><dd>30 days</dd>" in page
    assert "<dt>流量</dt><dd>10GB</dd>" in page  # no English label: the Chinese one
    local = client.get(f"/p/{catalog['local'].pk}/").content.decode()
    assert "<span>5GB/7天</span>" in local  # no English variant name: the Chinese one
    search = client.get("/search/", {"q": "流量"}).content.decode()
    assert ">Data packs <span>(2)</span>" in search and ">Electronic goods <span>" in search

    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/p/{pack.pk}/").content.decode()
    assert "<span>10GB/30天</span>" in page and "<dt>使用范围</dt><dd>全国</dd>" in page
    search = client.get("/search/", {"q": "流量"}).content.decode()
    assert ">流量包 <span>(2)</span>" in search and ">电子商品 <span>" in search


def test_pages_fail_open_when_the_shared_cache_is_down(client, catalog, settings):
    """Redis down (tests/faults/test_redis_outage.py does it for real): the page is rendered
    from PostgreSQL, uncached, instead of a 500."""
    from apps.catalog.pagecache import SHARED_PAGES

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        }
    }
    SHARED_PAGES.forget_version()
    client.raise_request_exception = False
    for url in ("/", f"/p/{catalog['pack'].pk}/", "/c/data/", "/search/?q=流量"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "X-Cache" not in response
    assert "全国通用流量包" in client.get(f"/p/{catalog['pack'].pk}/").content.decode()
