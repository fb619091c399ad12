"""A delivered SIM card's line is opened at the carrier under its owner, exactly once; the line's
delivery is the activation, and a refused one is refunded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.carrier.errors import CarrierUnavailable
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment import sim
from apps.fulfilment.models import Delivery
from apps.fulfilment.shipping import services as shipping
from apps.orders import services as orders
from apps.orders.models import Order, OrderLine
from apps.orders.services import CartOwner, RealNameInput, ShippingAddress
from apps.payments import services as payments
from apps.payments.models import Refund
from apps.simcards.models import SimNumber
from apps.simcards.tests.support import numbers, sim_product, unique_id_number, unique_number

pytestmark = pytest.mark.django_db
ADDRESS = ShippingAddress(name="张三", phone="13800138000", province="广东", city="广州", address="天河路1号")  # fmt: skip


@dataclass(frozen=True)
class Sold:
    line_id: int
    msisdn: str
    id_number: str


@pytest.fixture
def sold(carrier_sandbox) -> Sold:
    """A paid SIM card's order line, with a number and an ID no other test used (the sandbox
    keeps the lines it opened for the whole session)."""
    msisdn, id_number = "+86" + unique_number(), unique_id_number()
    (number,) = numbers(msisdn[3:])
    SimNumber.objects.filter(pk=number.pk).update(province="广东", city="广州")
    product = sim_product(price=1000)
    buyer = User.objects.create_user("13800138000")
    payments.points_grant(user_id=buyer.pk, points=200_000, key="sim", reason="test")
    orders.cart_add(
        owner=CartOwner(user_id=buyer.pk), sku_id=product.skus.get().pk, sim_number=msisdn
    )
    with outbox_handled():
        order = orders.checkout_submit(
            user_id=buyer.pk, checkout_key="s", shipping=ADDRESS, points=1000 + number.premium_fen,
            real_name=RealNameInput(name="张三", id_number=id_number),
        )  # fmt: skip
    assert SimNumber.objects.get().status == "sold"
    return Sold(line_id=order.lines[0].id, msisdn=msisdn, id_number=id_number)


def _subscriber(sandbox, sold: Sold) -> httpx.Response:
    return httpx.get(
        f"{sandbox.url}/carrier/v1/subscribers/{sold.msisdn}",
        headers={"X-Api-Key": sandbox.api_key},
    )


def _registered(sandbox, sold: Sold) -> int:
    """Numbers the register counts for the owner's ID (lines opened at the carrier)."""
    return httpx.post(
        f"{sandbox.url}/carrier/v1/identity/verify", json={"name": "张三", "id_number": sold.id_number},
        headers={"X-Api-Key": sandbox.api_key},
    ).json()["numbers_registered"]  # fmt: skip


def _delivery(sold: Sold) -> Delivery:
    return Delivery.objects.get(line_id=sold.line_id)


def test_paying_creates_the_sim_delivery_that_waits_for_its_parcel(sold):
    delivery = _delivery(sold)
    assert (delivery.kind, delivery.status, delivery.msisdn) == ("sim", "pending", sold.msisdn)
    assert OrderLine.objects.get(pk=sold.line_id).fulfilment == "ready"


def test_activation_opens_the_line_once(sold, carrier_sandbox):
    assert _subscriber(carrier_sandbox, sold).status_code == 404
    assert sim.sim_activate(line_id=sold.line_id) == "activated"
    body = _subscriber(carrier_sandbox, sold).json()
    assert (body["status"], body["real_name_verified"], body["is_own_network"]) == (
        "active",
        True,
        True,
    )
    number = SimNumber.objects.get()
    assert number.status == "active"
    assert number.activation_request_id.startswith("SA")
    delivery = _delivery(sold)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 1, "")
    assert delivery.carrier_request_id == number.activation_request_id
    assert OrderLine.objects.get(pk=sold.line_id).fulfilment == "delivered"
    assert (body["province"], body["city"]) == ("广东", "广州")  # the pool's home location
    assert sim.sim_activate(line_id=sold.line_id) == "already_active"
    assert _registered(carrier_sandbox, sold) == 1


def test_a_lost_answer_is_checked_by_key_before_sending_again(sold, carrier_sandbox, settings):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    with pytest.raises(CarrierUnavailable):
        sim.sim_activate(line_id=sold.line_id)  # applied, answer lost, by-key also lost
    assert SimNumber.objects.get().status == "sold"
    assert _delivery(sold).status == "delivering"
    carrier_sandbox.set_knobs(lost_response_rate=0.0)
    assert sim.sim_activate(line_id=sold.line_id) == "activated"
    assert _delivery(sold).attempts == 2
    assert _registered(carrier_sandbox, sold) == 1  # once, not twice


def test_the_retry_sweep_finishes_an_activation_the_carrier_did_not_answer(
    sold, carrier_sandbox, settings
):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    carrier_sandbox.set_knobs(error_rate=1.0)
    with pytest.raises(CarrierUnavailable):
        sim.sim_activate(line_id=sold.line_id)
    assert sim.sim_activations_retry() == 0  # not idle long enough yet
    Delivery.objects.update(updated_at=timezone.now() - timedelta(minutes=2))
    carrier_sandbox.set_knobs(error_rate=0.0)
    assert sim.sim_activations_retry() == 1
    assert SimNumber.objects.get().status == "active"
    assert _registered(carrier_sandbox, sold) == 1


def test_a_refused_activation_is_refunded_automatically_and_nothing_is_opened(
    sold, carrier_sandbox, django_capture_on_commit_callbacks
):
    carrier_sandbox.put_identity(sold.id_number, "李四")  # the register disagrees since checkout
    line = OrderLine.objects.select_related("order").get(pk=sold.line_id)
    points_before = payments.points_balance(user_id=line.order.user_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert sim.sim_activate(line_id=sold.line_id) == "refused:IDENTITY_MISMATCH"
    delivery = _delivery(sold)
    assert (delivery.status, delivery.last_error) == ("refunded", "IDENTITY_MISMATCH")
    refund = Refund.objects.get()
    assert (refund.automatic, refund.amount_fen, refund.status) == (
        True,
        line.total_fen,
        "succeeded",
    )
    assert payments.points_balance(user_id=line.order.user_id) == points_before + line.total_fen
    line.refresh_from_db()
    assert line.fulfilment == "refunded"
    assert line.order.status == "refunded"
    assert _subscriber(carrier_sandbox, sold).status_code == 404
    Delivery.objects.update(updated_at=timezone.now() - timedelta(minutes=2))
    assert sim.sim_activations_retry() == 0  # nothing is sent again
    assert sim.sim_activate(line_id=sold.line_id).startswith("not_sold")
    assert _registered(carrier_sandbox, sold) == 0


def test_other_lines_are_not_sim_cards(carrier_sandbox):
    assert sim.sim_activate(line_id=999_999) == "not_a_sim"


def test_an_operator_activates_from_the_workbench(sold, carrier_sandbox, client):
    client.force_login(User.objects.create_superuser("13800000000", "pw"))
    response = client.post(
        "/admin/fulfilment/delivery/",
        {"action": "activate", "_selected_action": [_delivery(sold).pk]},
    )
    assert response.status_code == 302
    assert SimNumber.objects.get().status == "active"
    assert _delivery(sold).status == "delivered"


def test_delivering_the_card_activates_its_number_and_settles_the_order(
    sold, carrier_sandbox, django_capture_on_commit_callbacks
):
    line = OrderLine.objects.select_related("order").get(pk=sold.line_id)
    with outbox_handled():
        shipping.shipment_create(order_number=line.order.number, line_ids=[line.pk], courier="sf",
                               tracking_number="SF710000001", actor_id=None)  # fmt: skip
    assert (_delivery(sold).status, _delivery(sold).detail) == ("delivering", "sf SF710000001")
    assert OrderLine.objects.get(pk=line.pk).fulfilment == "delivering"
    with django_capture_on_commit_callbacks(execute=True):  # the courier's update, then the worker
        shipping.tracking_update_receive(courier="sf", update=shipping.CourierUpdate(
            event_id="S1", tracking_number="SF710000001", status="delivered",
            occurred_at=timezone.now()))  # fmt: skip
    assert SimNumber.objects.get().status == "active"
    assert _delivery(sold).status == "delivered"
    assert _registered(carrier_sandbox, sold) == 1
    order = Order.objects.get(pk=line.order.pk)
    assert (order.status, order.delivery_settled_at is not None) == ("completed", True)
