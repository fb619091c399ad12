"""Housekeeping: abandoned guest carts and expired sessions are removed; paid orders count as sales."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from apps.accounts import services as accounts
from apps.accounts.models import User
from apps.catalog.models import Product
from apps.catalog.services import products_sales_flush
from apps.catalog.tests.factories import small_catalog
from apps.orders import services
from apps.orders.models import Cart, CartLine
from apps.orders.services import CartOwner
from apps.orders.tests.support import paid_order

pytestmark = pytest.mark.django_db


def test_guest_carts_idle_longer_than_a_session_are_removed(settings):
    sku_id = small_catalog()["vip"].skus.get().pk
    buyer = User.objects.create_user("13800138000")
    services.cart_add(owner=CartOwner(session_key="old-guest"), sku_id=sku_id)
    services.cart_add(owner=CartOwner(session_key="new-guest"), sku_id=sku_id)
    services.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=sku_id)
    long_ago = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    Cart.objects.exclude(session_key="new-guest").update(updated_at=long_ago)
    assert services.carts_purge_abandoned() == 1
    assert sorted(Cart.objects.values_list("session_key", flat=True), key=str) == [
        None,
        "new-guest",
    ]
    assert CartLine.objects.count() == 2


def test_expired_sessions_are_removed():
    Session.objects.create(
        session_key="gone", session_data="", expire_date=timezone.now() - timedelta(seconds=1)
    )
    Session.objects.create(
        session_key="live", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    assert accounts.sessions_clear_expired() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_a_paid_order_counts_its_units_as_sales(django_capture_on_commit_callbacks):
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    products_sales_flush()  # nothing left over from another test
    before = {p.pk: p.sales_count for p in Product.objects.all()}
    with django_capture_on_commit_callbacks(execute=True):
        paid_order(buyer, [catalog["vip"]])
    products_sales_flush()  # counted in Redis, written by the beat task
    after = {p.pk: p.sales_count for p in Product.objects.all()}
    assert {pk: after[pk] - before[pk] for pk in after if after[pk] != before[pk]} == {
        catalog["vip"].pk: 1,
    }


def test_a_refunded_order_takes_its_units_off_the_sales(django_capture_on_commit_callbacks):
    from apps.payments import services as payments
    from apps.payments.models import Refund

    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    vip = catalog["vip"].pk
    products_sales_flush()
    before = Product.objects.get(pk=vip).sales_count
    with django_capture_on_commit_callbacks(execute=True):
        order = paid_order(buyer, [catalog["vip"]])
    products_sales_flush()
    assert Product.objects.get(pk=vip).sales_count == before + 1
    operator = User.objects.create_user("13800000002", "pw", is_staff=True)
    services.order_refund_request(
        number=order.number, user_id=buyer.pk, reason="", requested_by=operator.pk,
        override_reason="投诉单 C-9",
    )  # fmt: skip
    finance = User.objects.create_user("13800000001", "pw", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        payments.refund_decide(refund_id=Refund.objects.get().pk, approve=True, actor_id=finance.pk)
    products_sales_flush()
    assert Product.objects.get(pk=vip).sales_count == before
