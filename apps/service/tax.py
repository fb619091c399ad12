"""Invoice arithmetic and the taxpayer ID check, by the rules of China's VAT invoices."""

from __future__ import annotations

from decimal import Decimal

from apps.core.money import round_fen

# VAT by what a line is: goods 13%, basic telecom services (airtime, data, plans) 9%,
# value-added and digital services 6%.
TAX_RATES: dict[str, Decimal] = {
    "physical": Decimal("0.13"),
    "electronic": Decimal("0.09"),
    "digital": Decimal("0.06"),
}
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The check character of a unified social credit code (GB 32100-2015)."""
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """Whether ``code`` is a well-formed 18-character unified social credit code."""
    return (
        len(code) == 18
        and all(ch in _USCC_CHARS for ch in code)
        and uscc_check_char(code[:17]) == code[17]
    )


def tax_split(amount_fen: int, rate: Decimal) -> tuple[int, int]:
    """A tax-included amount split into (net, tax); the tax rounded by the one rule."""
    tax = round_fen(Decimal(amount_fen) * rate / (1 + rate))
    return amount_fen - tax, tax
