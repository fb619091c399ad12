"""A campaign's data-pack gift: marketing says so when the order is paid
(``marketing.gift_granted``), fulfilment delivers the pack to the buyer's number once, through
the carrier like a bought pack; a full refund before it is delivered voids it
(``marketing.gift_voided``), one delivered stays given."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import category, product, product_type
from apps.core import outbox
from apps.core.models import OutboxEvent
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment import handlers, services
from apps.fulfilment.models import Delivery
from apps.marketing.models import Redemption
from apps.marketing.tests.support import campaign
from apps.orders import services as orders
from apps.orders.models import Order
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db


@pytest.fixture
def goods(db):
    cat = category("gifts")
    pack_type = product_type(
        "data_pack", needs_number=True,
        schema=[{"key": "volume", "label": "流量", "type": "str", "required": False},
                {"key": "validity_days", "label": "有效期", "type": "int", "required": False}],
    )  # fmt: skip
    video = product_type("video", kind="digital")
    return {
        "pack": product(cat, pack_type, "赠送流量包 1GB", price=1000,
                        attributes={"volume": "1GB", "validity_days": 7}),
        "vip": product(category("video", kind="digital"), video, "视频会员 月卡", price=1500),
    }  # fmt: skip


@pytest.fixture
def buyer(carrier_sandbox):
    phone = unique_msisdn("139")
    carrier_sandbox.put_subscriber(phone, status="active")
    return User.objects.create_user(phone)


def _buy(buyer: User, goods, *, tasks: bool) -> Order:
    """The buyer buys the video VIP (paid in points) while the gift campaign runs."""
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=goods["vip"].skus.get().pk)
    payments.points_grant(user_id=buyer.pk, points=1_500, key=f"g{buyer.pk}", reason="test")
    with outbox_handled(tasks=tasks):
        view = orders.checkout_submit(user_id=buyer.pk, checkout_key="gift", points=1_500)
    return Order.objects.get(number=view.number)


def _gift(order: Order) -> Delivery:
    redemption = Redemption.objects.get(order_number=order.number)
    return Delivery.objects.get(line_id=-redemption.pk)


def test_the_pack_is_delivered_once_to_the_buyers_number(goods, buyer, carrier_sandbox, client):
    campaign(rule="gift_data_pack", gift_sku_id=goods["pack"].skus.get().pk, name="买会员送流量")

    order = _buy(buyer, goods, tasks=True)

    gift = _gift(order)
    assert (gift.kind, gift.msisdn, gift.volume_mb, gift.validity_days, gift.status) == (
        "data_pack", buyer.phone, 1024, 7, "delivered",
    )  # fmt: skip
    assert (gift.order_number, gift.refund_fen, gift.units) == (order.number, 0, 1)
    assert gift.label.startswith("买会员送流量")
    # The order's own lines settle the order; the gift is no line of it.
    assert Order.objects.get(pk=order.pk).status == "completed"
    assert [line.fulfilment for line in order.lines.all()] == ["delivered"]
    # A redelivered fact (and the redemption's outbox key) deliver nothing twice.
    event = OutboxEvent.objects.get(topic="marketing.gift_granted")
    with outbox_handled(tasks=True):
        handlers.gift_granted(
            outbox.Event(id=event.pk, topic=event.topic, payload=event.payload, key=event.key)
        )
    assert Delivery.objects.filter(order_number=order.number, line_id__lt=0).count() == 1
    assert gift.carrier_request_id  # the carrier applied it (key fulfilment:<id>:0)
    client.force_login(buyer)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert "买会员送流量" in page and "+ 赠送流量包（充到您的号码）" in page


def test_a_full_refund_before_delivery_voids_the_gift(goods, buyer):
    campaign(rule="gift_data_pack", gift_sku_id=goods["pack"].skus.get().pk)
    order = _buy(buyer, goods, tasks=False)  # no worker yet: the pack waits
    gift = _gift(order)
    assert gift.status == "pending"
    operator, finance = (
        User.objects.create_superuser("13800000000", "pw"),
        User.objects.create_superuser("13800000009", "pw"),
    )

    with outbox_handled(tasks=True):  # the pack's own task stays queued from the payment
        orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="不要了",
                                    requested_by=operator.pk, override_reason="客服同意退款")  # fmt: skip
    with outbox_handled(tasks=True):
        payments.refund_decide(refund_id=Refund.objects.get().pk, approve=True, actor_id=finance.pk)

    gift.refresh_from_db()
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert gift.status == "refunded"
    # The worker coming late finds it voided and sends nothing.
    assert services.job_deliver(job_id=gift.pk) == "refunded"


def test_an_unpaid_order_gets_no_gift(goods, buyer):
    campaign(rule="gift_data_pack", gift_sku_id=goods["pack"].skus.get().pk)
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=goods["vip"].skus.get().pk)
    with outbox_handled(tasks=True):
        orders.checkout_submit(user_id=buyer.pk, checkout_key="unpaid")
    assert not Delivery.objects.exists()
    assert not OutboxEvent.objects.filter(topic="marketing.gift_granted").exists()
