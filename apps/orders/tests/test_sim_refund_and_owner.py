"""SIM numbers and money: a refunded order frees its number; the owner must be the account's
own real-name identity when it has one; the premium is priced under the number's lock."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from apps.accounts import services as accounts
from apps.accounts.models import User
from apps.orders import services as orders
from apps.orders.models import Order
from apps.orders.services import CartOwner, RealNameInput, ShippingAddress
from apps.payments import services as payments
from apps.payments.models import Refund
from apps.simcards.errors import SimOwnerNotAccountHolder
from apps.simcards.models import SimNumber
from apps.simcards.tests.support import numbers, sim_product, unique_id_number

PRETTY = "+8613800138888"
ADDRESS = ShippingAddress(name="张三", phone="13800138000", province="广东", city="广州", address="天河路1号")  # fmt: skip


@pytest.fixture
def owner() -> RealNameInput:
    return RealNameInput(name="张三", id_number=unique_id_number())


def _buyer() -> User:
    user = User.objects.create_user("13800138000")
    payments.points_grant(user_id=user.pk, points=1_000_000, key=f"sim{user.pk}", reason="test")
    return user


def _add(user, sku_id):
    orders.cart_add(owner=CartOwner(user_id=user.pk), sku_id=sku_id, sim_number=PRETTY)


@pytest.mark.django_db
def test_a_refunded_sim_order_frees_its_number(
    carrier_sandbox, owner, django_capture_on_commit_callbacks
):
    numbers("13800138888")
    sku_id = sim_product(price=1000).skus.get().pk
    buyer = _buyer()
    _add(buyer, sku_id)
    order = orders.checkout_submit(
        user_id=buyer.pk, checkout_key="k", shipping=ADDRESS, points=100_900, real_name=owner
    )
    assert SimNumber.objects.get(msisdn=PRETTY).status == "sold"
    orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="不要了")
    finance = User.objects.create_user("13800000001", "pw", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        payments.refund_decide(refund_id=Refund.objects.get().pk, approve=True, actor_id=finance.pk)
    assert Order.objects.get(number=order.number).status == "refunded"
    number = SimNumber.objects.get(msisdn=PRETTY)
    assert (number.status, number.holder_user_id, number.order_line_id, number.owner_id_hash, number.sold_at) == (
        "available", None, None, "", None,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_sim_owner_must_be_the_accounts_own_identity(carrier_sandbox, owner):
    numbers("13800138888")
    sku_id = sim_product(price=1000).skus.get().pk
    buyer = _buyer()
    accounts.real_name_submit(user_id=buyer.pk, name="王五", id_number=unique_id_number())
    _add(buyer, sku_id)
    with pytest.raises(SimOwnerNotAccountHolder):
        orders.checkout_submit(
            user_id=buyer.pk, checkout_key="k", shipping=ADDRESS, real_name=owner
        )
    assert not Order.objects.exists()
    assert SimNumber.objects.get(msisdn=PRETTY).owner_id_hash == ""


@pytest.mark.django_db
def test_an_account_with_the_same_identity_buys(carrier_sandbox, owner):
    numbers("13800138888")
    sku_id = sim_product(price=1000).skus.get().pk
    buyer = _buyer()
    accounts.real_name_submit(user_id=buyer.pk, name=owner.name, id_number=owner.id_number)
    _add(buyer, sku_id)
    order = orders.checkout_submit(
        user_id=buyer.pk, checkout_key="k", shipping=ADDRESS, real_name=owner
    )
    assert order.status == "pending_payment"


@pytest.mark.django_db(transaction=True)
def test_the_premium_is_read_under_the_numbers_lock(carrier_sandbox, owner):
    """An operator repricing the number while a checkout runs: the order has the price the
    number had when the checkout held it, never a price read before the lock."""
    numbers("13800138888")
    sku_id = sim_product(price=1000).skus.get().pk
    buyer = _buyer()
    _add(buyer, sku_id)
    placed: list[int] = []

    def checkout() -> None:
        placed.append(
            orders.checkout_submit(
                user_id=buyer.pk, checkout_key="k", shipping=ADDRESS, real_name=owner
            ).goods_fen
        )
        connection.close()

    with transaction.atomic():
        SimNumber.objects.select_for_update().filter(msisdn=PRETTY).update(premium_fen=500_000)
        worker = threading.Thread(target=checkout)
        worker.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.02)
    worker.join()
    assert placed == [1000 + 500_000]
