"""Two buyers can never get the same number: real threads against PostgreSQL."""

import threading

import pytest
from django.db import connection

from apps.accounts.models import User
from apps.orders import services as orders
from apps.orders.models import CartLine
from apps.orders.services import CartOwner
from apps.simcards.errors import NumberTaken
from apps.simcards.models import SimNumber
from apps.simcards.tests.support import numbers, sim_product

pytestmark = pytest.mark.django_db(transaction=True)


def test_many_buyers_choosing_one_number_at_once_exactly_one_gets_it():
    numbers("13800138888")
    sku_id = sim_product().skus.get().pk
    buyers = [User.objects.create_user(f"1390000{n:04d}") for n in range(8)]
    results: dict[int, str] = {}
    barrier = threading.Barrier(len(buyers))

    def choose(user: User) -> None:
        barrier.wait()
        try:
            orders.cart_add(
                owner=CartOwner(user_id=user.pk), sku_id=sku_id, sim_number="+8613800138888"
            )
            results[user.pk] = "held"
        except NumberTaken:
            results[user.pk] = "taken"
        finally:
            connection.close()

    threads = [threading.Thread(target=choose, args=(u,)) for u in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["held"] + ["taken"] * 7
    (winner,) = [uid for uid, r in results.items() if r == "held"]
    number = SimNumber.objects.get()
    assert (number.status, number.holder_user_id) == ("held", winner)
    assert list(CartLine.objects.values_list("cart__user_id", flat=True)) == [winner]
