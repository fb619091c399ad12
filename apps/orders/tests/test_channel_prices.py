"""A channel's price list: its lines sell at the channel's price (shown in the breakdown, booked
to the channel's price expense when paid, reversed by a full refund), nothing else off them;
other lines keep the shop's price and the campaigns."""

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.tests.outbox_support import outbox_handled
from apps.ledger.selectors import account_balance, ledger_check
from apps.marketing.models import Channel, ChannelCode, ChannelProduct, Redemption
from apps.marketing.selectors import order_discounts
from apps.marketing.tests.support import campaign
from apps.orders import services
from apps.orders.models import Order
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    from apps.catalog.tests.factories import product

    products = small_catalog()
    vip = products["vip"]
    products["music"] = product(vip.category, vip.product_type, "音乐会员 月卡", price=1000)
    return products


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


@pytest.fixture
def channel(catalog):
    ch = Channel.objects.create(name="校园代理")
    ChannelCode.objects.create(channel=ch, code="campus01")
    ChannelProduct.objects.create(channel=ch, product_id=catalog["vip"].pk, price_fen=1_200)
    ChannelProduct.objects.create(channel=ch, product_id=catalog["music"].pk, price_fen=None)
    return ch


def _fill(user, product, quantity=1, **extra):
    services.cart_add(
        owner=CartOwner(user_id=user.pk), sku_id=product.skus.get().pk, quantity=quantity, **extra
    )


def test_a_channel_line_sells_at_the_channel_price_and_takes_no_campaign(
    catalog, buyer, channel
) -> None:
    campaign(name="全场立减", rule="fixed", amount_fen=100)  # 1 yuan off every unit
    _fill(buyer, catalog["vip"], quantity=2)  # 2 × 15.00 at the shop, 12.00 for the channel
    _fill(buyer, catalog["music"])  # 10.00, listed without a price: the shop's

    order = services.checkout_submit(user_id=buyer.pk, checkout_key="c", channel_code="campus01")

    saved = Order.objects.get(number=order.number)
    lines = {line.product_id: line.discount_fen for line in saved.lines.all()}
    assert lines == {catalog["vip"].pk: 600, catalog["music"].pk: 100}
    assert (saved.goods_fen, saved.discount_fen, saved.payable_fen) == (4_000, 700, 3_300)
    shown = {(d.rule, d.discount_fen) for d in order_discounts(order_number=order.number)}
    assert shown == {("channel_price", 600), ("fixed", 100)}
    assert any("校园代理" in d.campaign_name for d in order_discounts(order_number=order.number))


def test_a_channel_price_at_or_above_the_shop_price_is_ignored(catalog, buyer, channel) -> None:
    ChannelProduct.objects.filter(channel=channel).update(price_fen=99_999)
    _fill(buyer, catalog["vip"])

    order = services.checkout_submit(user_id=buyer.pk, checkout_key="c", channel_code="campus01")

    assert Order.objects.get(number=order.number).discount_fen == 0
    assert not Redemption.objects.exists()


def test_without_the_channel_the_shop_price_holds(catalog, buyer, channel) -> None:
    _fill(buyer, catalog["vip"])
    order = services.checkout_submit(user_id=buyer.pk, checkout_key="c")
    assert Order.objects.get(number=order.number).discount_fen == 0


def test_the_channel_price_is_booked_when_paid_and_reversed_by_a_full_refund(
    catalog, buyer, channel
) -> None:
    _fill(buyer, catalog["vip"])
    payments.points_grant(user_id=buyer.pk, points=1_200, key="g", reason="test")
    expense = f"marketing:channel:{channel.pk}:price"
    with outbox_handled(tasks=True):
        order = services.checkout_submit(
            user_id=buyer.pk, checkout_key="c", points=1_200, channel_code="campus01"
        )
    assert Order.objects.get(number=order.number).payable_fen == 0
    assert account_balance(code=expense) == 300
    assert Redemption.objects.get().status == "used"

    operator = User.objects.create_superuser("13800000000", "pw")
    finance = User.objects.create_superuser("13800000009", "pw")
    with outbox_handled(tasks=True):
        services.order_refund_request(number=order.number, user_id=buyer.pk, reason="not wanted",
                                      requested_by=operator.pk, override_reason="客服同意退款")  # fmt: skip
    with outbox_handled(tasks=True):
        payments.refund_decide(refund_id=Refund.objects.get().pk, approve=True, actor_id=finance.pk)

    assert Order.objects.get(number=order.number).status == "refunded"
    assert Refund.objects.get().amount_fen == 1_200  # what was paid, at the channel's price
    assert account_balance(code=expense) == 0
    assert Redemption.objects.get().status == "returned"
    assert ledger_check() == []


def test_the_api_refuses_a_product_the_channel_may_not_sell_and_writes_nothing(
    api_client, catalog, buyer, channel
) -> None:
    _fill(buyer, catalog["vip"])  # on the price list: allowed
    api_client.force_authenticate(buyer)
    other = catalog["music"]
    ChannelProduct.objects.filter(channel=channel, product_id=other.pk).delete()
    _fill(buyer, other)

    refused = api_client.post(
        "/api/v1/checkout/", {"checkout_key": "a1", "channel": "campus01"}, format="json"
    )

    assert (refused.status_code, refused.json()["code"]) == (409, "CHANNEL_PRODUCT_NOT_ALLOWED")
    assert refused.json()["details"]["products"] == [other.pk]
    assert not Order.objects.exists() and not Redemption.objects.exists()


def test_a_channel_with_chosen_campaigns_gets_only_those(catalog, buyer, channel) -> None:
    ChannelProduct.objects.filter(channel=channel).update(price_fen=None)
    chosen = campaign(name="渠道专享", rule="fixed", amount_fen=200)
    campaign(name="全场立减", rule="fixed", amount_fen=300)  # better, but not the channel's
    channel.campaigns.add(chosen)
    _fill(buyer, catalog["vip"])

    with_channel = services.checkout_submit(
        user_id=buyer.pk, checkout_key="c1", channel_code="campus01"
    )
    _fill(buyer, catalog["vip"])
    without = services.checkout_submit(user_id=buyer.pk, checkout_key="c2")

    assert [(d.campaign_name, d.discount_fen) for d in order_discounts(
        order_number=with_channel.number)] == [("渠道专享", 200)]  # fmt: skip
    assert Order.objects.get(number=without.number).discount_fen == 300


def test_the_cart_quote_prices_the_channel_as_the_checkout_does(catalog, buyer, channel) -> None:
    # Given a channel price for the VIP and a campaign the music line still takes
    campaign(name="全场立减", rule="fixed", amount_fen=100)
    _fill(buyer, catalog["vip"], quantity=2)
    _fill(buyer, catalog["music"])
    from apps.orders import selectors

    # When the cart is quoted for the channel's code, and then checked out with it
    quote = selectors.cart_view(owner=CartOwner(user_id=buyer.pk), channel_code="campus01")
    plain = selectors.cart_view(owner=CartOwner(user_id=buyer.pk))
    order = services.checkout_submit(user_id=buyer.pk, checkout_key="c", channel_code="campus01")

    # Then the quote is the order's price, breakdown and all; without the code, the shop's
    assert (quote.total_fen, quote.discount_fen, quote.payable_fen) == (4_000, 700, 3_300)
    assert order.payable_fen == quote.payable_fen and order.discount_fen == quote.discount_fen
    assert {(d.rule, d.discount_fen) for d in quote.discounts} == {
        ("channel_price", 600),
        ("fixed", 100),
    }
    assert (plain.discount_fen, plain.payable_fen) == (300, 3_700)


def test_the_cart_page_quotes_the_channel_of_the_link_cookie(client, catalog, buyer, channel):
    _fill(buyer, catalog["vip"])
    client.force_login(buyer)

    client.get("/?ch=campus01")  # the link sets the cookie
    page = client.get("/cart/")
    client.cookies["ch"] = "nosuchcode"  # an unknown code is ignored: the shop's price
    unknown = client.get("/cart/")

    assert page.context["cart"].payable_fen == 1_200
    assert [d.rule for d in page.context["cart"].discounts] == ["channel_price"]
    assert unknown.context["cart"].payable_fen == 1_500 and not unknown.context["cart"].discounts


def test_a_link_order_texts_its_buyer_the_payment_link_and_a_shop_order_does_not(
    catalog, buyer, channel
) -> None:
    from apps.carrier.models import SmsMessage

    _fill(buyer, catalog["vip"])
    order = services.checkout_submit(user_id=buyer.pk, checkout_key="c", channel_code="campus01")
    services.checkout_submit(user_id=buyer.pk, checkout_key="c", channel_code="campus01")  # again
    _fill(buyer, catalog["music"])
    services.checkout_submit(user_id=buyer.pk, checkout_key="d")  # no channel

    [sms] = SmsMessage.objects.all()
    assert sms.msisdn == buyer.phone and f"/orders/{order.number}/" in sms.preview
    assert "¥12.00" in sms.preview


@pytest.mark.django_db
def test_a_channel_cookie_with_a_nul_is_ignored(client, catalog, buyer):
    _fill(buyer, catalog["vip"])
    client.force_login(buyer)
    # A quoted cookie may carry octal escapes; Django unquotes "\000" to a NUL character.
    page = client.get(
        "/cart/", HTTP_COOKIE=client.cookies.output(header="", sep=";") + '; ch="\\000"'
    )
    assert page.status_code == 200 and page.context["cart"].payable_fen == 1_500
