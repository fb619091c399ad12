"""One Delivery per paid line, whatever its kind: the table, the OrderPaid handler applied once,
every kind reaching an end, and the order settled once."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import category, product, product_type, small_catalog
from apps.core import outbox
from apps.core.models import AuditEvent, OutboxEvent
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment import handlers, services
from apps.fulfilment.models import Delivery
from apps.fulfilment.shipping import services as shipping
from apps.orders import services as orders
from apps.orders.models import Order, OrderLine
from apps.orders.services import CartOwner
from apps.orders.tests.support import ADDRESS, paid_order
from apps.payments import services as payments

S = Delivery.Status
EXPECTED = {
    "pending": {"delivering", "delivered", "failed", "refunded"},
    "delivering": {"delivering", "delivered", "failed"},
    "failed": {"delivering", "refunded"},
    "delivered": {"refunded"},
    "refunded": set(),
}


@pytest.mark.parametrize("source", list(EXPECTED))
@pytest.mark.parametrize("target", list(EXPECTED))
def test_the_transition_table(source, target):
    delivery = Delivery(status=source)
    assert delivery.can_move_to(target) is (target in EXPECTED[source])


def test_the_ended_states_are_the_ones_without_a_way_forward_but_a_refund():
    assert {S.DELIVERED, S.REFUNDED} == Delivery.ENDED
    assert set(Delivery.TRANSITIONS) == set(S.values)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ({"type_code": "airtime", "kind": "electronic"}, "airtime"),
        ({"type_code": "data_pack", "kind": "electronic"}, "data_pack"),
        ({"type_code": "plan", "kind": "electronic"}, "plan_change"),
        ({"type_code": "addon", "kind": "electronic"}, "addon"),
        ({"type_code": "points", "kind": "electronic"}, "points"),
        ({"type_code": "e_card", "kind": "electronic"}, "card"),
        ({"type_code": "sim", "kind": "physical"}, "sim"),
        ({"type_code": "phone", "kind": "physical"}, "physical"),
        ({"type_code": "video", "kind": "digital"}, "digital"),
        ({"type_code": "mystery", "kind": "electronic"}, "airtime"),  # fails: no face value
    ],
)
def test_every_product_kind_has_a_delivery_kind(line, kind):
    assert services.delivery_kind(line) == kind


@pytest.fixture
def goods(db):
    found = small_catalog()
    points = product_type("points", schema=[{"key": "points", "label": "积分", "type": "int"}])
    found["points"] = product(
        category("mobile"), points, "积分 500", price=500, attributes={"points": 500}
    )
    return found


@pytest.fixture
def buyer(db):
    user = User.objects.create_user("13800138000")
    return user


@pytest.mark.django_db
def test_the_paid_fact_creates_one_delivery_per_line_and_a_redelivery_changes_nothing(goods, buyer):
    order = paid_order(buyer, [goods["iphone"], goods["vip"], goods["points"]])
    rows = {d.kind: d for d in Delivery.objects.filter(order_number=order.number)}
    assert set(rows) == {"physical", "digital", "points"}
    assert {d.line_id for d in rows.values()} == set(order.lines.values_list("pk", flat=True))
    assert (rows["physical"].status, rows["digital"].status, rows["points"].status) == (
        "pending", "delivered", "pending",
    )  # fmt: skip
    assert (rows["points"].points, rows["points"].msisdn) == (500, "+8613800138000")
    [paid] = OutboxEvent.objects.filter(topic="orders.order_paid")
    # The sweeper sends it again before it was acknowledged: the receipt skips the handler.
    OutboxEvent.objects.filter(pk=paid.pk).update(status="pending")
    with outbox_handled():
        assert outbox.event_deliver(event_id=paid.pk) == []
    # Even the handler itself, run once more, finds every line's delivery and starts nothing.
    with outbox_handled():
        handlers.order_paid(outbox.Event(paid.pk, paid.topic, paid.payload, paid.key))
    assert Delivery.objects.filter(order_number=order.number).count() == 3
    assert OutboxEvent.objects.filter(topic="fulfilment.entitlement_requested").count() == 1
    assert AuditEvent.objects.filter(action="delivery.delivered").count() == 1


@pytest.mark.django_db
def test_every_kind_reaches_delivered_and_the_order_is_settled_once(goods, buyer):
    order = paid_order(buyer, [goods["iphone"], goods["vip"], goods["points"]])
    digital = Delivery.objects.get(order_number=order.number, kind="digital")
    [entitlement] = OutboxEvent.objects.filter(topic="fulfilment.entitlement_requested")
    assert entitlement.payload == {
        "delivery_id": digital.pk, "number": order.number, "line_id": digital.line_id,
        "user_id": buyer.pk, "sku_id": digital.sku_id, "units": 1, "attributes": digital.attributes,
        "paid_fen": digital.refund_fen,
    }  # fmt: skip
    points = Delivery.objects.get(order_number=order.number, kind="points")
    with outbox_handled():
        assert services.job_deliver(job_id=points.pk) == "delivered"
    assert payments.points_balance(user_id=buyer.pk) == 500
    assert Order.objects.get(pk=order.pk).status == "paid"  # the phone is still to ship
    physical = order.lines.get(kind="physical")
    with outbox_handled():
        shipment = shipping.shipment_create(order_number=order.number, line_ids=[physical.pk],
                                          courier="sf", tracking_number="SF900000001", actor_id=None)  # fmt: skip
    with outbox_handled():
        from django.utils import timezone

        shipping.tracking_update_receive(courier="sf", update=shipping.CourierUpdate(
            event_id="E1", tracking_number="SF900000001", status="delivered", occurred_at=timezone.now()))  # fmt: skip
    assert shipment.created
    rows = Delivery.objects.filter(order_number=order.number)
    assert {d.status for d in rows} == {"delivered"}
    assert all(d.delivered_at is not None for d in rows)
    assert Delivery.objects.get(line_id=physical.pk).detail == "sf SF900000001"
    assert set(order.lines.values_list("fulfilment", flat=True)) == {"delivered"}
    order.refresh_from_db()
    assert (order.status, order.delivery_settled_at is not None) == ("completed", True)
    # Each line's end was announced; the order was settled once.
    assert OutboxEvent.objects.filter(topic="fulfilment.delivery_ended").count() == 3
    assert AuditEvent.objects.filter(action="order.delivery_settled").count() == 1
    ended = OutboxEvent.objects.filter(topic="fulfilment.delivery_ended").first()
    with outbox_handled():
        handlers.delivery_ended(outbox.Event(ended.pk, ended.topic, ended.payload, ended.key))
    assert AuditEvent.objects.filter(action="order.delivery_settled").count() == 1


@pytest.mark.django_db
def test_the_order_page_shows_what_happened_to_each_line(goods, buyer, client):
    order = paid_order(buyer, [goods["vip"], goods["points"]])
    client.force_login(buyer)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="order-delivery"' in page
    digital = order.lines.get(kind="digital").pk
    assert f'data-line="{digital}" data-status="delivered"' in page
    detail = client.get(f"/api/v1/orders/{order.number}/").json()
    by_line = {d["line_id"]: d for d in detail["sections"]["deliveries"]}
    assert (by_line[digital]["kind"], by_line[digital]["status"]) == ("digital", "delivered")
    assert by_line[digital]["delivered_at"] is not None
    points = order.lines.get(kind="electronic").pk
    assert (by_line[points]["status"], by_line[points]["msisdn"]) == ("pending", "+8613800138000")
    stranger = User.objects.create_user("13900139000")
    client.force_login(stranger)
    assert client.get(f"/orders/{order.number}/").status_code == 404


@pytest.mark.django_db
def test_a_line_of_no_known_type_fails_and_is_refunded_instead_of_waiting(buyer):
    odd = product(category("odd"), product_type("mystery"), "神秘商品", price=300)
    payments.points_grant(user_id=buyer.pk, points=300, key="g", reason="t")
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=odd.skus.get().pk, quantity=1)
    with outbox_handled(tasks=True):
        view = orders.checkout_submit(
            user_id=buyer.pk, checkout_key="m", shipping=ADDRESS, points=300
        )
    delivery = Delivery.objects.get(order_number=view.number)
    assert (delivery.status, delivery.last_error) == ("refunded", "NO_RECIPIENT")
    assert OrderLine.objects.get(order__number=view.number).fulfilment == "refunded"
    assert payments.points_balance(user_id=buyer.pk) == 300
