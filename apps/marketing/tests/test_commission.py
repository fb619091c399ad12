"""Commission rules per product kind: percentage, fixed per order, tiered — exact fen."""

from decimal import Decimal

from apps.marketing.channels import commission_of
from apps.marketing.models import CommissionRule

LINES = [
    {"line_id": 1, "kind": "digital", "paid_fen": 1_505},
    {"line_id": 2, "kind": "digital", "paid_fen": 1_000},
    {"line_id": 3, "kind": "physical", "paid_fen": 599_900},
]


def test_percentage_rounds_half_up_per_line():
    rules = [CommissionRule(pk=1, product_kind="digital", mode="percent", percent=Decimal("5.00"))]
    assert commission_of(rules, LINES) == {1: 75, 2: 50}  # 75.25 → 75, 50


def test_fixed_per_order_once_and_never_above_what_was_paid():
    rules = [CommissionRule(pk=1, product_kind="digital", mode="fixed", fixed_fen=300),
             CommissionRule(pk=2, product_kind="*", mode="fixed", fixed_fen=10**9)]  # fmt: skip
    assert commission_of(rules, LINES) == {1: 300, 3: 599_900}


def test_tiers_by_the_orders_amount_of_the_kind():
    rules = [
        CommissionRule(
            pk=1,
            product_kind="digital",
            mode="tiered",
            tiers=[[0, "1"], [2_000, "3"], [10_000, "5"]],
        )
    ]
    # 2505 fen of digital goods reach the 3 % tier: 45.15 → 45, 30.
    assert commission_of(rules, LINES) == {1: 45, 2: 30}
    assert commission_of(rules, LINES[1:2]) == {2: 10}
