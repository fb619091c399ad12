"""Campaigns and coupons at checkout: the order's breakdown, budgets held and booked, what a
cancel and a full refund give back, and the coupon refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.tests.outbox_support import outbox_handled
from apps.ledger.models import Journal
from apps.ledger.selectors import account_balance, ledger_check
from apps.marketing import services as marketing
from apps.marketing.errors import (
    CouponExpired,
    CouponGuessing,
    CouponLimitReached,
    CouponNotApplicable,
    CouponNotFound,
    CouponNotYours,
    CouponUsed,
)
from apps.marketing.models import Campaign, Coupon, Redemption
from apps.marketing.tests.support import campaign
from apps.orders import services
from apps.orders.models import Order
from apps.orders.services import CartOwner
from apps.orders.tests.support import ADDRESS
from apps.payments import services as payments
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    return small_catalog()


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def _fill(user, product, quantity=1):
    services.cart_add(
        owner=CartOwner(user_id=user.pk), sku_id=product.skus.get().pk, quantity=quantity
    )


def _batch(camp, *, count=3, per_user=1, until=None):
    now = timezone.now()
    return marketing.coupon_batch_create(
        campaign_id=camp.pk, name="券", count=count, per_user_limit=per_user,
        valid_from=now - timedelta(hours=1), valid_until=until or now + timedelta(days=1),
    )  # fmt: skip


def _refund_in_full(order, buyer) -> None:
    """The buyer asks for the whole order back and an operator approves (outbox handled)."""
    operator = User.objects.create_superuser("13800000009", "pw")
    with outbox_handled(tasks=True):
        services.order_refund_request(number=order.number, user_id=buyer.pk, reason="changed mind")
    with outbox_handled(tasks=True):
        payments.refund_decide(
            refund_id=Refund.objects.get().pk, approve=True, actor_id=operator.pk
        )


def test_campaigns_and_a_coupon_make_the_order_breakdown_and_are_booked_when_paid(catalog, buyer):
    phones = campaign(name="手机立减", rule="fixed", category_paths=["physical"], amount_fen=10_000)
    reduction = campaign(
        name="满5000减200", rule="full_reduction", threshold_fen=500_000, amount_fen=20_000
    )
    coupon_campaign = campaign(name="券", rule="fixed", amount_fen=1_000, coupon_only=True)
    code = marketing.coupon_claim(user_id=buyer.pk, batch_id=_batch(coupon_campaign))
    _fill(buyer, catalog["iphone"])  # 599900
    _fill(buyer, catalog["vip"])  # 1500
    payments.points_grant(user_id=buyer.pk, points=570_400, key="g", reason="test")
    with outbox_handled():  # paid with points: the order_paid fact books each discount
        order = services.checkout_submit(user_id=buyer.pk, checkout_key="k", shipping=ADDRESS,
                                         coupon_code=code, points=570_400)  # fmt: skip
    # 10000 on the phone; 601400-10000 = 591400 ≥ 500000 → 20000; coupon 1000.
    assert (order.goods_fen, order.discount_fen, order.points_fen) == (601_400, 31_000, 570_400)
    assert sum(line.discount_fen for line in order.lines) == 31_000
    assert {r.campaign_id: r.discount_fen for r in Redemption.objects.all()} == {
        phones.pk: 10_000, reduction.pk: 20_000, coupon_campaign.pk: 1_000}  # fmt: skip
    assert Campaign.objects.get(pk=phones.pk).spent_fen == 10_000
    assert Order.objects.get(number=order.number).status == "paid"
    assert account_balance(code=f"marketing:campaign:{phones.pk}") == 10_000
    assert account_balance(code=f"marketing:campaign:{reduction.pk}") == 20_000
    assert Coupon.objects.get(code=code).status == "used"
    assert set(Redemption.objects.values_list("status", flat=True)) == {"used"}
    assert ledger_check() == []


def test_a_campaign_stops_itself_when_its_budget_is_spent(catalog):
    camp = campaign(rule="fixed", amount_fen=800, budget_fen=1_000)
    totals = []
    for n in range(3):
        user = User.objects.create_user(f"1380013810{n}")
        _fill(user, catalog["vip"])
        totals.append(services.checkout_submit(user_id=user.pk, checkout_key=f"b{n}").discount_fen)
        if n == 1:
            camp.refresh_from_db()
            assert (camp.status, camp.spent_fen, camp.spent_units) == ("exhausted", 1_000, 2)
    assert totals == [800, 200, 0]
    # A cancelled order gives its share back and the campaign runs again.
    first = Order.objects.order_by("id").first()
    services.order_cancel(number=first.number, user_id=first.user_id)
    camp.refresh_from_db()
    assert (camp.status, camp.spent_fen, camp.spent_units) == ("active", 200, 1)
    assert Redemption.objects.get(order_number=first.number).status == "released"


def test_units_budget_counts_orders(catalog):
    camp = campaign(rule="fixed", amount_fen=100, budget_units=1)
    for n in range(2):
        user = User.objects.create_user(f"1380013811{n}")
        _fill(user, catalog["vip"])
        services.checkout_submit(user_id=user.pk, checkout_key=f"u{n}")
    assert Redemption.objects.filter(campaign=camp).count() == 1
    assert Campaign.objects.get(pk=camp.pk).status == "exhausted"


def test_a_full_refund_gives_the_coupon_and_the_budget_back_and_reverses_the_expense(
    catalog, buyer
):
    camp = campaign(rule="fixed", amount_fen=5_000, coupon_only=True, budget_fen=100_000)
    code = marketing.coupon_claim(user_id=buyer.pk, batch_id=_batch(camp))
    _fill(buyer, catalog["iphone"])
    payments.points_grant(user_id=buyer.pk, points=594_900, key="g", reason="test")
    with outbox_handled():
        order = services.checkout_submit(user_id=buyer.pk, checkout_key="r", shipping=ADDRESS,
                                         coupon_code=code, points=594_900)  # fmt: skip
    assert (order.discount_fen, Order.objects.get(number=order.number).status) == (5_000, "paid")
    assert account_balance(code=f"marketing:campaign:{camp.pk}") == 5_000
    _refund_in_full(order, buyer)
    paid = Order.objects.get(number=order.number)
    assert (paid.status, paid.refunded_fen, Refund.objects.get().amount_fen) == (
        "refunded",
        594_900,
        594_900,
    )
    assert account_balance(code=f"marketing:campaign:{camp.pk}") == 0
    assert Coupon.objects.get(code=code).status == "claimed"
    assert Campaign.objects.get(pk=camp.pk).spent_fen == 0
    assert Redemption.objects.get().status == "returned"
    assert ledger_check() == []


def test_points_gift_is_granted_on_payment(catalog, buyer):
    campaign(rule="gift_points", gift_points=300)
    _fill(buyer, catalog["vip"])
    payments.points_grant(user_id=buyer.pk, points=1_500, key="g", reason="test")
    with outbox_handled():
        services.checkout_submit(user_id=buyer.pk, checkout_key="gift", points=1_500)
    assert payments.points_balance(user_id=buyer.pk) == 300


def test_a_first_order_offer_ends_with_the_first_paid_order(catalog, buyer):
    campaign(rule="fixed", amount_fen=500, first_order_only=True)
    _fill(buyer, catalog["vip"])
    payments.points_grant(user_id=buyer.pk, points=5_000, key="g", reason="test")
    with outbox_handled():
        first = services.checkout_submit(user_id=buyer.pk, checkout_key="f1", points=1_000)
    _fill(buyer, catalog["vip"])
    second = services.checkout_submit(user_id=buyer.pk, checkout_key="f2")
    assert (first.discount_fen, second.discount_fen) == (500, 0)


def test_targets_numbers_province_and_segment(catalog, buyer):
    other = User.objects.create_user("13900139000")
    campaign(
        name="名单",
        target="numbers",
        target_numbers=["+8613800138000", "13800138000"],
        amount_fen=100,
    )
    _fill(buyer, catalog["vip"])
    _fill(other, catalog["vip"])
    assert services.checkout_submit(user_id=other.pk, checkout_key="o").discount_fen == 0
    assert services.checkout_submit(user_id=buyer.pk, checkout_key="b").discount_fen == 100


def test_coupon_refusals_write_nothing(catalog, buyer):
    camp = campaign(rule="fixed", amount_fen=100, coupon_only=True)
    stranger = User.objects.create_user("13900139000")
    theirs = marketing.coupon_claim(user_id=stranger.pk, batch_id=_batch(camp))
    expired_batch = _batch(camp, until=timezone.now() - timedelta(minutes=1) + timedelta(seconds=1))
    _fill(buyer, catalog["vip"])
    with pytest.raises(CouponNotYours):
        services.checkout_submit(user_id=buyer.pk, checkout_key="x", coupon_code=theirs)
    with pytest.raises(CouponNotFound):
        services.checkout_submit(user_id=buyer.pk, checkout_key="x", coupon_code="NOPE-NOPE-NOPE")
    stale = Coupon.objects.filter(batch_id=expired_batch).first().code
    with pytest.raises(CouponExpired):
        services.checkout_submit(user_id=buyer.pk, checkout_key="x", coupon_code=stale)
    big = campaign(rule="full_reduction", threshold_fen=100_000, amount_fen=100, coupon_only=True)
    mine = marketing.coupon_claim(user_id=buyer.pk, batch_id=_batch(big))
    with pytest.raises(CouponNotApplicable):
        services.checkout_submit(user_id=buyer.pk, checkout_key="x", coupon_code=mine)
    assert not Order.objects.exists() and not Redemption.objects.exists()
    assert Campaign.objects.get(pk=big.pk).spent_fen == 0


def test_a_used_coupon_cannot_be_used_again_and_the_claim_limit_holds(catalog, buyer):
    camp = campaign(rule="fixed", amount_fen=100, coupon_only=True)
    batch = _batch(camp, count=5, per_user=2)
    code = marketing.coupon_claim(user_id=buyer.pk, batch_id=batch)
    marketing.coupon_claim(user_id=buyer.pk, batch_id=batch)
    with pytest.raises(CouponLimitReached):
        marketing.coupon_claim(user_id=buyer.pk, batch_id=batch)
    _fill(buyer, catalog["vip"])
    services.checkout_submit(user_id=buyer.pk, checkout_key="c1", coupon_code=code)
    _fill(buyer, catalog["vip"])
    with pytest.raises(CouponUsed):
        services.checkout_submit(user_id=buyer.pk, checkout_key="c2", coupon_code=code)


def test_codes_are_unique_random_and_guessing_is_rate_limited(catalog, buyer):
    camp = campaign(rule="fixed", amount_fen=100, coupon_only=True)
    batch = _batch(camp, count=200)
    codes = list(Coupon.objects.filter(batch_id=batch).values_list("code", flat=True))
    assert len(set(codes)) == 200
    assert all(
        len(c) == marketing.CODE_LENGTH and set(c) <= set(marketing.CODE_ALPHABET) for c in codes
    )
    for n in range(marketing.GUESSES_PER_HOUR):
        with pytest.raises(CouponNotFound):
            marketing.coupon_redeem(user_id=buyer.pk, code=f"GUESS{n:07d}")
    # Past the limit even a right code is refused, so guessing learns nothing.
    with pytest.raises(CouponGuessing):
        marketing.coupon_redeem(user_id=buyer.pk, code=codes[0])
    assert not Coupon.objects.filter(user_id=buyer.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_racing_checkouts_never_spend_more_than_the_budget():
    import threading

    from django.db import connection

    catalog = small_catalog()
    camp = campaign(rule="fixed", amount_fen=1_000, budget_fen=1_000)
    buyers = [User.objects.create_user(f"1380013820{n}") for n in range(6)]
    for user in buyers:
        _fill(user, catalog["vip"])
    start, results = threading.Barrier(len(buyers)), []

    def run(user):
        try:
            start.wait()
            results.append(
                services.checkout_submit(
                    user_id=user.pk, checkout_key=f"race{user.pk}"
                ).discount_fen
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, 0, 0, 0, 1_000]
    camp.refresh_from_db()
    assert (camp.spent_fen, camp.spent_units, camp.status) == (1_000, 1, "exhausted")


def test_the_breakdown_is_on_the_cart_checkout_and_order_pages_and_in_the_api(
    client, api_client, catalog, buyer
):
    campaign(name="视频立减3元", rule="fixed", product_ids=[catalog["vip"].pk], amount_fen=300)
    coupon_campaign = campaign(name="券", rule="fixed", amount_fen=100, coupon_only=True)
    code = marketing.coupon_claim(user_id=buyer.pk, batch_id=_batch(coupon_campaign))
    _fill(buyer, catalog["vip"])  # 1500
    client.force_login(buyer)
    cart_page = client.get("/cart/").content.decode()
    assert "视频立减3元" in cart_page and "-¥3.00" in cart_page and "¥12.00" in cart_page
    checkout_page = client.get(f"/checkout/?coupon={code}").content.decode()
    assert f"优惠券 {code}" in checkout_page or f"Coupon {code}" in checkout_page
    assert "¥11.00" in checkout_page
    api_client.force_authenticate(buyer)
    cart = api_client.get("/api/v1/cart/").json()
    assert (cart["total_fen"], cart["discount_fen"], cart["payable_fen"]) == (1_500, 300, 1_200)
    assert [d["campaign_name"] for d in cart["discounts"]] == ["视频立减3元"]
    response = client.post("/checkout/", {"checkout_key": "page-1", "points": 0, "coupon": code})
    assert response.status_code == 302
    order = Order.objects.get(checkout_key="page-1")
    assert (order.discount_fen, order.payable_fen) == (400, 1_100)
    detail = client.get(f"/orders/{order.number}/").content.decode()
    assert "视频立减3元" in detail and code in detail and "-¥1.00" in detail
    body = api_client.get(f"/api/v1/orders/{order.number}/").json()
    assert [(d["rule"], d["discount_fen"], d["coupon_code"]) for d in body["discounts"]] == [
        ("fixed", 300, ""), ("fixed", 100, code)]  # fmt: skip
    assert body["lines"][0]["discount_fen"] == 400


def test_an_orders_discounts_and_gifts_are_one_journal_each_and_one_reversal(catalog, buyer):
    """One journal per order and kind, not one per campaign: a transaction posting several
    journals could take a hot account's balance slot before the next journal's single-row
    accounts, and two such transactions deadlock (docs/architecture.md)."""
    phones = campaign(name="手机立减", rule="fixed", category_paths=["physical"], amount_fen=10_000)
    reduction = campaign(
        name="满5000减200", rule="full_reduction", threshold_fen=500_000, amount_fen=20_000
    )
    first_gift = campaign(rule="gift_points", gift_points=300)
    second_gift = campaign(rule="gift_points", gift_points=200)
    _fill(buyer, catalog["iphone"])  # 599900: 10000 off, then 589900 ≥ 500000 → 20000 off
    payments.points_grant(user_id=buyer.pk, points=569_900, key="g", reason="test")
    with outbox_handled():
        order = services.checkout_submit(user_id=buyer.pk, checkout_key="one", shipping=ADDRESS,
                                         points=569_900)  # fmt: skip
    assert order.discount_fen == 30_000
    gifted = sum(r.gift_points for r in Redemption.objects.filter(order_number=order.number))
    assert gifted == 500, {r.campaign_id: r.gift_points for r in Redemption.objects.all()}
    discounts = Journal.objects.get(kind="marketing.discount", reference=order.number)
    assert sorted((line.account.code, line.amount_fen) for line in discounts.lines.all()) == sorted([
        (f"marketing:campaign:{phones.pk}", 10_000),
        (f"marketing:campaign:{reduction.pk}", 20_000),
        ("platform:revenue", -30_000),
    ])  # fmt: skip
    assert set(
        Redemption.objects.filter(discount_fen__gt=0).values_list("journal_id", flat=True)
    ) == {discounts.pk}
    assert Journal.objects.filter(idempotency_key__startswith="marketing:gift:").count() == 1
    assert {first_gift.pk, second_gift.pk} <= set(
        Redemption.objects.filter(gift_points__gt=0).values_list("campaign_id", flat=True)
    )

    _refund_in_full(order, buyer)
    assert Journal.objects.filter(reversal_of=discounts).count() == 1
    assert account_balance(code=f"marketing:campaign:{phones.pk}") == 0
    assert account_balance(code=f"marketing:campaign:{reduction.pk}") == 0
    assert Journal.objects.filter(kind="points.taken_back").count() == 1
    # The payment's points back, the gifts taken back.
    assert payments.points_balance(user_id=buyer.pk) == 569_900
    assert set(Redemption.objects.values_list("status", flat=True)) == {"returned"}
    assert ledger_check() == []
