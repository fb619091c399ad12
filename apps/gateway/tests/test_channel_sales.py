"""Channel sales: a channel's gateway credential places an order for a customer's number, the
customer pays it on the returned link, the channel's commission accrues and a refund reverses
it, balanced in the ledger; the scope is required; a repeat is the same order."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest
from django.conf import settings

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.tests.outbox_support import outbox_handled
from apps.gateway.tests.support import SignedClient, bearer_token, gateway_app_create
from apps.ledger.selectors import account_balance, ledger_check
from apps.marketing.channels import channel_payable
from apps.marketing.models import Channel, ChannelCode, ChannelOrder, ChannelProduct, CommissionRule
from apps.orders import services as orders
from apps.orders.models import Order
from apps.payments import services as payments
from apps.payments.models import Refund
from apps.payments.services.notifications import intent_sync
from apps.payments.tests.test_provider_alipay import submit

pytestmark = pytest.mark.django_db

CUSTOMER = "+8613900139000"
PATH = "/channel-sales/v1/orders"


@pytest.fixture
def goods():
    return small_catalog()


@pytest.fixture
def seller():
    """A portal company that is an active channel (10% on digital and data goods), and its
    app subscribed to channel sales."""
    app = gateway_app_create(capabilities=["channel-sales"])
    channel = Channel.objects.create(name="校园代理", partner_id=app.partner_id)
    ChannelCode.objects.create(channel=channel, code="campus01")
    CommissionRule.objects.create(channel=channel, product_kind="*", mode="percent", percent="10")
    return app, channel


def _place(client: SignedClient, sku_id: int, *, request_id: str = "r-1", to: str = CUSTOMER):
    return client.post(PATH, {"requestId": request_id, "phoneNumber": to, "skuId": sku_id})


def test_a_channel_places_a_data_pack_for_its_customer_attributed_to_it(
    goods, seller, carrier_sandbox
):
    app, channel = seller
    pack = goods["pack"].skus.get()
    ChannelProduct.objects.create(channel=channel, product_id=goods["pack"].pk, price_fen=2_800)
    client = SignedClient(app)

    placed = _place(client, pack.pk)

    assert placed.status_code == 201, placed.content
    body = placed.json()
    order = Order.objects.get(number=body["orderId"])
    customer = User.objects.get(phone=CUSTOMER)
    assert (order.user_id, order.status, order.checkout_key) == (
        customer.pk, "pending_payment", f"channel:{channel.pk}:r-1",
    )  # fmt: skip
    line = order.lines.get()
    assert (line.sku_id, line.recipient_msisdn) == (pack.pk, CUSTOMER)
    # The channel's price list: 30.00 in the shop, 28.00 through this channel.
    assert (body["goodsFen"], body["discountFen"], body["payableFen"]) == (3_000, 200, 2_800)
    assert body["status"] == "pending_payment" and body["phoneNumber"] == CUSTOMER
    assert body["paymentUrl"] == (
        f"{settings.CARRIER_CALLBACK_BASE_URL.rstrip('/')}/orders/{order.number}/"
    )
    attributed = ChannelOrder.objects.get()
    assert (attributed.order_number, attributed.channel_id, attributed.code, attributed.user_id) == (
        order.number, channel.pk, "campus01", customer.pk,
    )  # fmt: skip
    read = client.get(f"{PATH}/{order.number}")
    assert read.status_code == 200 and read.json() == body


def test_a_repeat_is_the_same_order_and_a_reused_request_id_is_refused(goods, seller):
    app, _channel = seller
    vip = goods["vip"].skus.get().pk
    client = SignedClient(app)

    first = _place(client, vip)
    again = _place(client, vip)
    # Under another Idempotency-Key the pipeline's record does not answer: the order's
    # checkout key does.
    replayed = client.post(
        PATH, {"requestId": "r-1", "phoneNumber": CUSTOMER, "skuId": vip},
        headers={"Idempotency-Key": "other-key"},
    )  # fmt: skip
    other_number = client.post(
        PATH, {"requestId": "r-1", "phoneNumber": "+8613900139001", "skuId": vip},
        headers={"Idempotency-Key": "third-key"},
    )  # fmt: skip
    changed_body = _place(client, vip, to="+8613900139001")

    assert first.status_code == again.status_code == replayed.status_code == 201
    assert again.json() == first.json()
    assert replayed.json()["orderId"] == first.json()["orderId"]
    assert (other_number.status_code, other_number.json()["code"]) == (409, "CONFLICT")
    assert changed_body.status_code == 409
    assert Order.objects.count() == 1 and ChannelOrder.objects.count() == 1


def test_the_scope_the_subscription_and_being_a_channel_are_required(goods, seller):
    app, channel = seller
    vip = goods["vip"].skus.get().pk
    read_only = bearer_token(
        client_id=app.client_id, secret=app.secret, scope="channel:orders:read"
    )
    refused = SignedClient(app).client.post(
        PATH, {"requestId": "r-1", "phoneNumber": CUSTOMER, "skuId": vip},
        content_type="application/json", headers={"Authorization": f"Bearer {read_only}"},
    )  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (403, "PERMISSION_DENIED")
    assert "channel:orders:create" in refused.json()["message"]

    full = bearer_token(client_id=app.client_id, secret=app.secret, scope="channel:orders:create")
    allowed = SignedClient(app).client.post(
        PATH, {"requestId": "r-2", "phoneNumber": CUSTOMER, "skuId": vip},
        content_type="application/json", headers={"Authorization": f"Bearer {full}"},
    )  # fmt: skip
    assert allowed.status_code == 201, allowed.content

    not_subscribed = gateway_app_create(capabilities=["sms"])
    Channel.objects.create(name="另一个", partner_id=not_subscribed.partner_id)
    answer = _place(SignedClient(not_subscribed), vip, request_id="r-3")
    assert (answer.status_code, answer.json()["code"]) == (403, "PERMISSION_DENIED")

    channel.status = Channel.Status.SUSPENDED
    channel.save(update_fields=["status"])
    suspended = _place(SignedClient(app), vip, request_id="r-4")
    assert (suspended.status_code, suspended.json()["code"]) == (403, "PERMISSION_DENIED")
    assert Order.objects.count() == 1


def test_a_product_the_price_list_does_not_allow_is_409_and_writes_nothing(goods, seller):
    app, channel = seller
    ChannelProduct.objects.create(channel=channel, product_id=goods["pack"].pk)
    client = SignedClient(app)

    refused = _place(client, goods["vip"].skus.get().pk)
    foreign = client.get(f"{PATH}/CH0000000000000000")

    assert (refused.status_code, refused.json()["code"]) == (409, "CHANNEL_PRODUCT_NOT_ALLOWED")
    assert set(refused.json()) >= {"status", "code", "message"}
    assert not Order.objects.exists() and not ChannelOrder.objects.exists()
    assert (foreign.status_code, foreign.json()["code"]) == (404, "NOT_FOUND")


def test_another_channels_order_is_not_found(goods, seller):
    app, _channel = seller
    placed = _place(SignedClient(app), goods["vip"].skus.get().pk).json()
    rival = gateway_app_create(capabilities=["channel-sales"])
    rival_channel = Channel.objects.create(name="竞争者", partner_id=rival.partner_id)
    ChannelCode.objects.create(channel=rival_channel, code="rival01")
    answer = SignedClient(rival).get(f"{PATH}/{placed['orderId']}")
    assert (answer.status_code, answer.json()["code"]) == (404, "NOT_FOUND")


def _pay_at_the_alipay_cashier(api_client, number: str) -> None:
    """The customer starts an Alipay payment, pays at the sandbox's cashier as a browser would,
    and the platform learns it by querying Alipay (the notification cannot reach a test)."""
    intent = api_client.post(
        f"/api/v1/orders/{number}/pay/",
        {"method": "alipay", "channel": "page", "attempt_key": "a"}, format="json",
    )  # fmt: skip
    assert intent.status_code == 201, intent.content
    action = intent.json()["action"]
    with httpx.Client(timeout=10.0) as browser:
        landing = browser.get(action["url"])
        cashier = browser.get(urljoin(action["url"], landing.headers["location"]))
        assert cashier.status_code == 200, (landing.status_code, cashier.text[:300])
        paid = submit(browser, cashier, "pay-form")
    # Without a return URL the cashier shows its own result page instead of redirecting.
    assert paid.status_code in (200, 302), paid.text[:300]
    with outbox_handled(tasks=True):
        assert intent_sync(public_id=intent.json()["public_id"]) == "succeeded"


def test_the_customer_pays_on_the_link_and_the_commission_accrues_then_a_refund_reverses_it(
    goods, seller, api_client, carrier_sandbox
):
    """The order is the customer's to pay (any of the mall's methods; Alipay here). Its
    commission accrues on completion and a refund reverses it, as for a link's order."""
    app, channel = seller
    placed = _place(SignedClient(app), goods["vip"].skus.get().pk).json()
    customer = User.objects.get(phone=CUSTOMER)
    api_client.force_authenticate(customer)

    _pay_at_the_alipay_cashier(api_client, placed["orderId"])

    order = Order.objects.get(number=placed["orderId"])
    assert order.status == "completed"
    row = ChannelOrder.objects.get()
    assert (row.status, row.paid_fen, row.commission_fen) == ("accrued", 1_500, 150)
    assert channel_payable(channel_id=channel.pk) == 150
    assert account_balance(code="marketing:commission") == 150
    assert ledger_check() == []

    operator, finance = (
        User.objects.create_superuser("13800000000", "pw"),
        User.objects.create_superuser("13800000009", "pw"),
    )
    with outbox_handled(tasks=True):
        orders.order_refund_request(number=order.number, user_id=customer.pk, reason="不要了",
                                    requested_by=operator.pk, override_reason="客服同意退款")  # fmt: skip
    with outbox_handled(tasks=True):
        payments.refund_decide(refund_id=Refund.objects.get().pk, approve=True, actor_id=finance.pk)
    assert Refund.objects.get().status == "succeeded"
    row.refresh_from_db()
    assert (row.reversed_fen, channel_payable(channel_id=channel.pk)) == (150, 0)
    assert account_balance(code="marketing:commission") == 0
    assert ledger_check() == []


def test_the_customer_is_texted_the_payment_link_once_however_often_the_request_is_replayed(
    goods, seller, carrier_sandbox
):
    from apps.carrier.models import SmsMessage

    app, channel = seller
    ChannelProduct.objects.create(channel=channel, product_id=goods["pack"].pk, price_fen=2_800)
    pack = goods["pack"].skus.get().pk
    client = SignedClient(app)

    # When the channel places the order, then replays it (same key, then another key)
    with outbox_handled(tasks=True):  # the SMS task runs, through the carrier sandbox's SMSC
        placed = _place(client, pack).json()
    with outbox_handled(tasks=True):
        _place(client, pack)
        client.post(
            PATH, {"requestId": "r-1", "phoneNumber": CUSTOMER, "skuId": pack},
            headers={"Idempotency-Key": "replay-key"},
        )  # fmt: skip

    # Then the customer got one text, with the order's payment link and what is to pay
    [sms] = SmsMessage.objects.all()
    assert (sms.msisdn, sms.purpose) == (CUSTOMER, "notice")
    assert placed["paymentUrl"] in sms.preview and "¥28.00" in sms.preview
    assert placed["orderId"] in sms.preview and "校园代理" in sms.preview
    assert sms.status != "queued"  # handed to the carrier's SMSC
