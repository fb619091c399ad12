"""The OrderPaid fact orders hands on (once per order, however the payment is told) and the
settlement fulfilment tells back (once)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.models import AuditEvent, OutboxEvent
from apps.orders import services
from apps.orders.models import Order
from apps.orders.services import CartOwner
from apps.orders.services.orders import OrderStateConflict, payment_succeeded
from apps.orders.tests.support import ADDRESS
from apps.payments.handlers import PaymentFact


def _pending(buyer: User, products: list) -> Order:
    for item in products:
        services.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=item.skus.get().pk, quantity=1)
    view = services.checkout_submit(user_id=buyer.pk, checkout_key="k", shipping=ADDRESS)
    return Order.objects.get(number=view.number)


def _fact(order: Order, n: int = 1) -> PaymentFact:
    return PaymentFact(intent_id=n, public_id=f"PI{n}", purpose="order", reference=order.number,
                       method="alipay", amount_fen=order.payable_fen, user_id=order.user_id)  # fmt: skip


def _published(order: Order) -> list[OutboxEvent]:
    return list(
        OutboxEvent.objects.filter(topic="orders.order_paid", key=f"order_paid:{order.number}")
    )


@pytest.mark.django_db
def test_the_fact_carries_everything_each_line_needs():
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    order = _pending(buyer, [catalog["iphone"], catalog["vip"]])
    with transaction.atomic():
        assert payment_succeeded(_fact(order)) is True
    [event] = _published(order)
    lines = {line.kind: line for line in order.lines.all()}
    assert event.payload["number"] == order.number
    assert event.payload["user_id"] == buyer.pk
    assert event.payload["shipping"]["city"] == "广州"
    assert [
        (e["line_id"], e["sku_id"], e["kind"], e["type_code"], e["quantity"], e["paid_fen"])
        for e in event.payload["lines"]
    ] == [
        (lines["physical"].pk, lines["physical"].sku_id, "physical", "phone", 1, lines["physical"].total_fen),
        (lines["digital"].pk, lines["digital"].sku_id, "digital", "video", 1, lines["digital"].total_fen),
    ]  # fmt: skip
    assert all({"recipient", "attributes", "name"} <= set(e) for e in event.payload["lines"])


@pytest.mark.django_db
def test_a_duplicate_notification_publishes_nothing_more():
    catalog = small_catalog()
    order = _pending(User.objects.create_user("13800138000"), [catalog["iphone"]])
    with transaction.atomic():
        assert payment_succeeded(_fact(order)) is True
    with transaction.atomic():
        # The same payment told again (a second intent's notice): refused, nothing published.
        assert payment_succeeded(_fact(order, 2)) is False
    assert len(_published(order)) == 1
    assert OutboxEvent.objects.filter(topic="orders.order_paid").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_notifications_publish_the_fact_once():
    catalog = small_catalog()
    order = _pending(User.objects.create_user("13800138000"), [catalog["iphone"], catalog["vip"]])
    barrier = threading.Barrier(4)
    answers: list[bool] = []

    def notify(n: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                answers.append(payment_succeeded(_fact(order, n)))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=notify, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [False, False, False, True]
    assert len(_published(order)) == 1
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.django_db
def test_settlement_is_recorded_once_and_completes_a_delivered_order():
    catalog = small_catalog()
    order = _pending(User.objects.create_user("13800138000"), [catalog["vip"]])
    with transaction.atomic():
        payment_succeeded(_fact(order))
    line = order.lines.get()
    with pytest.raises(OrderStateConflict):  # the workbench may not complete it while open
        services.order_complete(number=order.number)
    assert services.order_line_delivery_record(line_id=line.pk, state="delivered") is True
    assert services.order_line_delivery_record(line_id=line.pk, state="delivered") is False
    assert services.order_delivery_settled(number=order.number, lines={line.pk: "delivered"})
    assert not services.order_delivery_settled(number=order.number, lines={line.pk: "delivered"})
    order.refresh_from_db()
    assert (order.status, order.delivery_settled_at is not None) == ("completed", True)
    assert AuditEvent.objects.filter(action="order.delivery_settled").count() == 1
    assert AuditEvent.objects.filter(action="order.completed", object_id=order.number).count() == 1


@pytest.mark.django_db
def test_an_order_whose_lines_were_all_refunded_is_not_completed():
    catalog = small_catalog()
    order = _pending(User.objects.create_user("13800138000"), [catalog["vip"]])
    with transaction.atomic():
        payment_succeeded(_fact(order))
    line = order.lines.get()
    services.order_line_delivery_record(line_id=line.pk, state="refunded")
    assert services.order_delivery_settled(number=order.number, lines={line.pk: "refunded"})
    assert Order.objects.get(pk=order.pk).status == "paid"  # the refund makes it refunded
