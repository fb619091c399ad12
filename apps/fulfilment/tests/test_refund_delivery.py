"""A refund looks at delivery (issue #11): what was delivered is not refunded as money unless an
operator overrides with a reason; a line being delivered makes the refund wait; a line not yet
delivered is held, then refunded."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import category, product, product_type
from apps.core.models import AuditEvent, OutboxEvent
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment import services
from apps.fulfilment.models import Delivery
from apps.orders import services as orders
from apps.orders.models import Order, OrderLine
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def points_product():
    ptype = product_type("points", schema=[{"key": "points", "label": "积分", "type": "int"}])
    return product(category("mobile"), ptype, "积分 500", price=500, attributes={"points": 500})


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


@pytest.fixture
def operator():
    return User.objects.create_superuser("13800000000", "pw")


def _paid(buyer: User, item, *, key: str = "k") -> Order:
    payments.points_grant(
        user_id=buyer.pk, points=item.skus.get().price_fen, key=f"g{key}", reason="t"
    )
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=item.skus.get().pk, quantity=1)
    with outbox_handled():
        view = orders.checkout_submit(
            user_id=buyer.pk, checkout_key=key, points=item.skus.get().price_fen
        )
    return Order.objects.get(number=view.number)


def _delivered(buyer: User, item) -> Order:
    order = _paid(buyer, item)
    with outbox_handled():
        services.job_deliver(job_id=Delivery.objects.get(order_number=order.number).pk)
    return order


def test_a_delivered_line_is_not_refunded_as_money_on_request(buyer, points_product):
    order = _delivered(buyer, points_product)
    assert payments.points_balance(user_id=buyer.pk) == 500  # the points bought were credited
    events = OutboxEvent.objects.count()
    with pytest.raises(orders.NothingRefundable) as refused:
        orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="不想要了")
    line = order.lines.get()
    assert refused.value.details == {"lines": {line.pk: "override_needed"}}
    assert not Refund.objects.exists()
    assert OutboxEvent.objects.count() == events
    assert OrderLine.objects.get(pk=line.pk).refund_requested_at is None
    assert not AuditEvent.objects.filter(action="order.refund_override").exists()


def test_an_operators_override_refunds_a_delivered_line_and_records_why(
    buyer, operator, points_product
):
    order = _delivered(buyer, points_product)
    with outbox_handled(tasks=True):
        [refund_id] = orders.order_refund_request(
            number=order.number, user_id=buyer.pk, reason="", requested_by=operator.pk,
            override_reason="投诉单 C-7：重复购买",
        )  # fmt: skip
        checker = User.objects.create_user("13800000039", is_staff=True)  # maker-checker
        payments.refund_decide(refund_id=refund_id, approve=True, actor_id=checker.pk)
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.reason, refund.status) == (
        500,
        "投诉单 C-7：重复购买",
        "succeeded",
    )
    override = AuditEvent.objects.get(action="order.refund_override")
    line = order.lines.get()
    assert (override.actor_id, override.object_id) == (operator.pk, order.number)
    assert override.after == {"lines": [line.pk], "reason": "投诉单 C-7：重复购买"}
    line.refresh_from_db()
    assert (line.fulfilment, line.refund_note) == ("refunded", "投诉单 C-7：重复购买")
    assert Delivery.objects.get(line_id=line.pk).status == "refunded"
    assert Order.objects.get(pk=order.pk).status == "refunded"


def test_a_line_being_delivered_makes_the_refund_wait(buyer, points_product):
    order = _paid(buyer, points_product)
    delivery = Delivery.objects.get(order_number=order.number)
    with outbox_handled():  # the worker has started: the carrier is being asked
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        services.delivery_move(locked, "delivering")
        locked.save(update_fields=["status"])
    with pytest.raises(orders.RefundWaitsForDelivery) as waiting:
        orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="")
    assert waiting.value.details == {"lines": [order.lines.get().pk]}
    assert not Refund.objects.exists()
    assert [v.verdict for v in orders.order_refund_lines(number=order.number)] == ["delivering"]


def test_an_undelivered_line_is_held_then_refunded_and_never_delivered(buyer, points_product):
    order = _paid(buyer, points_product)
    delivery = Delivery.objects.get(order_number=order.number)
    assert [v.verdict for v in orders.order_refund_lines(number=order.number)] == ["undelivered"]
    with outbox_handled():
        [refund_id] = orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="")
        again = orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="")
    assert again == [refund_id]  # a repeat returns the open refund
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("failed", "REFUND_REQUESTED")
    assert services.job_deliver(job_id=delivery.pk) == "failed"  # held: the worker leaves it
    with outbox_handled(tasks=True):
        payments.refund_decide(refund_id=refund_id, approve=True, actor_id=buyer.pk)
    delivery.refresh_from_db()
    assert delivery.status == "refunded"
    assert payments.points_balance(user_id=buyer.pk) == 500  # the money back, no points bought
    assert OrderLine.objects.get(order=order).fulfilment == "refunded"


def test_the_finance_views_show_each_lines_delivery(buyer, operator, points_product, client):
    order = _delivered(buyer, points_product)
    [line] = orders.order_refund_lines(number=order.number)
    assert (line.delivery, line.verdict, line.refundable) == ("delivered", "override_needed", False)
    [overridden] = orders.order_refund_lines(number=order.number, override=True)
    assert (overridden.verdict, overridden.refundable) == ("override", True)
    client.force_login(operator)
    page = client.get(f"/admin/orders/order/{order.pk}/refund/").content.decode()
    assert f'data-line="{line.line_id}" data-verdict="override_needed"' in page
    refused = client.post(f"/admin/orders/order/{order.pk}/refund/", {"override_reason": ""})
    assert refused.status_code == 409
    assert not Refund.objects.exists()
    with outbox_handled():
        done = client.post(f"/admin/orders/order/{order.pk}/refund/", {"override_reason": "工单 9"})
    assert done.status_code == 302
    assert (Refund.objects.get().amount_fen, Refund.objects.get().status) == (500, "requested")
    assert AuditEvent.objects.get(action="order.refund_override").after["reason"] == "工单 9"
    assert "工单 9" in client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()


def _asked_before_the_hold(buyer: User, item) -> tuple[Order, int, Delivery]:
    """The buyer asks while the line is undelivered, and the worker starts the delivery before
    fulfilment has handled the hold (``orders.refund_requested`` still in the outbox)."""
    order = _paid(buyer, item)
    [refund_id] = orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="")
    return order, refund_id, Delivery.objects.get(order_number=order.number)


def test_a_line_delivered_after_the_request_is_not_refunded_on_approval(buyer, points_product):
    order, refund_id, delivery = _asked_before_the_hold(buyer, points_product)
    with outbox_handled():
        assert services.job_deliver(job_id=delivery.pk) == "delivered"
    checker = User.objects.create_user("13800000039", is_staff=True)
    with outbox_handled(tasks=True), pytest.raises(orders.RefundLineDelivered) as refused:
        payments.refund_decide(refund_id=refund_id, approve=True, actor_id=checker.pk)
    line = order.lines.get()
    assert refused.value.details == {"lines": [line.pk]}
    refund = Refund.objects.get(pk=refund_id)
    assert (refund.status, refund.decided_by_id, refund.first_approved_by_id) == (
        "requested", None, None,
    )  # fmt: skip
    assert payments.points_balance(user_id=buyer.pk) == 500  # the points bought, no money back
    assert OrderLine.objects.get(pk=line.pk).fulfilment == "delivered"
    # Finance rejects it; an operator who still wants the money back overrides with a reason.
    payments.refund_decide(refund_id=refund_id, approve=False, actor_id=checker.pk)
    assert Refund.objects.get(pk=refund_id).status == "rejected"


def test_a_line_being_delivered_after_the_request_makes_the_approval_wait(buyer, points_product):
    order, refund_id, delivery = _asked_before_the_hold(buyer, points_product)
    with outbox_handled():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        services.delivery_move(locked, "delivering")
        locked.save(update_fields=["status"])
    checker = User.objects.create_user("13800000039", is_staff=True)
    with pytest.raises(orders.RefundWaitsForDelivery) as waiting:
        payments.refund_decide(refund_id=refund_id, approve=True, actor_id=checker.pk)
    assert waiting.value.details == {"lines": [order.lines.get().pk]}
    assert Refund.objects.get(pk=refund_id).status == "requested"


def test_an_overridden_delivered_line_is_still_approved(buyer, operator, points_product):
    """The check is about lines delivered since the request, not those an operator overrode."""
    order = _delivered(buyer, points_product)
    [refund_id] = orders.order_refund_request(
        number=order.number, user_id=buyer.pk, reason="", requested_by=operator.pk,
        override_reason="工单 12",
    )  # fmt: skip
    checker = User.objects.create_user("13800000039", is_staff=True)
    with outbox_handled(tasks=True):
        payments.refund_decide(refund_id=refund_id, approve=True, actor_id=checker.pk)
    assert Refund.objects.get(pk=refund_id).status == "succeeded"
