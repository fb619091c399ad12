"""End to end: ship, the sandbox courier pushes over HTTP, the order completes."""

import time

import httpx
import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.fulfilment.models import Shipment, TrackingEvent
from apps.fulfilment.shipping import services
from apps.orders.models import Order
from apps.orders.tests.support import paid_order


def _wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def courier_sandbox(carrier_sandbox, live_server, settings):
    settings.COURIER_BASE_URL = carrier_sandbox.url
    settings.CARRIER_CALLBACK_BASE_URL = live_server.url
    http = httpx.Client(base_url=f"{carrier_sandbox.url}/courier",
                        headers={"X-Api-Key": carrier_sandbox.api_key}, timeout=10.0)  # fmt: skip
    http.post("/knobs/reset").raise_for_status()
    yield http
    http.post("/knobs/reset")
    http.close()


@pytest.mark.django_db(transaction=True)
def test_the_courier_pushes_until_delivered_and_the_order_completes(courier_sandbox):
    courier_sandbox.put(
        "/knobs", json={"step_ms": 100, "duplicate": True, "out_of_order": True}
    ).raise_for_status()
    catalog = small_catalog()
    order = paid_order(User.objects.create_user("13800138000"), [catalog["iphone"]])
    line_ids = list(order.lines.values_list("pk", flat=True))
    shipped = services.shipment_create(
        order_number=order.number, line_ids=line_ids, courier="zto",
        tracking_number="ZT2026112700001", actor_id=None,
    )  # fmt: skip
    assert Shipment.objects.get(pk=shipped.id).tracking == "registered"
    assert _wait_for(lambda: Order.objects.get(pk=order.pk).status == "completed")
    assert _wait_for(lambda: TrackingEvent.objects.count() == 4)
    time.sleep(0.5)  # the duplicates of the last update
    events = list(TrackingEvent.objects.order_by("received_at", "id")
                  .values_list("status", "applied"))  # fmt: skip
    # out_for_delivery came before the older in_transit, which was kept but not applied.
    assert events == [("collected", True), ("out_for_delivery", True),
                      ("in_transit", False), ("delivered", True)]  # fmt: skip
    assert Shipment.objects.get(pk=shipped.id).status == "delivered"
    assert list(order.lines.values_list("fulfilment", flat=True)) == ["delivered"]


@pytest.mark.django_db(transaction=True)
def test_a_courier_that_does_not_answer_leaves_the_parcel_for_the_retry(settings):
    settings.COURIER_BASE_URL = "http://127.0.0.1:9"
    catalog = small_catalog()
    order = paid_order(User.objects.create_user("13800138000"), [catalog["iphone"]])
    shipped = services.shipment_create(
        order_number=order.number, line_ids=list(order.lines.values_list("pk", flat=True)),
        courier="sf", tracking_number="SF2026112700002", actor_id=None,
    )  # fmt: skip
    shipment = Shipment.objects.get(pk=shipped.id)
    assert (shipment.tracking, shipment.tracking_error) == ("failed", "COURIER_UNAVAILABLE")
    assert services.shipments_register_pending() == 0  # too recent to retry
