"""Flash sales with real threads: no oversell, the per-user limit held, units back when an
unpaid order closes, the flash price in the breakdown and the ledger, Redis rebuilt from the
database when it lost the sale."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.redis import get_redis
from apps.core.tests.outbox_support import outbox_handled
from apps.ledger.selectors import account_balance, ledger_check
from apps.marketing.errors import FlashLimit, FlashNotOpen, FlashSoldOut
from apps.marketing.models import FlashClaim, FlashSale, FlashUnit
from apps.orders import services
from apps.orders.models import Order
from apps.payments import services as payments


def _sale(sku_id, *, stock, limit=1, price=100, **extra):
    now = timezone.now()
    return FlashSale.objects.create(
        name="秒杀视频会员", sku_id=sku_id, price_fen=price, stock=stock, per_user_limit=limit,
        starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1), **extra,
    )  # fmt: skip


def _race(calls):
    """Run the calls at once from real threads (a barrier releases them together)."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n, call):
        try:
            start.wait()
            results[n] = call()
        except Exception as exc:
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_thirty_buyers_racing_for_five_units_get_exactly_five_orders():
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=5)
    buyers = [User.objects.create_user(f"138001390{n:02d}") for n in range(30)]
    results = _race([
        (lambda u=u: services.flash_buy(user_id=u.pk, sale_id=sale.pk, checkout_key=f"f{u.pk}"))
        for u in buyers
    ])  # fmt: skip
    orders = [r for r in results if isinstance(r, services.OrderView)]
    assert len(orders) == 5
    assert sum(isinstance(r, FlashSoldOut) for r in results) == 25
    assert all(o.payable_fen == 100 and o.discount_fen == 1_400 for o in orders)
    assert sorted(FlashUnit.objects.values_list("slot", flat=True)) == [1, 2, 3, 4, 5]
    assert Order.objects.count() == 5 == FlashClaim.objects.filter(status="ordered").count()


@pytest.mark.django_db(transaction=True)
def test_one_buyer_racing_with_himself_gets_no_more_than_the_limit():
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=10, limit=2)
    buyer = User.objects.create_user("13800139100")
    results = _race([
        (lambda n=n: services.flash_buy(user_id=buyer.pk, sale_id=sale.pk, checkout_key=f"s{n}", quantity=2))
        for n in range(6)
    ])  # fmt: skip
    assert sum(isinstance(r, services.OrderView) for r in results) == 1
    assert sum(isinstance(r, FlashLimit) for r in results) == 5
    assert FlashUnit.objects.count() == 2
    with pytest.raises(FlashLimit):  # more than the limit in one go
        services.flash_buy(user_id=User.objects.create_user("13800139101").pk, sale_id=sale.pk,
                           checkout_key="x", quantity=3)  # fmt: skip


@pytest.mark.django_db
def test_a_closed_unpaid_order_gives_its_unit_to_the_next_buyer(django_capture_on_commit_callbacks):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=1)
    first, second = User.objects.create_user("13800139200"), User.objects.create_user("13800139201")
    order = services.flash_buy(user_id=first.pk, sale_id=sale.pk, checkout_key="a")
    with pytest.raises(FlashSoldOut):
        services.flash_buy(user_id=second.pk, sale_id=sale.pk, checkout_key="b")
    with django_capture_on_commit_callbacks(execute=True):  # the slot goes back after commit
        services.order_cancel(number=order.number, user_id=first.pk)
    assert not FlashClaim.objects.exists()
    again = services.flash_buy(user_id=second.pk, sale_id=sale.pk, checkout_key="b2")
    assert again.payable_fen == 100


@pytest.mark.django_db
def test_the_flash_price_is_in_the_breakdown_and_booked_when_paid():
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=3, price=99)
    buyer = User.objects.create_user("13800139300")
    payments.points_grant(user_id=buyer.pk, points=99, key="g", reason="test")
    with outbox_handled():
        order = services.flash_buy(user_id=buyer.pk, sale_id=sale.pk, checkout_key="p", points=99)
    paid = Order.objects.get(number=order.number)
    assert (paid.goods_fen, paid.discount_fen, paid.points_fen, paid.status) == (
        1_500,
        1_401,
        99,
        "completed",
    )
    assert account_balance(code=f"marketing:flash:{sale.pk}") == 1_401
    assert FlashClaim.objects.get().status == "paid"
    assert ledger_check() == []
    from apps.orders import selectors

    view = selectors.order_get(number=order.number)
    assert [(d.rule, d.discount_fen) for d in view.discounts] == [("flash", 1_401)]


@pytest.mark.django_db
def test_a_sale_not_open_and_redis_losing_the_sale():
    vip = small_catalog()["vip"].skus.get()
    later = _sale(vip.pk, stock=2)
    later.starts_at = timezone.now() + timedelta(hours=1)
    later.ends_at = timezone.now() + timedelta(hours=2)
    later.save()
    from apps.marketing import flash

    flash._cache.clear()
    with pytest.raises(FlashNotOpen):
        services.flash_buy(
            user_id=User.objects.create_user("13800139400").pk, sale_id=later.pk, checkout_key="n"
        )
    sale = _sale(vip.pk, stock=2)
    a, b, c = (User.objects.create_user(f"1380013950{n}") for n in range(3))
    services.flash_buy(user_id=a.pk, sale_id=sale.pk, checkout_key="a")
    get_redis().flushdb()  # Redis restarted empty: the database is the truth
    with pytest.raises(FlashLimit):
        services.flash_buy(user_id=a.pk, sale_id=sale.pk, checkout_key="a2")
    services.flash_buy(user_id=b.pk, sale_id=sale.pk, checkout_key="b")
    with pytest.raises(FlashSoldOut):
        services.flash_buy(user_id=c.pk, sale_id=sale.pk, checkout_key="c")
    assert sorted(FlashUnit.objects.values_list("slot", flat=True)) == [1, 2]


@pytest.mark.django_db
def test_the_api_sells_at_the_flash_price_and_refuses_with_a_code(api_client):
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=1)
    api_client.force_authenticate(User.objects.create_user("13800139600"))
    won = api_client.post(
        f"/api/v1/flash-sales/{sale.pk}/buy/", {"checkout_key": "k1"}, format="json"
    )
    assert (won.status_code, won.json()["payable_fen"], won.json()["discount_fen"]) == (
        201,
        100,
        1_400,
    )
    api_client.force_authenticate(User.objects.create_user("13800139601"))
    lost = api_client.post(
        f"/api/v1/flash-sales/{sale.pk}/buy/", {"checkout_key": "k2"}, format="json"
    )
    assert (lost.status_code, lost.json()["code"]) == (409, "FLASH_SALE_SOLD_OUT")
    missing = api_client.post(
        "/api/v1/flash-sales/999999/buy/", {"checkout_key": "k3"}, format="json"
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "FLASH_SALE_NOT_FOUND")


@pytest.mark.django_db
def test_a_repeated_winning_request_returns_its_order():
    vip = small_catalog()["vip"].skus.get()
    sale = _sale(vip.pk, stock=2)
    buyer = User.objects.create_user("13800139700")
    first = services.flash_buy(user_id=buyer.pk, sale_id=sale.pk, checkout_key="same")
    again = services.flash_buy(user_id=buyer.pk, sale_id=sale.pk, checkout_key="same")
    assert again.number == first.number and Order.objects.count() == 1
    with pytest.raises(FlashLimit):
        services.flash_buy(user_id=buyer.pk, sale_id=sale.pk, checkout_key="other")
