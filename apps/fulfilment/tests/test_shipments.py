"""Shipping physical lines and the couriers' webhook: signatures, replays, order of events."""

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import product, product_type, small_catalog
from apps.core.models import AuditEvent
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment.models import Shipment, TrackingEvent
from apps.fulfilment.shipping import services
from apps.fulfilment.shipping.errors import (
    LineNotShippable,
    TrackingNumberInUse,
    TrackingNumberInvalid,
)
from apps.fulfilment.tests.support import signed_post
from apps.orders import services as order_services
from apps.orders.models import Order, OrderLine
from apps.orders.tests.support import paid_order

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
def order(catalog, buyer):
    return paid_order(buyer, [catalog["iphone"], catalog["case"], catalog["vip"]])


def _lines(order, kind="physical"):
    return list(order.lines.filter(kind=kind).order_by("pk").values_list("pk", flat=True))


def _ship(order, lines=None, tracking="SF1234567890", courier="sf"):
    with outbox_handled():
        return services.shipment_create(
            order_number=order.number, line_ids=lines or _lines(order), courier=courier,
            tracking_number=tracking, actor_id=None,
        )  # fmt: skip


def _event(event_id, status, at, tracking="SF1234567890"):
    return {"event_id": event_id, "tracking_number": tracking, "status": status,
            "occurred_at": at, "location": "广州", "description": status}  # fmt: skip


def test_shipping_lines_puts_them_in_one_parcel_once(order):
    first = _ship(order)
    assert first.created is True
    assert first.line_ids == tuple(_lines(order))
    shipment = Shipment.objects.get()
    assert (shipment.status, shipment.courier, shipment.tracking_number, shipment.tracking) == (
        "shipped", "sf", "SF1234567890", "pending",
    )  # fmt: skip
    assert list(OrderLine.objects.filter(kind="physical").values_list("fulfilment", flat=True)) == [
        "delivering", "delivering",
    ]  # fmt: skip
    again = _ship(order, tracking=" sf1234567890 ")
    assert (again.id, again.created) == (first.id, False)
    assert Shipment.objects.count() == 1
    assert AuditEvent.objects.filter(action="shipment.shipped").count() == 1


def test_shipping_refusals_write_nothing(order, catalog, buyer):
    digital = _lines(order, "digital")
    with pytest.raises(LineNotShippable) as refused:
        _ship(order, lines=[*_lines(order), *digital])
    assert refused.value.details == {"lines": digital}
    with pytest.raises(TrackingNumberInvalid):
        _ship(order, tracking="短")
    other = paid_order(buyer, [catalog["case"]], key="other")
    _ship(other, tracking="SF000000001")
    with pytest.raises(TrackingNumberInUse):
        _ship(order, tracking="SF000000001")
    with pytest.raises(LineNotShippable):
        _ship(order, lines=_lines(other))  # a line of another order
    assert Shipment.objects.count() == 1
    assert set(order.lines.filter(kind="physical").values_list("fulfilment", flat=True)) == {
        "ready"
    }


def test_an_unpaid_order_cannot_ship(catalog, buyer):
    order_services.cart_add(owner=order_services.CartOwner(user_id=buyer.pk),
                      sku_id=catalog["case"].skus.get().pk, quantity=1)  # fmt: skip
    from apps.orders.tests.support import ADDRESS

    view = order_services.checkout_submit(user_id=buyer.pk, checkout_key="unpaid", shipping=ADDRESS)
    unpaid = Order.objects.get(number=view.number)
    with pytest.raises(LineNotShippable):  # no delivery until paid
        _ship(unpaid)
    assert not Shipment.objects.exists()


def test_updates_move_the_parcel_and_delivery_completes_the_order(
    client, order, django_capture_on_commit_callbacks
):
    # The digital line was delivered when paid (its entitlement handed on); the parcel is left.
    assert list(order.lines.filter(kind="digital").values_list("fulfilment", flat=True)) == [
        "delivered"
    ]
    _ship(order)
    for n, status in enumerate(["collected", "in_transit", "out_for_delivery"], start=1):
        answer = signed_post(client, "sf", _event(f"E{n}", status, f"2099-01-01T10:0{n}:00+08:00"))
        assert (answer.status_code, answer.json()) == (200, {"received": True, "result": "applied"})
    assert Order.objects.get(pk=order.pk).status == "paid"
    with django_capture_on_commit_callbacks(execute=True):
        answer = signed_post(client, "sf", _event("E4", "delivered", "2099-01-01T10:04:00+08:00"))
    assert answer.json()["result"] == "applied"
    shipment = Shipment.objects.get()
    assert shipment.status == "delivered"
    assert shipment.delivered_at.isoformat() == "2099-01-01T02:04:00+00:00"
    assert Order.objects.get(pk=order.pk).status == "completed"
    assert set(order.lines.values_list("fulfilment", flat=True)) == {"delivered"}
    actions = list(AuditEvent.objects.filter(object_type="shipment").order_by("id")
                   .values_list("action", flat=True))  # fmt: skip
    assert actions == ["shipment.shipped", "shipment.collected", "shipment.in_transit",
                       "shipment.out_for_delivery", "shipment.delivered"]  # fmt: skip


def test_a_replayed_event_changes_nothing(client, order):
    _ship(order)
    body = _event("E1", "in_transit", "2099-01-01T10:00:00+08:00")
    assert signed_post(client, "sf", body).json()["result"] == "applied"
    assert signed_post(client, "sf", body).json() == {"received": True, "result": "duplicate"}
    assert TrackingEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action="shipment.in_transit").count() == 1


def test_an_older_event_never_moves_the_parcel_back_but_is_kept(client, order):
    _ship(order)
    signed_post(client, "sf", _event("E3", "out_for_delivery", "2099-01-01T12:00:00+08:00"))
    late = signed_post(client, "sf", _event("E2", "in_transit", "2099-01-01T11:00:00+08:00"))
    assert late.json()["result"] == "kept"
    assert Shipment.objects.get().status == "out_for_delivery"
    timeline = list(TrackingEvent.objects.values_list("event_id", "status", "applied"))
    assert timeline == [("E2", "in_transit", False), ("E3", "out_for_delivery", True)]
    # Newer but backwards (a scan in transit after going out for delivery): kept only.
    newer = signed_post(client, "sf", _event("E4", "in_transit", "2099-01-01T13:00:00+08:00"))
    assert newer.json()["result"] == "kept"
    assert Shipment.objects.get().status == "out_for_delivery"


def test_a_parcel_sent_back_fails_its_lines(client, order):
    _ship(order)
    signed_post(client, "sf", _event("E1", "exception", "2099-01-01T10:00:00+08:00"))
    with outbox_handled():
        signed_post(client, "sf", _event("E2", "returned", "2099-01-01T11:00:00+08:00"))
    assert Shipment.objects.get().status == "returned"
    assert set(order.lines.filter(kind="physical").values_list("fulfilment", flat=True)) == {
        "failed"
    }
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.parametrize(
    ("courier", "secret", "age", "status", "code"),
    [
        ("sf", "wrong-secret", 0, 401, "INVALID_SIGNATURE"),
        ("sf", "sandbox-courier-zto", 0, 401, "INVALID_SIGNATURE"),  # another courier's secret
        ("sf", None, 301, 401, "INVALID_SIGNATURE"),  # outside the timestamp window
        ("dhl", None, 0, 404, "UNKNOWN_COURIER"),
    ],
)
def test_refused_updates_write_nothing(client, order, courier, secret, age, status, code):
    import time

    _ship(order)
    answer = signed_post(
        client, courier, _event("E1", "delivered", "2099-01-01T10:00:00+08:00"),
        secret=secret, ts=int(time.time()) - age,
    )  # fmt: skip
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert not TrackingEvent.objects.exists()
    assert Shipment.objects.get().status == "shipped"


def test_an_unknown_tracking_number_is_404_and_nothing_is_written(client, order, caplog):
    _ship(order)
    before = AuditEvent.objects.count()
    answer = signed_post(client, "sf", _event("E1", "delivered", "2099-01-01T10:00:00+08:00",
                                              tracking="SF999999999"))  # fmt: skip
    assert (answer.status_code, answer.json()["code"]) == (404, "UNKNOWN_TRACKING_NUMBER")
    assert not TrackingEvent.objects.exists()
    assert AuditEvent.objects.count() == before
    assert "unknown tracking number SF999999999" in caplog.text


def test_a_malformed_update_is_400(client, order):
    _ship(order)
    answer = signed_post(client, "sf", {"event_id": "E1", "tracking_number": "SF1234567890"})
    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_ARGUMENT")
    naive = _event("E1", "delivered", "2099-01-01T10:00:00")
    assert signed_post(client, "sf", naive).status_code == 400
    assert not TrackingEvent.objects.exists()


def test_a_parcel_moves_its_deliveries_in_its_own_transaction(order):
    """No outbox hop: the deliveries are delivering when shipment_create returns, before any
    event is handled, and no parcel topic is published."""
    from apps.core.models import OutboxEvent
    from apps.fulfilment.models import Delivery

    lines = _lines(order)
    services.shipment_create(order_number=order.number, line_ids=lines, courier="sf",
                             tracking_number="SF1234567890", actor_id=None)  # fmt: skip
    deliveries = Delivery.objects.filter(line_id__in=lines).order_by("line_id")
    assert [(d.status, d.detail) for d in deliveries] == [("delivering", "sf SF1234567890")] * len(
        lines
    )
    assert set(order.lines.filter(pk__in=lines).values_list("fulfilment", flat=True)) == {
        "delivering"
    }
    assert not OutboxEvent.objects.filter(topic__startswith="orders.parcel").exists()


def test_the_ship_page_shows_the_address_the_order_paid_fact_carried(client, order):
    operator = User.objects.create_superuser("13900000001", password="x")
    client.force_login(operator)
    page = client.get(f"/admin/fulfilment/shipment/ship/{order.number}/").content.decode()
    assert "张三" in page and "天河路1号" in page
    assert f'value="{_lines(order)[0]}"' in page
