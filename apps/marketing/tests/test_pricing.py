"""Pricing under campaigns and a coupon: each rule's exact fen, the stacking order, and, over
random carts, the invariants (never negative, never below the floor, breakdown adds up)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.marketing.pricing import FLOOR_FEN, Offer, PriceLine, price, spread

PACK = PriceLine(
    key=1, product_id=10, category_path="electronic/data", unit_price_fen=3000, quantity=2
)
VIP = PriceLine(
    key=2, product_id=20, category_path="digital/video", unit_price_fen=1500, quantity=1
)


def test_fixed_amount_per_unit_on_a_category():
    offer = Offer(1, "流量立减", "fixed", category_paths=("electronic",), amount_fen=500)
    p = price([PACK, VIP], [offer])
    assert (p.goods_fen, p.discount_fen, p.total_fen, p.line_discounts) == (
        7500,
        1000,
        6500,
        {1: 1000},
    )


def test_percent_with_a_cap_rounds_half_up_once():
    # 15% of 1500 = 225; of 6000 = 900; capped at 1000 over the campaign's lines.
    offer = Offer(1, "85折", "percent", percent_off=15, cap_fen=1000)
    p = price([PACK, VIP], [offer])
    assert p.discount_fen == 1000
    assert sum(p.line_discounts.values()) == 1000
    odd = PriceLine(key=3, product_id=30, category_path="x", unit_price_fen=333, quantity=1)
    assert price([odd], [Offer(2, "15%", "percent", percent_off=15)]).discount_fen == 50  # 49.95


def test_full_reduction_needs_its_threshold_after_item_discounts():
    item = Offer(1, "立减", "fixed", product_ids=(10,), amount_fen=500)
    reduction = Offer(2, "满70减10", "full_reduction", threshold_fen=7000, amount_fen=1000)
    assert price([PACK, VIP], [reduction]).discount_fen == 1000
    # 7500 - 1000 = 6500 < 7000: the reduction no longer applies.
    assert price([PACK, VIP], [item, reduction]).discount_fen == 1000
    assert [a.campaign_id for a in price([PACK, VIP], [item, reduction]).applied] == [1]


def test_only_the_largest_full_reduction_applies():
    small = Offer(1, "满50减5", "full_reduction", threshold_fen=5000, amount_fen=500)
    big = Offer(2, "满70减12", "full_reduction", threshold_fen=7000, amount_fen=1200)
    p = price([PACK, VIP], [small, big])
    assert (p.discount_fen, [a.campaign_id for a in p.applied]) == (1200, [2])


def test_one_item_discount_per_line_the_best_first():
    a = Offer(1, "全场9折", "percent", percent_off=10)  # 750 over both lines
    b = Offer(2, "流量包立减8元", "fixed", product_ids=(10,), amount_fen=800)  # 1600 on PACK
    p = price([PACK, VIP], [a, b])
    # b takes PACK (1600), then a only VIP (150).
    assert p.line_discounts == {1: 1600, 2: 150}
    assert p.discount_fen == 1750


def test_coupon_after_campaigns_and_an_exclusive_one_alone():
    reduction = Offer(1, "满70减10", "full_reduction", threshold_fen=7000, amount_fen=1000)
    coupon = Offer(2, "券5元", "fixed", amount_fen=500)
    p = price([PACK, VIP], [reduction], coupon, "ABC")
    assert (p.discount_fen, p.applied[-1].coupon_code) == (1500, "ABC")
    exclusive = Offer(3, "独享券", "fixed", amount_fen=500, exclusive=True)
    assert price([PACK, VIP], [reduction], exclusive, "X").discount_fen == 500


def test_a_coupon_whose_threshold_is_not_reached_is_reported_unused():
    coupon = Offer(2, "满100减20", "full_reduction", threshold_fen=10000, amount_fen=2000)
    p = price([PACK, VIP], [], coupon, "ABC")
    assert (p.discount_fen, p.coupon_unused) == (0, True)


def test_budget_and_floor_cut_the_discount():
    offer = Offer(1, "大额券", "fixed", amount_fen=10_000, budget_left_fen=700)
    assert price([PACK], [offer]).discount_fen == 700
    unlimited = Offer(2, "免单", "fixed", amount_fen=10_000)
    assert price([PACK], [unlimited]).total_fen == FLOOR_FEN


def test_points_gift_takes_nothing_off():
    gift = Offer(1, "送积分", "gift_points", gift_points=200, threshold_fen=5000)
    p = price([PACK, VIP], [gift])
    assert (p.discount_fen, p.gift_points) == (0, 200)
    assert price([VIP], [gift]).gift_points == 0


def test_a_data_pack_gift_takes_nothing_off_and_names_its_sku():
    gift = Offer(2, "买就送流量", "gift_data_pack", gift_sku_id=77, threshold_fen=5000)
    p = price([PACK, VIP], [gift])
    assert p.discount_fen == 0 and p.gift_points == 0
    assert [(a.campaign_id, a.rule, a.gift_sku_id) for a in p.applied] == [
        (2, "gift_data_pack", 77)
    ]
    assert price([VIP], [gift]).applied == []  # under the threshold
    assert price([PACK], [Offer(3, "x", "gift_data_pack")]).applied == []  # no pack chosen


def test_spread_is_exact_and_bounded():
    assert spread(100, {1: 1, 2: 1, 3: 1}) == {1: 34, 2: 33, 3: 33}
    assert spread(7, {1: 7}) == {1: 7}


lines_st = st.lists(
    st.builds(
        PriceLine,
        key=st.just(0),
        product_id=st.integers(1, 5),
        category_path=st.sampled_from(["a", "a/b", "c"]),
        unit_price_fen=st.integers(0, 50_000),
        quantity=st.integers(1, 5),
    ),
    min_size=1,
    max_size=6,
)
offer_st = st.builds(
    Offer,
    campaign_id=st.integers(1, 50),
    name=st.just("o"),
    rule=st.sampled_from(["fixed", "percent", "full_reduction", "gift_points", "gift_data_pack"]),
    product_ids=st.sampled_from([(), (1, 2), (3,)]),
    category_paths=st.sampled_from([(), ("a",), ("c",)]),
    amount_fen=st.integers(0, 60_000),
    percent_off=st.integers(0, 100),
    cap_fen=st.integers(0, 20_000),
    threshold_fen=st.integers(0, 100_000),
    gift_points=st.integers(0, 1000),
    gift_sku_id=st.one_of(st.none(), st.integers(1, 9)),
    exclusive=st.booleans(),
    budget_left_fen=st.one_of(st.none(), st.integers(0, 30_000)),
)


@settings(max_examples=400, deadline=None)
@given(lines=lines_st, offers=st.lists(offer_st, max_size=5, unique_by=lambda o: o.campaign_id),
       coupon=st.one_of(st.none(), offer_st))  # fmt: skip
def test_any_cart_any_rules_the_breakdown_holds(lines, offers, coupon):
    lines = [PriceLine(n, ln.product_id, ln.category_path, ln.unit_price_fen, ln.quantity)
             for n, ln in enumerate(lines, start=1)]  # fmt: skip
    if coupon is not None:
        offers = [o for o in offers if o.campaign_id != coupon.campaign_id]
    p = price(lines, offers, coupon, "C")
    goods = sum(ln.total_fen for ln in lines)
    assert p.goods_fen == goods
    assert p.total_fen >= min(FLOOR_FEN, goods) and p.total_fen >= 0
    assert p.total_fen + p.discount_fen == goods
    assert sum(a.discount_fen for a in p.applied) == p.discount_fen
    assert sum(p.line_discounts.values()) == p.discount_fen
    by_line = {ln.key: ln.total_fen for ln in lines}
    assert all(0 < d <= by_line[k] for k, d in p.line_discounts.items())
    for a in p.applied:
        assert sum(a.line_discounts.values()) == a.discount_fen
        assert all(isinstance(v, int) for v in a.line_discounts.values())
        offer = (
            coupon
            if (coupon and a.coupon_code)
            else next(o for o in offers if o.campaign_id == a.campaign_id)
        )
        if offer.budget_left_fen is not None:
            assert a.discount_fen + a.gift_points <= offer.budget_left_fen
