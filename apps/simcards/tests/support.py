"""Test helpers for the number pool: a SIM-card product, a few numbers, valid ID numbers."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

from apps.accounts.validators import id_check_char
from apps.catalog.models import Product
from apps.catalog.tests.factories import category, product, product_type
from apps.simcards.models import SimNumber
from apps.simcards.patterns import PREMIUM_FEN, pattern_of


def id_number(first17: str = "11010119900307451") -> str:
    """A resident ID whose region, birth date and check character hold."""
    return first17 + id_check_char(first17)


# The sandbox keeps its ID register and opened lines for the whole session, so each test that
# reaches it uses an ID and a number no other test used (a random start per session).
_sequence = itertools.count(random.randrange(100_000))


def unique_id_number() -> str:
    n = next(_sequence)
    birth = date(1970, 1, 1) + timedelta(days=n // 1000 % 15_000)
    return id_number(f"110101{birth:%Y%m%d}{n % 1000:03d}")


def unique_number() -> str:
    """11 national digits of a 138 number never handed out before in this session."""
    return f"138{next(_sequence) % 10**8:08d}"


def sim_product(price: int = 1000) -> Product:
    cat = category("sim", kind="physical", name="SIM卡")
    ptype = product_type(
        "sim", kind="physical",
        schema=[{"key": "card_type", "label": "卡类型", "type": "str", "required": True}],
    )  # fmt: skip
    return product(
        cat, ptype, "5G畅享号卡", price=price, stock=100, attributes={"card_type": "5G标准卡"}
    )


def numbers(*national: str) -> list[SimNumber]:
    """Put the given 11-digit numbers in the pool with their default premiums."""
    return SimNumber.objects.bulk_create(
        SimNumber(msisdn="+86" + n, pattern=pattern_of(n), premium_fen=PREMIUM_FEN[pattern_of(n)])
        for n in national
    )
