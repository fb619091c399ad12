"""Money is integer fen (分) wherever it is charged, paid or booked; one rounding rule."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN_PER_YUAN = 100
# No single charge, payment or refund comes near ¥10 billion; anything larger read from outside
# (a provider's notification, a form) is not money but a malformed or hostile value.
MAX_AMOUNT_FEN = 10**12


class MoneyError(ValueError):
    """A value that cannot be read as an amount of money."""


def to_fen(yuan: str | int | Decimal) -> int:
    """Parse an amount in yuan (``"12.34"``) into fen, refusing fractions of a fen and floats."""
    if isinstance(yuan, float):  # pragma: no cover - guarded by type hints; floats never enter
        raise MoneyError("floats are not money")
    try:
        value = Decimal(str(yuan).strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not an amount: {yuan!r}") from exc
    if not value.is_finite() or abs(value) > MAX_AMOUNT_FEN // FEN_PER_YUAN:
        raise MoneyError(f"not an amount: {yuan!r}")
    fen = value * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise MoneyError(f"more precise than a fen: {yuan!r}")
    return int(fen)


def fen_checked(amount: object) -> int:
    """An amount in whole fen read from outside (a JSON number, digits): an ``int`` from 0 to
    ``MAX_AMOUNT_FEN``, else ``MoneyError``."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise MoneyError(f"not an amount in fen: a {type(amount).__name__}")
    if not 0 <= amount <= MAX_AMOUNT_FEN:
        raise MoneyError("an amount in fen out of range")
    return amount


def round_fen(amount: Decimal) -> int:
    """Round a computed amount in fen (a rate times a quantity) half-up to whole fen."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def apply_rate(amount_fen: int, rate: Decimal) -> int:
    """``amount_fen * rate`` rounded by the one rule (used for shares, fees and discounts)."""
    return round_fen(Decimal(amount_fen) * rate)


def format_fen(amount_fen: int, *, symbol: str = "¥") -> str:
    """``1234`` -> ``"¥12.34"``; negative amounts keep their sign in front: ``"-¥0.05"``."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{symbol}{yuan:,}.{fen:02d}"
