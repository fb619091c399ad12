"""The cart: adding with limits and stock, recipient numbers checked with the carrier, merging."""

import pytest
from django.utils import translation

from apps.catalog.errors import OutOfStock, PurchaseLimitExceeded, SkuNotFound
from apps.catalog.models import Product
from apps.catalog.tests.factories import small_catalog
from apps.orders import services
from apps.orders.errors import (
    CartLineNotFound,
    InvalidQuantity,
    RecipientNotRechargeable,
    RecipientRequired,
)
from apps.orders.models import Cart, CartLine
from apps.orders.selectors import cart_view
from apps.orders.services import CartOwner

pytestmark = pytest.mark.django_db
GUEST = CartOwner(session_key="guest-1")


@pytest.fixture
def catalog():
    return small_catalog()


def sku_of(product: Product) -> int:
    return product.skus.get().pk


def test_add_and_view_with_totals(catalog):
    services.cart_add(owner=GUEST, sku_id=sku_of(catalog["vip"]), quantity=2)
    services.cart_add(owner=GUEST, sku_id=sku_of(catalog["vip"]), quantity=1)
    view = cart_view(owner=GUEST)
    assert [(line.product_name, line.quantity, line.subtotal_fen) for line in view.lines] == [
        ("视频会员 月卡", 3, 4500)
    ]
    assert (view.total_fen, view.count) == (4500, 3)


def test_purchase_limit_and_stock_are_enforced(catalog):
    iphone = sku_of(catalog["iphone"])  # limit 2 per customer, 3 in stock
    services.cart_add(owner=GUEST, sku_id=iphone, quantity=2)
    with pytest.raises(PurchaseLimitExceeded) as info:
        services.cart_add(owner=GUEST, sku_id=iphone, quantity=1)
    assert info.value.details == {"limit": 2}
    Product.objects.filter(pk=catalog["iphone"].pk).update(per_user_limit=None)
    with pytest.raises(OutOfStock):
        services.cart_add(owner=GUEST, sku_id=iphone, quantity=2)
    assert CartLine.objects.get().quantity == 2


def test_bad_quantities_and_unknown_skus(catalog):
    with pytest.raises(InvalidQuantity):
        services.cart_add(owner=GUEST, sku_id=sku_of(catalog["vip"]), quantity=0)
    with pytest.raises(InvalidQuantity):
        services.cart_add(owner=GUEST, sku_id=sku_of(catalog["vip"]), quantity=100)
    with pytest.raises(SkuNotFound):
        services.cart_add(owner=GUEST, sku_id=999999)
    Product.objects.filter(pk=catalog["vip"].pk).update(status="draft")
    with pytest.raises(SkuNotFound):
        services.cart_add(owner=GUEST, sku_id=sku_of(catalog["vip"]))
    assert not CartLine.objects.exists()


def test_electronic_goods_need_a_rechargeable_number(catalog, carrier_sandbox):
    pack = sku_of(catalog["pack"])
    with pytest.raises(RecipientRequired):
        services.cart_add(owner=GUEST, sku_id=pack)
    with translation.override("zh-hans"), pytest.raises(RecipientNotRechargeable) as other:
        services.cart_add(owner=GUEST, sku_id=pack, recipient="13012345678")
    assert "（中国联通）" in other.value.message and "CUCC" not in other.value.message
    with pytest.raises(RecipientNotRechargeable):
        services.cart_add(owner=GUEST, sku_id=pack, recipient="13700137000")  # suspended
    services.cart_add(owner=GUEST, sku_id=pack, recipient="138 0013 8000")
    services.cart_add(owner=GUEST, sku_id=pack, recipient="13900139000")
    lines = cart_view(owner=GUEST).lines
    assert [line.recipient for line in lines] == ["+8613800138000", "+8613900139000"]


def test_change_and_remove_lines(catalog):
    line_id = services.cart_add(owner=GUEST, sku_id=sku_of(catalog["vip"]))
    services.cart_line_set_quantity(owner=GUEST, line_id=line_id, quantity=5)
    assert CartLine.objects.get().quantity == 5
    other = CartOwner(session_key="guest-2")
    with pytest.raises(CartLineNotFound):
        services.cart_line_remove(owner=other, line_id=line_id)
    services.cart_line_set_quantity(owner=GUEST, line_id=line_id, quantity=0)
    assert not CartLine.objects.exists()
    with pytest.raises(CartLineNotFound):
        services.cart_line_remove(owner=GUEST, line_id=line_id)


def test_guest_cart_merges_into_user_cart_within_limits(catalog):
    from apps.accounts.models import User

    user = User.objects.create_user("13800138000")
    me = CartOwner(user_id=user.pk)
    services.cart_add(owner=me, sku_id=sku_of(catalog["iphone"]), quantity=1)
    services.cart_add(owner=me, sku_id=sku_of(catalog["vip"]), quantity=1)
    services.cart_add(owner=GUEST, sku_id=sku_of(catalog["iphone"]), quantity=2)
    services.cart_add(owner=GUEST, sku_id=sku_of(catalog["vip"]), quantity=2)

    assert services.cart_merge(session_key="guest-1", user_id=user.pk) == 2

    view = cart_view(owner=me)
    assert {line.product_name: line.quantity for line in view.lines} == {
        "iPhone 16": 2,
        "视频会员 月卡": 3,
    }
    assert not Cart.objects.filter(session_key="guest-1").exists()
    assert services.cart_merge(session_key="guest-1", user_id=user.pk) == 0


def test_signing_in_through_the_page_merges_the_guest_cart(client, catalog):
    from apps.accounts import services as accounts

    client.post("/cart/add/", {"sku": sku_of(catalog["vip"]), "quantity": "2"})
    issued = accounts.otp_request(phone="13800138000", ip=None)
    client.post(
        "/accounts/login/", {"phone": "13800138000", "code": issued.code, "action": "login"}
    )
    page = client.get("/cart/").content.decode()
    assert "视频会员 月卡" in page
    assert CartLine.objects.get().cart.user.phone == "+8613800138000"


def test_cart_pages_report_refusals(client, catalog):
    done = client.post("/cart/add/", {"sku": sku_of(catalog["iphone"]), "quantity": "3"})
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    assert "限购" in page or "cannot buy more" in page
    assert not CartLine.objects.exists()
    bad = client.post("/cart/add/", {"sku": "abc"})
    assert bad.status_code == 302
    assert not CartLine.objects.exists()


def test_cart_api(api_client, catalog):
    added = api_client.post(
        "/api/v1/cart/lines/", {"sku_id": sku_of(catalog["vip"]), "quantity": 2}, format="json"
    )
    assert added.status_code == 201
    body = added.json()
    assert (body["total_fen"], body["count"]) == (3000, 2)
    line_id = body["lines"][0]["id"]
    changed = api_client.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 1}, format="json")
    assert changed.json()["total_fen"] == 1500
    over = api_client.post(
        "/api/v1/cart/lines/", {"sku_id": sku_of(catalog["iphone"]), "quantity": 3}, format="json"
    )
    assert over.status_code == 409
    assert over.json()["code"] == "PURCHASE_LIMIT_EXCEEDED"
    unknown = api_client.post("/api/v1/cart/lines/", {"sku_id": 1, "qty": 1}, format="json")
    assert unknown.status_code == 400
    assert api_client.delete(f"/api/v1/cart/lines/{line_id}/").json()["lines"] == []
    assert api_client.delete(f"/api/v1/cart/lines/{line_id}/").status_code == 404


def test_an_add_to_an_existing_cart_is_one_statement_and_its_cap_refuses_whole(catalog):
    """The quick add (no key, no SIM, no limit across lines): one statement; a total over
    the cap falls back to the transaction, which refuses it and changes nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    vip = sku_of(catalog["vip"])
    services.cart_add(owner=GUEST, sku_id=vip, quantity=60)  # creates the cart: the long way
    with CaptureQueriesContext(connection) as captured:
        added = services.cart_add_once(owner=GUEST, sku_id=vip, quantity=30)
    writes = [q["sql"] for q in captured.captured_queries if "orders_cartline" in q["sql"]]
    assert len(writes) == 1 and writes[0].startswith("WITH c AS (UPDATE"), writes
    assert added.only is not None and added.only[0].quantity == 90
    with pytest.raises(InvalidQuantity):
        services.cart_add(owner=GUEST, sku_id=vip, quantity=10)  # 100 > 99
    assert CartLine.objects.get().quantity == 90
    assert [line.quantity for line in cart_view(owner=GUEST, only=added.only).lines] == [90]
