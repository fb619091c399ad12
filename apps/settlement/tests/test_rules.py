"""Every rule kind, deductions, minimum payout with carry-over, effective dates (pure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from apps.settlement import rules
from apps.settlement.rules import Line, Terms

D1, D10, D20, D31 = (dt.date(2026, 10, d) for d in (1, 10, 20, 31))


def sales(*amounts: int, on: dt.date = D10) -> list[Line]:
    return [Line(on, rules.SALE, amount) for amount in amounts]


def test_percentage_share_and_commission() -> None:
    terms = [Terms(D1, rules.PERCENTAGE, rate=Decimal("0.7"))]
    figures = rules.compute(lines=sales(1000, 333), rules=terms, carried_in_fen=0, last_day=D31)
    assert (figures.volume_fen, figures.units) == (1333, 2)
    assert figures.share_fen == 933  # 1333 * 0.7 = 933.1, rounded once per rule and category
    assert figures.commission_fen == 400
    assert figures.payout_fen == 933 and figures.carry_out_fen == 0


def test_tiered_rate_follows_the_month_volume() -> None:
    tiers = ((0, Decimal("0.5")), (10_000, Decimal("0.6")), (50_000, Decimal("0.7")))
    terms = [Terms(D1, rules.TIERED, tiers=tiers)]
    low = rules.compute(lines=sales(9_999), rules=terms, carried_in_fen=0, last_day=D31)
    mid = rules.compute(lines=sales(6_000, 4_000), rules=terms, carried_in_fen=0, last_day=D31)
    high = rules.compute(lines=sales(50_000), rules=terms, carried_in_fen=0, last_day=D31)
    assert low.share_fen == 5_000  # 4999.5 rounds half up
    assert mid.share_fen == 6_000  # the whole 10,000 at the second tier
    assert high.share_fen == 35_000


def test_fixed_fee_per_unit() -> None:
    terms = [Terms(D1, rules.PER_UNIT, unit_fee_fen=25)]
    figures = rules.compute(lines=sales(100, 900, 50), rules=terms, carried_in_fen=0, last_day=D31)
    assert figures.share_fen == 75
    assert figures.commission_fen == 1050 - 75


def test_refunds_chargebacks_and_complaints_are_deducted() -> None:
    terms = [Terms(D1, rules.PERCENTAGE, rate=Decimal("0.5"), complaint_fee_fen=200)]
    lines = [
        *sales(10_000),
        Line(D20, rules.REFUND, -2_000),
        Line(D20, rules.CHARGEBACK, -1_000),
        Line(D20, rules.COMPLAINT, -300),
        Line(D20, rules.SETTLEMENT, 4_000),  # last month's payout: not this month's figures
    ]
    figures = rules.compute(lines=lines, rules=terms, carried_in_fen=0, last_day=D31)
    assert (figures.refunds_fen, figures.chargebacks_fen, figures.complaints_fen) == (
        2_000,
        1_000,
        300,
    )
    # 5000 share - 1000 (refund at 50%) - 500 (chargeback at 50%) - 300 - 200 (complaint fee)
    assert figures.deductions_fen == 2_000
    assert figures.party_fen == 3_000
    assert figures.net_owed_fen == 6_700
    assert figures.commission_fen == 3_700


def test_deductions_can_be_switched_off() -> None:
    terms = [
        Terms(
            D1,
            rules.PERCENTAGE,
            rate=Decimal("0.5"),
            deduct_refunds=False,
            deduct_chargebacks=False,
        )
    ]
    lines = [*sales(10_000), Line(D20, rules.REFUND, -2_000), Line(D20, rules.CHARGEBACK, -100)]
    figures = rules.compute(lines=lines, rules=terms, carried_in_fen=0, last_day=D31)
    assert figures.party_fen == 5_000
    assert figures.commission_fen == 7_900 - 5_000


def test_minimum_payout_carries_over_and_is_paid_when_reached() -> None:
    terms = [Terms(D1, rules.PERCENTAGE, rate=Decimal("0.5"), minimum_payout_fen=10_000)]
    first = rules.compute(lines=sales(8_000), rules=terms, carried_in_fen=0, last_day=D31)
    assert (first.payout_fen, first.carry_out_fen) == (0, 4_000)
    second = rules.compute(
        lines=sales(12_000), rules=terms, carried_in_fen=first.carry_out_fen, last_day=D31
    )
    assert (second.carried_in_fen, second.payout_fen, second.carry_out_fen) == (4_000, 10_000, 0)


def test_a_negative_period_pays_nothing_and_carries_the_debt() -> None:
    terms = [Terms(D1, rules.PERCENTAGE, rate=Decimal("0.5"))]
    figures = rules.compute(
        lines=[Line(D10, rules.REFUND, -1_000)], rules=terms, carried_in_fen=200, last_day=D31
    )
    assert (figures.payout_fen, figures.carry_out_fen) == (0, -300)


def test_a_rule_change_applies_from_its_date_only() -> None:
    terms = [
        Terms(D1, rules.PERCENTAGE, rate=Decimal("0.5")),
        Terms(D20, rules.PERCENTAGE, rate=Decimal("0.8")),
    ]
    lines = [*sales(1_000, on=D10), *sales(1_000, on=D20), *sales(1_000, on=D31)]
    figures = rules.compute(lines=lines, rules=terms, carried_in_fen=0, last_day=D31)
    assert figures.share_fen == 500 + 800 + 800
    assert figures.rules == ["2026-10-01", "2026-10-20"]


def test_lines_before_any_rule_pass_through() -> None:
    terms = [Terms(D20, rules.PERCENTAGE, rate=Decimal("0.5"))]
    figures = rules.compute(lines=sales(1_000, on=D10), rules=terms, carried_in_fen=0, last_day=D31)
    assert figures.share_fen == 1_000 and figures.commission_fen == 0


def test_classify_by_journal_kind_and_reference() -> None:
    assert rules.classify(journal_kind="content_sale", reference="order:1", owed_fen=5) == "sale"
    assert rules.classify(journal_kind="reversal", reference="order:1", owed_fen=-5) == "refund"
    assert rules.classify(journal_kind="refund", reference="r:1", owed_fen=-5) == "refund"
    assert rules.classify(journal_kind="chargeback", reference="c", owed_fen=-5) == "chargeback"
    assert rules.classify(journal_kind="complaint_comp", reference="c", owed_fen=-5) == "complaint"
    assert (
        rules.classify(journal_kind="reversal", reference="settlement:statement:3", owed_fen=5)
        == "settlement"
    )
    assert rules.classify(journal_kind="content_sale", reference="x", owed_fen=-5) == "adjustment"
