"""The line-delivered hook: physical lines only, on commit only, once per delivery."""

import pytest
from django.db import transaction

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.orders import services
from apps.orders.models import OrderLine
from apps.orders.services import CartOwner, ShippingAddress
from apps.orders.services import delivered as hook
from apps.payments import services as payments

pytestmark = pytest.mark.django_db
ADDRESS = ShippingAddress(
    name="张三", phone="13800138000", province="广东", city="广州", address="天河路1号"
)


@pytest.fixture
def heard(monkeypatch):
    monkeypatch.setattr(hook, "_delivered_listeners", [])
    calls: list[int] = []
    services.line_delivered_listen(calls.append)
    services.line_delivered_listen(calls.append)  # registering twice changes nothing
    return calls


@pytest.fixture
def paid_lines():
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    payments.points_grant(user_id=buyer.pk, points=601400, key="hook", reason="test")
    for name in ("iphone", "vip"):
        services.cart_add(
            owner=CartOwner(user_id=buyer.pk), sku_id=catalog[name].skus.get().pk, quantity=1
        )
    order = services.checkout_submit(
        user_id=buyer.pk, checkout_key="hook", shipping=ADDRESS, points=601400
    )
    lines = {line.kind: line.id for line in order.lines}
    assert set(OrderLine.objects.values_list("fulfilment", flat=True)) == {"ready"}
    return lines


def test_a_delivered_physical_line_is_announced_after_commit(
    paid_lines, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.order_line_fulfilment_set(line_id=paid_lines["physical"], status="delivered")
        assert heard == []  # not before the commit
    assert len(callbacks) == 1
    assert heard == [paid_lines["physical"]]
    with django_capture_on_commit_callbacks(execute=True):
        services.order_line_fulfilment_set(line_id=paid_lines["physical"], status="delivered")
    assert heard == [paid_lines["physical"]]  # already delivered: no second announcement


def test_electronic_lines_and_rolled_back_deliveries_are_not_announced(
    paid_lines, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.order_line_fulfilment_set(line_id=paid_lines["digital"], status="delivered")

    def deliver_then_fail() -> None:
        with transaction.atomic():
            services.order_line_fulfilment_set(line_id=paid_lines["physical"], status="delivered")
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        deliver_then_fail()
    assert callbacks == []
    assert heard == []
    assert OrderLine.objects.get(pk=paid_lines["physical"]).fulfilment == "ready"


def test_a_failing_listener_does_not_stop_the_others(
    paid_lines, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(hook, "_delivered_listeners", [])
    calls: list[int] = []

    def broken(line_id: int) -> None:
        raise ValueError(line_id)

    services.line_delivered_listen(broken)
    services.line_delivered_listen(calls.append)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_line_fulfilment_set(line_id=paid_lines["physical"], status="delivered")
    assert calls == [paid_lines["physical"]]
