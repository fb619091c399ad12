"""A user's adds racing their own checkouts (real threads against PostgreSQL): nothing is lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.orders import services
from apps.orders.models import CartLine, OrderLine
from apps.orders.services import CartOwner
from apps.orders.services.orders import CartEmpty

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_acknowledged_add_is_in_an_order_or_still_in_the_cart():
    sku_id = small_catalog()["vip"].skus.get().pk
    buyer = User.objects.create_user("13800138000")
    owner = CartOwner(user_id=buyer.pk)
    services.cart_add(owner=owner, sku_id=sku_id)  # one acknowledged before the race
    adds, checkouts = 24, 6
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(adds + checkouts)

    def add() -> None:
        barrier.wait()
        try:
            services.cart_add(owner=owner, sku_id=sku_id)
            outcomes.append("added")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def checkout(n: int) -> None:
        barrier.wait()
        try:
            services.checkout_submit(user_id=buyer.pk, checkout_key=f"race-{n}")
            outcomes.append("ordered")
        except CartEmpty:
            outcomes.append("empty")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(adds)]
    threads += [threading.Thread(target=checkout, args=(n,)) for n in range(checkouts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert outcomes.count("added") == adds
    ordered = OrderLine.objects.aggregate(n=Sum("quantity"))["n"] or 0
    in_cart = CartLine.objects.aggregate(n=Sum("quantity"))["n"] or 0
    assert ordered + in_cart == adds + 1
    assert outcomes.count("ordered") == OrderLine.objects.values("order").distinct().count()
