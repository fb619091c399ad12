"""The catalog workbench writes through services: status moves and stock are locked and audited."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache

from apps.catalog import services
from apps.catalog.errors import ProductStatusRefused, StockBelowReserved
from apps.catalog.models import Product, Sku
from apps.catalog.tests.factories import category, product, product_type, small_catalog
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def goods():
    cat, ptype = category("phones", kind="physical"), product_type("phone", kind="physical")
    return product(cat, ptype, "P1", stock=10), product(cat, ptype, "P2", stock=5)


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser(phone="+8613800000001", password="x")
    client.force_login(user)
    return user


def _events(action: str) -> list[tuple[str, object]]:
    rows = AuditEvent.objects.filter(action=action).order_by("id")
    return [(row.object_id, row.after) for row in rows]


def test_publish_action_moves_each_product_once_with_an_audit_event(client, operator, goods):
    # Given two products off sale
    p1, p2 = goods
    services.products_status_set(product_ids=[p1.pk, p2.pk], status="archived", actor_id=None)
    # When the operator publishes both, then publishes again
    for _ in range(2):
        response = client.post(
            "/admin/catalog/product/",
            {"action": "publish", "_selected_action": [p1.pk, p2.pk]},
        )
        assert response.status_code == 302
    # Then both are on sale, each moved (and audited) once, by the operator
    assert set(Product.objects.values_list("status", flat=True)) == {"published"}
    events = AuditEvent.objects.filter(action="product.published").order_by("object_id")
    assert [(e.object_id, e.actor_id, e.before) for e in events] == [
        (str(p1.pk), operator.pk, {"status": "archived"}),
        (str(p2.pk), operator.pk, {"status": "archived"}),
    ]


def test_a_refused_move_moves_none_and_bumps_no_cache(goods):
    # Given one product on sale and one off sale
    p1, p2 = goods
    services.products_status_set(product_ids=[p2.pk], status="archived", actor_id=None)
    version = cache.get(services.CATALOG_VERSION_KEY)
    # When both are sent back to draft
    with pytest.raises(ProductStatusRefused):
        services.products_status_set(product_ids=[p1.pk, p2.pk], status="draft", actor_id=None)
    # Then nothing moved and no page went stale
    assert dict(Product.objects.values_list("pk", "status")) == {
        p1.pk: "published",
        p2.pk: "archived",
    }
    assert _events("product.draft") == []
    assert cache.get(services.CATALOG_VERSION_KEY) == version


def test_stock_edit_keeps_reservations_and_is_audited(client, operator, goods):
    # Given a SKU with 3 units held by an unpaid order
    p1, _ = goods
    sku = Sku.objects.get(product=p1)
    services.stock_reserve(lines=[(sku.pk, 3)], reference="order:1")
    # When the operator opens the SKU form (reading the held units) and sets 20 on hand
    page = client.get(f"/admin/catalog/sku/{sku.pk}/change/")
    assert page.status_code == 200
    form = {
        "code": sku.code, "product": p1.pk, "name": sku.name, "price_fen": sku.price_fen,
        "list_price_fen": sku.list_price_fen or "", "tracks_stock": "on", "stock_on_hand": 20,
        "low_stock_threshold": sku.low_stock_threshold, "is_active": "on", "sort": sku.sort,
    }  # fmt: skip
    services.stock_reserve(lines=[(sku.pk, 1)], reference="order:2")  # meanwhile
    response = client.post(f"/admin/catalog/sku/{sku.pk}/change/", form)
    # Then stock on hand is 20, both reservations are kept, and the change is audited
    assert response.status_code == 302, response.content[:2000]
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.stock_reserved) == (20, 4)
    assert _events("stock.set") == [
        (str(sku.pk), {"on_hand": 20, "reason": "workbench"}),
    ]


def test_stock_below_what_orders_hold_is_refused_and_nothing_changes(goods):
    p1, _ = goods
    sku = Sku.objects.get(product=p1)
    services.stock_reserve(lines=[(sku.pk, 4)], reference="order:1")
    with pytest.raises(StockBelowReserved):
        services.sku_update(sku_id=sku.pk, changes={"stock_on_hand": 3, "name": "x"}, actor_id=None)
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.stock_reserved, sku.name) == (10, 4, "default")
    assert _events("stock.set") == []


def test_finance_cannot_change_prices_or_publish(client):
    catalog = small_catalog()
    user = get_user_model().objects.create_user("13800000001", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="finance"))
    client.force_login(user)
    assert client.get("/admin/catalog/sku/import/").status_code == 403
    client.post(
        "/admin/catalog/product/", {"action": "unpublish", "_selected_action": [catalog["vip"].pk]}
    )
    assert Product.objects.get(pk=catalog["vip"].pk).status == "published"


@pytest.mark.parametrize("how", ["one", "selected"])
@pytest.mark.parametrize("what", ["product", "sku", "category", "banner"])
def test_a_deletion_in_the_workbench_makes_cached_pages_stale(
    client, operator, goods, what, how, django_capture_on_commit_callbacks
):
    # Given something the cached pages show, and the catalog version they were rendered at
    from apps.catalog.models import Banner, Category

    p1, _ = goods
    empty = category("empty-shelf")
    sku = Sku.objects.create(
        product=p1, code="P1-extra", name="extra", price_fen=500, list_price_fen=500
    )
    services.product_refresh(product_id=p1.pk)
    banner = Banner.objects.create(title="sale", link="/")
    row = {"product": p1, "sku": sku, "category": empty, "banner": banner}[what]
    cache.set(services.CATALOG_VERSION_KEY, 7, timeout=None)
    # When an operator deletes it (its own page, or "delete selected" on the list)
    url = f"/admin/catalog/{what}/"
    with django_capture_on_commit_callbacks(execute=True):
        if how == "one":
            response = client.post(f"{url}{row.pk}/delete/", {"post": "yes"})
        else:
            response = client.post(
                url, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
            )
    assert response.status_code == 302
    # Then it is gone and every cached catalog page is stale
    model = {"product": Product, "sku": Sku, "category": Category, "banner": Banner}[what]
    assert not model.objects.filter(pk=row.pk).exists()
    assert cache.get(services.CATALOG_VERSION_KEY) > 7
    if what == "sku":  # the product's derived price no longer counts the deleted SKU
        p1.refresh_from_db()
        assert p1.min_price_fen == 1000
