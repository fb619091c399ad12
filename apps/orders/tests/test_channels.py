"""Channels: a link's code goes into a cookie and onto the order; the API refuses an unknown
code; the commission accrues when the order completes and is reversed by its refund, the
ledger balanced throughout."""

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.tests.outbox_support import outbox_handled
from apps.ledger.selectors import account_balance, ledger_check
from apps.marketing.channels import channel_counterparties, channel_payable
from apps.marketing.models import Channel, ChannelCode, ChannelOrder, CommissionRule
from apps.orders import services
from apps.orders.models import Order
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    ch = Channel.objects.create(name="校园代理")
    ChannelCode.objects.create(channel=ch, code="campus01", label="海报二维码")
    CommissionRule.objects.create(channel=ch, product_kind="digital", mode="percent", percent="10")
    return ch


def test_a_link_code_goes_through_the_cookie_onto_the_order(client, channel):
    vip = small_catalog()["vip"]
    buyer = User.objects.create_user("13800138000")
    client.force_login(buyer)
    assert "ch" not in client.get("/?ch=nosuchcode").cookies  # unknown: ignored, no error
    page = client.get("/?ch=campus01")
    assert page.status_code == 200 and page.cookies["ch"].value == "campus01"
    services.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=vip.skus.get().pk, quantity=1)
    response = client.post("/checkout/", {"checkout_key": "web-1", "points": 0})
    assert response.status_code == 302
    order = Order.objects.get(checkout_key="web-1")
    attributed = ChannelOrder.objects.get(order_number=order.number)
    assert (attributed.channel_id, attributed.code, attributed.status) == (
        channel.pk,
        "campus01",
        "attributed",
    )


def test_the_api_refuses_an_unknown_channel_and_writes_nothing(api_client, channel):
    vip = small_catalog()["vip"]
    buyer = User.objects.create_user("13800138000")
    services.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=vip.skus.get().pk, quantity=1)
    api_client.force_authenticate(buyer)
    refused = api_client.post(
        "/api/v1/checkout/", {"checkout_key": "a1", "channel": "nope"}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (404, "CHANNEL_NOT_FOUND")
    assert not Order.objects.exists() and not ChannelOrder.objects.exists()
    placed = api_client.post(
        "/api/v1/checkout/", {"checkout_key": "a2", "channel": "campus01"}, format="json"
    )
    assert placed.status_code == 201
    assert ChannelOrder.objects.get().order_number == placed.json()["number"]


def test_commission_accrues_on_completion_and_a_refund_reverses_it(channel):
    vip = small_catalog()["vip"]
    buyer = User.objects.create_user("13800138000")
    services.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=vip.skus.get().pk, quantity=1)
    payments.points_grant(user_id=buyer.pk, points=1_500, key="g", reason="test")
    with outbox_handled(tasks=True):
        order = services.checkout_submit(
            user_id=buyer.pk, checkout_key="c", points=1_500, channel_code="campus01"
        )
    assert Order.objects.get(number=order.number).status == "completed"
    row = ChannelOrder.objects.get()
    assert (row.status, row.paid_fen, row.commission_fen) == ("accrued", 1_500, 150)
    assert channel_payable(channel_id=channel.pk) == 150
    assert account_balance(code="marketing:commission") == 150
    assert [(c.kind, c.ledger_account) for c in channel_counterparties()] == [
        ("channel", f"channel:{channel.pk}:payable")
    ]
    operator, finance = (
        User.objects.create_superuser("13800000000", "pw"),
        User.objects.create_superuser("13800000009", "pw"),
    )
    with outbox_handled(tasks=True):
        services.order_refund_request(number=order.number, user_id=buyer.pk, reason="not wanted",
                                      requested_by=operator.pk, override_reason="客服同意退款")  # fmt: skip
    with outbox_handled(tasks=True):
        payments.refund_decide(refund_id=Refund.objects.get().pk, approve=True, actor_id=finance.pk)
    assert Order.objects.get(number=order.number).status == "refunded"
    row.refresh_from_db()
    assert (row.reversed_fen, channel_payable(channel_id=channel.pk)) == (150, 0)
    assert account_balance(code="marketing:commission") == 0
    assert ledger_check() == []
