"""Checkout and the order's life: prices frozen, stock held, points, cancel, expiry, refunds."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.errors import OutOfStock
from apps.catalog.models import Sku
from apps.catalog.tests.factories import small_catalog
from apps.core.models import AuditEvent
from apps.ledger.selectors import ledger_check
from apps.orders import services
from apps.orders.models import CartLine, Order
from apps.orders.services import CartOwner, ShippingAddress
from apps.orders.services.orders import CartEmpty, OrderStateConflict, ShippingRequired
from apps.payments import services as payments
from apps.payments.models import PaymentIntent, Refund

pytestmark = pytest.mark.django_db
ADDRESS = ShippingAddress(
    name="张三", phone="13800138000", province="广东", city="广州", address="天河路1号"
)


@pytest.fixture
def catalog():
    return small_catalog()


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def _fill(user, product, quantity=1):
    services.cart_add(
        owner=CartOwner(user_id=user.pk), sku_id=product.skus.get().pk, quantity=quantity
    )


def test_checkout_freezes_prices_holds_stock_and_empties_the_cart(catalog, buyer):
    _fill(buyer, catalog["iphone"], 2)
    _fill(buyer, catalog["vip"], 1)
    order = services.checkout_submit(user_id=buyer.pk, checkout_key="k1", shipping=ADDRESS)
    assert (order.status, order.goods_fen, order.payable_fen) == (
        "pending_payment",
        2 * 599900 + 1500,
        2 * 599900 + 1500,
    )
    assert [(line.product_name, line.quantity, line.total_fen) for line in order.lines] == [
        ("iPhone 16", 2, 1199800),
        ("视频会员 月卡", 1, 1500),
    ]
    sku = Sku.objects.get(product=catalog["iphone"])
    assert (sku.stock_on_hand, sku.stock_reserved) == (3, 2)
    assert not CartLine.objects.exists()
    # A later price change does not touch the order.
    Sku.objects.filter(pk=sku.pk).update(price_fen=1, list_price_fen=1)
    assert Order.objects.get(number=order.number).goods_fen == 1201300


def test_submitting_twice_gives_one_order(catalog, buyer):
    _fill(buyer, catalog["vip"])
    first = services.checkout_submit(user_id=buyer.pk, checkout_key="same")
    again = services.checkout_submit(user_id=buyer.pk, checkout_key="same")
    assert first.number == again.number
    assert Order.objects.count() == 1


def test_checkout_refusals_write_nothing(catalog, buyer):
    with pytest.raises(CartEmpty):
        services.checkout_submit(user_id=buyer.pk, checkout_key="e")
    _fill(buyer, catalog["iphone"])
    with pytest.raises(ShippingRequired):
        services.checkout_submit(user_id=buyer.pk, checkout_key="s")
    Sku.objects.filter(product=catalog["iphone"]).update(stock_reserved=3)
    with pytest.raises(OutOfStock):
        services.checkout_submit(user_id=buyer.pk, checkout_key="o", shipping=ADDRESS)
    assert not Order.objects.exists()
    assert CartLine.objects.count() == 1


def test_paying_everything_with_points(catalog, buyer):
    payments.points_grant(user_id=buyer.pk, points=5000, key="t1", reason="test")
    _fill(buyer, catalog["vip"])
    order = services.checkout_submit(user_id=buyer.pk, checkout_key="p", points=1500)
    paid = Order.objects.get(number=order.number)
    assert (paid.status, paid.payable_fen) == ("paid", 0)
    assert payments.points_balance(user_id=buyer.pk) == 3500
    assert list(paid.lines.values_list("fulfilment", flat=True)) == ["ready"]
    assert ledger_check() == []


def test_points_part_comes_back_when_the_order_is_cancelled(
    catalog, buyer, django_capture_on_commit_callbacks
):
    payments.points_grant(user_id=buyer.pk, points=1000, key="t2", reason="test")
    _fill(buyer, catalog["iphone"])
    order = services.checkout_submit(
        user_id=buyer.pk, checkout_key="c", shipping=ADDRESS, points=1000
    )
    assert payments.points_balance(user_id=buyer.pk) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(number=order.number, user_id=buyer.pk)
    assert Order.objects.get(number=order.number).status == "cancelled"
    assert payments.points_balance(user_id=buyer.pk) == 1000
    assert Sku.objects.get(product=catalog["iphone"]).stock_reserved == 0
    assert Refund.objects.get().status == "succeeded"
    with pytest.raises(OrderStateConflict):
        services.order_cancel(number=order.number, user_id=buyer.pk)
    assert ledger_check() == []


def test_expiry_releases_stock_and_cancels_waiting_payments(catalog, buyer):
    _fill(buyer, catalog["iphone"])
    order = services.checkout_submit(user_id=buyer.pk, checkout_key="x", shipping=ADDRESS)
    PaymentIntent.objects.create(public_id="PIWAITING", purpose="order", reference=order.number, method="alipay",
                                 amount_fen=599900, idempotency_key="w", status="pending",
                                 expires_at=order.expires_at)  # fmt: skip
    assert services.orders_expire(now=timezone.now()) == 0
    assert services.orders_expire(now=timezone.now() + timedelta(minutes=16)) == 1
    assert Order.objects.get(number=order.number).status == "expired"
    assert PaymentIntent.objects.get(public_id="PIWAITING").status == "cancelled"
    assert Sku.objects.get(product=catalog["iphone"]).stock_reserved == 0
    assert services.orders_expire(now=timezone.now() + timedelta(minutes=16)) == 0
    actions = list(
        AuditEvent.objects.filter(object_id=order.number)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["order.created", "order.expired"]


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_of_ten_in_stock_give_ten_orders():
    catalog = small_catalog()
    sku = catalog["iphone"].skus.get()
    Sku.objects.filter(pk=sku.pk).update(stock_on_hand=10)
    from apps.catalog.models import Product

    Product.objects.filter(pk=catalog["iphone"].pk).update(per_user_limit=None)
    buyers = [User.objects.create_user(f"1390000{n:04d}") for n in range(50)]
    for user in buyers:
        services.cart_add(owner=CartOwner(user_id=user.pk), sku_id=sku.pk, quantity=1)
    results: list[str] = []
    barrier = threading.Barrier(len(buyers))

    def buy(user):
        barrier.wait()
        try:
            services.checkout_submit(
                user_id=user.pk, checkout_key=f"race-{user.pk}", shipping=ADDRESS
            )
            results.append("order")
        except OutOfStock:
            results.append("sold out")
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(u,)) for u in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("order") == 10
    assert results.count("sold out") == 40
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.stock_reserved) == (10, 10)
    assert Order.objects.count() == 10


def test_an_operator_asks_for_a_refund_in_the_workbench_and_finance_approves(
    catalog, buyer, client, django_capture_on_commit_callbacks
):
    payments.points_grant(user_id=buyer.pk, points=5000, key="op", reason="test")
    _fill(buyer, catalog["vip"])
    order = services.checkout_submit(user_id=buyer.pk, checkout_key="op", points=1500)
    operator = User.objects.create_superuser("13800000000", "pw")
    client.force_login(operator)
    client.post(
        "/admin/orders/order/",
        {
            "action": "request_refund",
            "_selected_action": [Order.objects.get(number=order.number).pk],
        },
    )
    refund = Refund.objects.get()
    assert (refund.status, refund.amount_fen, refund.requested_by_id) == (
        "requested",
        1500,
        operator.pk,
    )
    # Maker-checker: the operator who asked cannot approve; another finance user does.
    client.post("/admin/payments/refund/", {"action": "approve", "_selected_action": [refund.pk]})
    assert Refund.objects.get().status == "requested"
    client.force_login(User.objects.create_superuser("13800000009", "pw"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/payments/refund/", {"action": "approve", "_selected_action": [refund.pk]}
        )
    assert Refund.objects.get().status == "succeeded"
    assert Order.objects.get(number=order.number).status == "refunded"
    assert payments.points_balance(user_id=buyer.pk) == 5000
