"""Money: parsing yuan into fen, the one rounding rule, formatting."""

from decimal import Decimal

import pytest

from apps.core.money import (
    MAX_AMOUNT_FEN,
    MoneyError,
    apply_rate,
    fen_checked,
    format_fen,
    round_fen,
    to_fen,
)


@pytest.mark.parametrize(
    ("raw", "fen"),
    [("12.34", 1234), ("0.01", 1), ("100", 10000), (" 5.5 ", 550), (3, 300), (Decimal("0.10"), 10)],
)
def test_to_fen_reads_yuan(raw, fen):
    assert to_fen(raw) == fen


@pytest.mark.parametrize("raw", ["1.234", "abc", "", "NaN", "Infinity"])
def test_to_fen_refuses_what_is_not_money(raw):
    with pytest.raises(MoneyError):
        to_fen(raw)


def test_rounding_is_half_up_in_one_place():
    assert round_fen(Decimal("2.5")) == 3
    assert round_fen(Decimal("2.4999")) == 2
    assert round_fen(Decimal("-2.5")) == -3
    assert apply_rate(999, Decimal("0.3")) == 300  # 299.7 -> 300
    assert apply_rate(1005, Decimal("0.5")) == 503  # 502.5 -> 503


@pytest.mark.parametrize(
    ("fen", "text"),
    [(1234, "¥12.34"), (5, "¥0.05"), (-5, "-¥0.05"), (123456789, "¥1,234,567.89"), (0, "¥0.00")],
)
def test_format_fen(fen, text):
    assert format_fen(fen) == text


@pytest.mark.parametrize("raw", ["1E+999999", "-1E+999999", "1E+400", "sNaN", "-Infinity", "1E+30"])
def test_to_fen_refuses_absurd_and_non_finite_amounts(raw):
    with pytest.raises(MoneyError):
        to_fen(raw)


@pytest.mark.parametrize("raw", [0, 1, MAX_AMOUNT_FEN])
def test_fen_checked_takes_whole_fen_in_range(raw):
    assert fen_checked(raw) == raw


@pytest.mark.parametrize(
    "raw",
    [-1, MAX_AMOUNT_FEN + 1, 10**5000, 1.0, True, "5", None],
    ids=["negative", "over", "huge", "float", "bool", "str", "none"],
)
def test_fen_checked_refuses_what_is_not_an_amount_in_fen(raw):
    with pytest.raises(MoneyError):
        fen_checked(raw)
