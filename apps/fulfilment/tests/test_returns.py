"""Returns of unopened goods: the window, the decisions, and stock and money back exactly once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import Sku
from apps.catalog.tests.factories import product, product_type, small_catalog
from apps.core.models import AuditEvent
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment.models import ReturnRequest, Shipment
from apps.fulfilment.shipping import services
from apps.fulfilment.shipping.errors import (
    ReturnMustBeUnopened,
    ReturnNotAllowed,
    ReturnNotFound,
    ReturnStateConflict,
)
from apps.fulfilment.shipping.services import CourierUpdate
from apps.ledger.selectors import ledger_check
from apps.orders.models import Order
from apps.orders.services.orders import OrderNotFound
from apps.orders.tests.support import paid_order
from apps.payments import services as payments
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    found = small_catalog()
    found["case"] = product(found["phones"], product_type("case", kind="physical"), "手机壳",
                            price=2900, stock=10)  # fmt: skip
    return found


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


@pytest.fixture
def operator():
    return User.objects.create_superuser("13800000000", "pw")


def _delivered(order, *, ago=timedelta(hours=1), tracking="SF500000001"):
    lines = list(order.lines.filter(kind="physical").values_list("pk", flat=True))
    with outbox_handled():  # fulfilment follows the parcel and reports the lines delivered
        services.shipment_create(order_number=order.number, line_ids=lines, courier="sf",
                                 tracking_number=tracking, actor_id=None)  # fmt: skip
        # Shipped before it was delivered.
        Shipment.objects.filter(tracking_number=tracking).update(status_at=timezone.now() - ago * 2)
        services.tracking_update_receive(courier="sf", update=CourierUpdate(
            event_id=f"D-{tracking}", tracking_number=tracking, status="delivered",
            occurred_at=timezone.now() - ago))  # fmt: skip
    return order.lines.get(product_name="手机壳").pk


@pytest.fixture
def delivered(catalog, buyer):
    order = paid_order(buyer, [catalog["iphone"], catalog["case"]])
    return order, _delivered(order)


def test_a_return_received_unopened_gives_stock_and_money_back_once(
    delivered, buyer, operator, django_capture_on_commit_callbacks
):
    order, line_id = delivered
    sku = Sku.objects.get(product__name="手机壳")
    assert Order.objects.get(pk=order.pk).status == "completed"
    asked = services.return_request(number=order.number, user_id=buyer.pk, line_id=line_id,
                                    reason="不想要了", unopened=True)  # fmt: skip
    assert services.return_request(number=order.number, user_id=buyer.pk, line_id=line_id,
                                   reason="again", unopened=True).id == asked.id  # fmt: skip
    assert (asked.status, asked.amount_fen) == ("requested", 2900)
    with pytest.raises(ReturnStateConflict):
        services.return_send_back(return_id=asked.id, user_id=buyer.pk, courier="sf",
                                  tracking_number="SF900000001")  # fmt: skip
    services.return_decide(return_id=asked.id, approve=True, actor_id=operator.pk)
    services.return_decide(return_id=asked.id, approve=True, actor_id=operator.pk)
    services.return_send_back(return_id=asked.id, user_id=buyer.pk, courier="sf",
                              tracking_number="SF900000001")  # fmt: skip
    received = services.return_receive(return_id=asked.id, actor_id=operator.pk)
    again = services.return_receive(return_id=asked.id, actor_id=operator.pk)
    assert received.status == again.status == "received"
    assert Sku.objects.get(pk=sku.pk).stock_on_hand == sku.stock_on_hand + 1
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.status, refund.requested_by_id) == (
        2900,
        "requested",
        operator.pk,
    )
    assert again.refund_ids == [refund.pk]
    # Finance (not the operator who received the return) approves; the points come back.
    finance = User.objects.create_user("13800000009", "pw", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        payments.refund_decide(refund_id=refund.pk, approve=True, actor_id=finance.pk)
    assert Refund.objects.get().status == "succeeded"
    assert payments.points_balance(user_id=buyer.pk) == 2900
    assert (Order.objects.get(pk=order.pk).refunded_fen, Order.objects.get(pk=order.pk).status) == (
        2900, "completed",
    )  # fmt: skip
    actions = list(AuditEvent.objects.filter(object_type="return").order_by("id")
                   .values_list("action", flat=True))  # fmt: skip
    assert actions == ["return.requested", "return.approved", "return.sent_back", "return.received"]
    assert ledger_check() == []


def test_returns_that_are_not_allowed_write_nothing(catalog, buyer, delivered):
    order, line_id = delivered
    with pytest.raises(ReturnMustBeUnopened):
        services.return_request(number=order.number, user_id=buyer.pk, line_id=line_id,
                                reason="", unopened=False)  # fmt: skip
    stranger = User.objects.create_user("13900139000")
    with pytest.raises(OrderNotFound):
        services.return_request(number=order.number, user_id=stranger.pk, line_id=line_id,
                                reason="", unopened=True)  # fmt: skip
    late = paid_order(buyer, [catalog["case"]], key="late")
    late_line = _delivered(late, ago=timedelta(days=8), tracking="SF500000002")
    with pytest.raises(ReturnNotAllowed):
        services.return_request(number=late.number, user_id=buyer.pk, line_id=late_line,
                                reason="", unopened=True)  # fmt: skip
    shipped_only = paid_order(buyer, [catalog["case"]], key="transit")
    transit_line = shipped_only.lines.get().pk
    with outbox_handled():
        services.shipment_create(order_number=shipped_only.number, line_ids=[transit_line],
                                 courier="sf", tracking_number="SF500000003", actor_id=None)  # fmt: skip
    with pytest.raises(ReturnNotAllowed):
        services.return_request(number=shipped_only.number, user_id=buyer.pk, line_id=transit_line,
                                reason="", unopened=True)  # fmt: skip
    assert not ReturnRequest.objects.exists()
    with pytest.raises(ReturnNotFound):
        services.return_receive(return_id=999, actor_id=buyer.pk)


def test_a_rejected_return_moves_nothing_and_may_be_asked_again(delivered, buyer, operator):
    order, line_id = delivered
    asked = services.return_request(number=order.number, user_id=buyer.pk, line_id=line_id,
                                    reason="x", unopened=True)  # fmt: skip
    services.return_decide(return_id=asked.id, approve=False, actor_id=operator.pk, note="已拆封")
    with pytest.raises(ReturnStateConflict):
        services.return_receive(return_id=asked.id, actor_id=operator.pk)
    with pytest.raises(ReturnStateConflict):
        services.return_decide(return_id=asked.id, approve=True, actor_id=operator.pk)
    assert not Refund.objects.exists()
    second = services.return_request(number=order.number, user_id=buyer.pk, line_id=line_id,
                                     reason="y", unopened=True)  # fmt: skip
    assert second.id != asked.id
    assert Shipment.objects.count() == 1
