"""Catalog API: categories (django-filter), search with facets, product detail, errors."""

import pytest

from apps.catalog.tests.factories import small_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    return small_catalog()


def test_categories_flat_filtered_and_as_tree(api_client, catalog):
    flat = api_client.get("/api/v1/categories/?kind=digital").json()
    assert [c["slug"] for c in flat] == ["digital", "video"]
    assert flat[1]["parent"] == "digital"
    children = api_client.get("/api/v1/categories/?parent=electronic").json()
    assert [c["slug"] for c in children] == ["data"]
    tree = api_client.get("/api/v1/categories/?tree=1").json()
    assert [(c["slug"], [k["slug"] for k in c["children"]]) for c in tree] == [
        ("electronic", ["data"]),
        ("digital", ["video"]),
        ("physical", ["phones"]),
    ]
    bad = api_client.get("/api/v1/categories/?kind=space")
    assert bad.status_code == 400
    assert bad.json()["code"] == "INVALID_ARGUMENT"


def test_search_with_facets(api_client, catalog):
    body = api_client.get("/api/v1/products/", {"q": "流量", "sort": "price"}).json()
    assert [i["name"] for i in body["items"]] == ["省内流量包 5GB", "全国通用流量包 10GB"]
    assert body["items"][0]["highlighted_name"] == "省内<mark>流量</mark>包 5GB"
    assert (body["total"], body["pages"], body["fuzzy"]) == (2, 1, False)
    assert body["facets"]["category"] == [
        {"value": "data", "label": "流量包", "label_en": "data", "count": 2}
    ]
    priced = api_client.get("/api/v1/products/", {"price_max": "15.00", "sort": "price"}).json()
    assert [i["min_price_fen"] for i in priced["items"]] == [1000, 1500]


def test_search_refuses_bad_parameters(api_client, catalog):
    response = api_client.get(
        "/api/v1/products/", {"price_min": "cheap", "sort": "random", "page": 0}
    )
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"price_min", "sort", "page"}
    too_precise = api_client.get("/api/v1/products/", {"price_min": "1.234"})
    assert too_precise.status_code == 400


def test_product_detail(api_client, catalog):
    body = api_client.get(f"/api/v1/products/{catalog['iphone'].pk}/").json()
    assert body["name"] == "iPhone 16"
    assert body["per_user_limit"] == 2
    assert body["skus"][0]["stock_available"] == 3
    assert body["skus"][0]["price_fen"] == 599900
    missing = api_client.get("/api/v1/products/999999/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "PRODUCT_NOT_FOUND"
