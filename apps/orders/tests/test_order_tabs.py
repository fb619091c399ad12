"""The order list's status tabs and their counts; the order page's payment method and address."""

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.orders import selectors, services
from apps.orders.models import Order, OrderLine
from apps.orders.services import CartOwner, ShippingAddress
from apps.orders.tests.support import paid_order

pytestmark = pytest.mark.django_db
ADDRESS = ShippingAddress("张三", "13800138000", "广东", "广州", "天河路1号")
F = OrderLine.Fulfilment


def _order(buyer, product, key, *, status="pending_payment", fulfilment=F.PENDING, refunded=0):
    services.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=product.skus.get().pk)
    view = services.checkout_submit(user_id=buyer.pk, checkout_key=key, shipping=ADDRESS)
    # The states are set directly: this reads them, it does not move them.
    Order.objects.filter(number=view.number).update(status=status, refunded_fen=refunded)
    OrderLine.objects.filter(order__number=view.number).update(fulfilment=fulfilment)
    return view.number


def test_each_tab_counts_and_lists_its_orders():
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    other = User.objects.create_user("13900139000")
    vip, phone = catalog["vip"], catalog["iphone"]
    to_pay = _order(buyer, vip, "a")
    to_ship = _order(buyer, phone, "b", status="paid", fulfilment=F.READY)
    on_way = _order(buyer, phone, "c", status="paid", fulfilment=F.DELIVERING)
    done = _order(buyer, vip, "d", status="completed", fulfilment=F.DELIVERED)
    refunded = _order(buyer, vip, "e", status="refunded", fulfilment=F.REFUNDED, refunded=1500)
    _order(other, vip, "f")  # someone else's

    tabs = {t.code: t.count for t in selectors.order_tabs(user_id=buyer.pk)}
    assert tabs == {"all": 5, "to_pay": 1, "to_deliver": 1, "to_receive": 1, "completed": 1,
                    "after_sales": 1}  # fmt: skip
    listed = {
        tab: [o.number for o in selectors.orders_in_tab(user_id=buyer.pk, tab=tab)] for tab in tabs
    }
    assert listed["to_pay"] == [to_pay]
    assert listed["to_deliver"] == [to_ship]
    assert listed["to_receive"] == [on_way]
    assert listed["completed"] == [done]
    assert listed["after_sales"] == [refunded]
    assert listed["all"] == [refunded, done, on_way, to_ship, to_pay]


def test_the_list_page_shows_tabs_with_counts(client):
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    number = _order(buyer, catalog["vip"], "a")
    client.force_login(buyer)
    html = client.get("/orders/?tab=to_pay").content.decode()
    assert 'aria-current="page" data-tab="to_pay">待付款 <span class="count">1</span>' in html
    assert number in html
    assert number not in client.get("/orders/?tab=completed").content.decode()


def test_the_order_page_shows_how_it_was_paid_and_where_it_goes(client):
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    order = paid_order(buyer, [catalog["iphone"]])
    client.force_login(buyer)
    html = client.get(f"/orders/{order.number}/").content.decode()
    assert '<dd class="paid-with">积分</dd>' in html
    assert '<dd class="address">张三 13800138000<br>广东广州天河路1号</dd>' in html
    assert "{&#x27;name&#x27;" not in html and "province" not in html


def test_the_workbench_order_page_shows_yuan_and_the_address_as_written(client):
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    order = paid_order(buyer, [catalog["iphone"]])
    client.force_login(User.objects.create_superuser("13700000000", "pw"))
    html = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "¥5,999.00" in html and "张三 13800138000 广东广州天河路1号" in html
    assert "599900" not in html and "&quot;province&quot;" not in html
    listing = client.get("/admin/orders/order/").content.decode()
    assert (
        "买家" in listing
        and "支付时间" in listing
        and "PAID AT" not in listing.upper().replace("支付时间", "")
    )
