"""Every workbench list: no full count, a capped-then-estimated count, a date-range filter."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model

from apps.analytics import admin_policy
from apps.analytics.tests.support import at
from apps.catalog.models import Product
from apps.catalog.tests.factories import small_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(client):
    user = get_user_model().objects.create_superuser("13900000001", password="x")
    client.force_login(user)
    return user


def test_every_registered_list_has_the_policy():
    for model, model_admin in admin.site._registry.items():
        assert model_admin.show_full_result_count is False or "show_full_result_count" in vars(
            type(model_admin)
        ), model
        assert issubclass(model_admin.paginator, admin_policy.EstimatedCountPaginator) or (
            model_admin.paginator is not admin_policy.Paginator
        ), model


def test_the_product_list_filters_by_a_date_range(client, superuser):
    cat = small_catalog()
    Product.objects.filter(pk=cat["pack"].pk).update(created_at=at("2026-11-01", 23, 59))
    Product.objects.filter(pk=cat["vip"].pk).update(created_at=at("2026-11-02", 0, 0))
    Product.objects.exclude(pk__in=[cat["pack"].pk, cat["vip"].pk]).update(
        created_at=at("2026-11-05", 9)
    )
    page = client.get(
        "/admin/catalog/product/?created_at__range_start=2026-11-02&created_at__range_end=2026-11-04"
    )
    assert page.status_code == 200
    assert [p.pk for p in page.context["cl"].result_list] == [cat["vip"].pk]
    assert 'name="created_at__range_start" value="2026-11-02"' in page.content.decode()
    # a date that does not parse is ignored, not an error
    page = client.get("/admin/catalog/product/?created_at__range_start=2026-13-45")
    assert page.status_code == 200
    assert page.context["cl"].result_count == Product.objects.count()


def test_a_long_list_is_counted_up_to_the_cap_then_estimated(client, superuser, monkeypatch):
    small_catalog()  # 4 products
    monkeypatch.setattr(admin_policy, "COUNT_CAP", 2)
    estimates = []
    real = admin_policy._estimate
    monkeypatch.setattr(admin_policy, "_estimate", lambda qs: estimates.append(1) or real(qs))
    page = client.get("/admin/catalog/product/")
    assert page.status_code == 200
    assert estimates == [1]
    assert page.context["cl"].result_count >= 3
    assert page.context["cl"].full_result_count is None
    # under the cap the count is exact and nothing is estimated
    monkeypatch.setattr(admin_policy, "COUNT_CAP", 10)
    estimates.clear()
    assert client.get("/admin/catalog/product/").context["cl"].result_count == 4
    assert estimates == []


def test_a_large_table_is_listed_newest_first_unless_a_column_is_chosen(
    client, superuser, monkeypatch
):
    from apps.catalog.models import Sku

    small_catalog()
    monkeypatch.setattr(admin_policy, "LARGE_TABLE", -1)  # reltuples is -1 before ANALYZE
    admin_policy._large_seen.clear()
    try:
        page = client.get("/admin/catalog/sku/")
        assert [s.pk for s in page.context["cl"].result_list] == list(
            Sku.objects.order_by("-pk").values_list("pk", flat=True)
        )
        # a clicked column (price, ascending) still sorts
        page = client.get("/admin/catalog/sku/?o=4")
        prices = [s.price_fen for s in page.context["cl"].result_list]
        assert prices == sorted(prices)
    finally:
        admin_policy._large_seen.clear()


def test_a_date_hierarchy_becomes_a_range_filter(client, superuser):
    from apps.analytics.tests.support import order

    cat = small_catalog()
    buyer = get_user_model().objects.create_user("13800000077")
    order(buyer, [(cat["vip"], 1)], created=at("2026-11-02", 9))
    newer = order(buyer, [(cat["vip"], 1)], created=at("2026-11-03", 9))
    assert admin.site._registry[type(newer)].date_hierarchy is None
    page = client.get(
        "/admin/orders/order/?created_at__range_start=2026-11-03&created_at__range_end=2026-11-03"
    )
    assert [o.pk for o in page.context["cl"].result_list] == [newer.pk]


def test_every_registered_list_can_be_searched():
    assert [m._meta.label for m, a in admin.site._registry.items() if not a.search_fields] == []


def test_a_list_with_nothing_textual_is_searched_by_its_ids(client, superuser):
    import datetime as dt

    from apps.settlement.models import SettlementBatch

    # Given two settlement batches (no name, code or reference to search)
    batches = [
        SettlementBatch.objects.create(
            kind="cp", period_start=dt.date(2026, 10, d), period_end=dt.date(2026, 10, d + 1)
        )
        for d in (1, 2)
    ]
    second = batches[1]
    url = "/admin/settlement/settlementbatch/"
    # Then a search for one's id lists it alone, and words find nothing (not an error)
    page = client.get(url, {"q": str(second.pk)})
    assert [b.pk for b in page.context["cl"].result_list] == [second.pk]
    page = client.get(url, {"q": "十月"})
    assert (page.status_code, list(page.context["cl"].result_list)) == (200, [])


def test_amounts_in_fen_are_listed_in_yuan_and_still_sort(client, superuser):
    from apps.catalog.models import Sku

    small_catalog()
    page = client.get("/admin/catalog/sku/", headers={"accept-language": "zh-hans"})
    html = page.content.decode()
    # The column is named without its unit, shows yuan, and sorts by the amount
    assert "售价（分）" not in html and ">售价</a>" in html
    assert "¥5,999.00" in html and ">599900<" not in html
    page = client.get("/admin/catalog/sku/?o=4")
    assert [s.pk for s in page.context["cl"].result_list] == list(
        Sku.objects.order_by("price_fen", "-pk").values_list("pk", flat=True)
    )
