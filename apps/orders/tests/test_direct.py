"""Buying without the cart: the recharge box and buy now leave the cart as it was."""

import pytest

from apps.accounts.models import User
from apps.catalog import services as catalog_services
from apps.catalog.selectors import recharge_box, recharge_offers
from apps.catalog.services import SkuSpec
from apps.catalog.tests.factories import category, product_type, small_catalog
from apps.orders import services
from apps.orders.errors import RecipientRequired
from apps.orders.models import Cart, CartLine, Order
from apps.orders.services import CartOwner, ShippingAddress
from apps.orders.services.direct import BuyNowNotForSim, DirectItem, order_buy_now

pytestmark = pytest.mark.django_db
ADDRESS = ShippingAddress("张三", "13800138000", "广东", "广州", "天河路1号")


@pytest.fixture
def catalog():
    made = small_catalog()
    airtime = category("airtime", name="话费充值")
    kind = product_type(
        "airtime", needs_number=True,
        schema=[{"key": "face_value", "label": "面值", "type": "int", "required": True}],
    )  # fmt: skip
    for value in (10, 100, 500):
        price = value * 100 - (value // 100) * 20
        for region in ("全国", "广东"):
            catalog_services.product_create(
                category_id=airtime.pk, product_type_id=kind.pk,
                name=f"{region}移动话费充值 {value}元", attributes={"face_value": value},
                skus=[SkuSpec(f"AIR-{region}-{value}", f"{value}元", price, value * 100)],
            )  # fmt: skip
    made["airtime_100"] = CartLine._meta.apps.get_model("catalog", "Sku").objects.get(
        code="AIR-全国-100"
    )
    return made


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def test_the_recharge_grid_offers_each_face_value_once_at_its_price(catalog):
    offers = recharge_offers(tab="airtime")
    assert [(o.label, o.price_fen, o.list_price_fen) for o in offers] == [
        ("10元", 1000, 1000),
        ("100元", 9980, 10000),
        ("500元", 49900, 50000),
    ]
    # The national product wins the tie with the provincial one.
    assert offers[1].sku_id == catalog["airtime_100"].pk
    box = recharge_box()
    assert (box.tab, box.airtime_pick) == ("airtime", catalog["airtime_100"].pk)


def test_the_recharge_grid_reads_english_in_english_mode(client, catalog):
    client.cookies["django_language"] = "en"
    page = client.get("/recharge/").content.decode()
    assert '<span class="face">100 yuan</span>' in page and "100元" not in page
    client.cookies["django_language"] = "zh-hans"
    assert '<span class="face">100元</span>' in client.get("/recharge/").content.decode()


def test_buy_now_orders_one_item_and_leaves_the_cart_as_it_was(catalog, buyer):
    owner = CartOwner(user_id=buyer.pk)
    services.cart_add(owner=owner, sku_id=catalog["vip"].skus.get().pk, quantity=2)
    cart_before = Cart.objects.get(user=buyer)
    lines_before = list(
        CartLine.objects.values_list("id", "cart_id", "sku_id", "quantity", "added_at")
    )

    order = order_buy_now(
        user_id=buyer.pk, item=DirectItem(sku_id=catalog["iphone"].skus.get().pk),
        checkout_key="bn-1", shipping=ADDRESS,
    )  # fmt: skip

    assert [(line.product_name, line.quantity) for line in order.lines] == [("iPhone 16", 1)]
    assert (order.status, order.payable_fen) == ("pending_payment", 599900)
    assert Cart.objects.get(user=buyer).pk == cart_before.pk
    assert (
        list(CartLine.objects.values_list("id", "cart_id", "sku_id", "quantity", "added_at"))
        == lines_before
    )
    assert Cart.objects.count() == 1  # the holding cart is gone
    again = order_buy_now(
        user_id=buyer.pk, item=DirectItem(sku_id=catalog["iphone"].skus.get().pk),
        checkout_key="bn-1", shipping=ADDRESS,
    )  # fmt: skip
    assert again.number == order.number
    assert Order.objects.count() == 1


def test_a_refused_buy_now_changes_nothing(catalog, buyer, carrier_sandbox):
    owner = CartOwner(user_id=buyer.pk)
    services.cart_add(owner=owner, sku_id=catalog["vip"].skus.get().pk)
    with pytest.raises(RecipientRequired):
        order_buy_now(
            user_id=buyer.pk, item=DirectItem(sku_id=catalog["pack"].skus.get().pk),
            checkout_key="bn-2",
        )  # fmt: skip
    assert not Order.objects.exists()
    assert list(CartLine.objects.values_list("sku_id", flat=True)) == [catalog["vip"].skus.get().pk]


def test_a_sim_card_is_not_bought_directly(buyer):
    sims = category("sim", kind="physical")
    kind = product_type("sim", kind="physical")
    sim = catalog_services.product_create(
        category_id=sims.pk, product_type_id=kind.pk, name="号卡",
        skus=[SkuSpec("SIM-T", "标准卡", 0, stock=5)],
    )  # fmt: skip
    with pytest.raises(BuyNowNotForSim):
        order_buy_now(
            user_id=buyer.pk, item=DirectItem(sku_id=sim.skus.get().pk), checkout_key="bn-3"
        )
    assert not Order.objects.exists()


def test_the_product_page_buy_now_goes_to_a_one_item_checkout(client, catalog, buyer):
    sku = catalog["vip"].skus.get().pk
    page = client.get(f"/p/{catalog['vip'].pk}/").content.decode()
    assert 'formaction="/buy/"' in page and "立即购买" in page
    anonymous = client.post("/buy/", {"sku": sku, "quantity": 2})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=/buy/%3Fsku%3D")
    client.force_login(buyer)
    checkout = client.post("/buy/", {"sku": sku, "quantity": 2})
    assert checkout.status_code == 200
    html = checkout.content.decode()
    assert "视频会员 月卡" in html and "¥30.00" in html
    key = checkout.context["form"].initial["checkout_key"]
    placed = client.post("/buy/", {"sku": sku, "quantity": 2, "checkout_key": key, "points": 0})
    order = Order.objects.get()
    assert placed["Location"] == f"/orders/{order.number}/pay/"
    assert (order.goods_fen, order.lines.get().quantity) == (3000, 2)
    assert not CartLine.objects.exists()


def test_recharge_in_one_post_from_the_home_page_to_the_cashier(
    client, catalog, buyer, carrier_sandbox
):
    home = client.get("/")
    html = home.content.decode()
    assert 'hx-get="/recharge/me/"' in html and "立即充值" in html and "¥99.80" in html
    assert client.get("/")["X-Cache"] == "hit"  # the box does not break the page cache
    sku = catalog["airtime_100"].pk
    anonymous = client.post(
        "/recharge/", {"tab": "airtime", "airtime": sku, "number": "13800138000"}
    )
    assert anonymous["Location"].startswith("/accounts/login/?next=/recharge/%3Ftab%3Dairtime")
    client.force_login(buyer)
    me = client.get("/recharge/me/").content.decode()
    assert 'value="13800138000"' in me and me.count('name="checkout_key"') == 1
    response = client.post(
        "/recharge/", {"tab": "airtime", "airtime": sku, "data": 0, "number": "13900139000",
                       "checkout_key": "rk-1"},
    )  # fmt: skip
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.number}/pay/"
    line = order.lines.get()
    assert (line.recipient_msisdn, line.unit_price_fen) == ("+8613900139000", 9980)
    assert "13900139000" in client.get("/recharge/me/").content.decode()  # remembered


def test_a_refused_recharge_says_why_and_places_nothing(client, catalog, buyer, carrier_sandbox):
    client.force_login(buyer)
    response = client.post(
        "/recharge/",
        {"tab": "airtime", "airtime": catalog["airtime_100"].pk, "number": "13012345678"},
    )
    assert response.status_code == 400
    assert "中国联通" in response.content.decode() and "CUCC" not in response.content.decode()
    assert not Order.objects.exists()


def test_the_number_shows_its_carrier_and_home_province_as_it_is_typed(client, carrier_sandbox):
    assert client.get("/recharge/number/", {"number": "1380"}).content.decode().strip() == ""
    html = client.get("/recharge/number/", {"number": "13800138000"}).content.decode()
    assert "中国移动" in html and "可充值" in html
    other = client.get("/recharge/number/", {"number": "18620001234"}).content.decode()
    assert "中国联通" in other and "广东 广州" in other and "不能在此充值" in other
