"""Number-pool reads for pages, checkout and fulfilment, returned as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.core.crypto import decrypt_text
from apps.core.phone import display_phone
from apps.simcards.errors import SearchTooBroad
from apps.simcards.models import SimNumber
from apps.simcards.patterns import Pattern

# The catalog's product type whose products sell a card with a number chosen from the pool.
SIM_TYPE_CODE = "sim"
PAGE_SIZE = 20
MAX_PAGE = 50


@dataclass(frozen=True)
class NumberView:
    msisdn: str
    display: str
    pattern: str
    pattern_label: str
    premium_fen: int
    province: str
    city: str


@dataclass(frozen=True)
class SearchPage:
    results: list[NumberView]
    page: int
    has_next: bool


@dataclass(frozen=True)
class NumberState:
    """A number as its buyer sees it in the cart, at checkout and on the order."""

    msisdn: str
    display: str
    premium_fen: int
    status: str
    status_label: str
    holder_user_id: int | None
    held_until: datetime | None
    order_line_id: int | None
    owner_masked: str
    activated_at: datetime | None
    activation_error: str


@dataclass(frozen=True)
class ActivationRequest:
    """What the carrier needs to open a sold number's line (the ID number in clear)."""

    msisdn: str
    status: str
    owner_name: str
    id_number: str
    order_line_id: int
    province: str = ""  # where the number belongs (the pool's home location)
    city: str = ""


def _view(row: SimNumber) -> NumberView:
    return NumberView(
        msisdn=row.msisdn, display=display_phone(row.msisdn), pattern=row.pattern,
        pattern_label=str(Pattern(row.pattern).label), premium_fen=row.premium_fen,
        province=row.province, city=row.city,
    )  # fmt: skip


def _digits(value: str, name: str) -> str:
    value = value.strip()
    if value and (not value.isascii() or not value.isdigit() or len(value) > 11):
        raise SearchTooBroad(details={"field": name})
    return value


def numbers_search(
    *,
    prefix: str = "",
    suffix: str = "",
    contains: str = "",
    pattern: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> SearchPage:
    """Available numbers starting with ``prefix``, ending with ``suffix``, containing
    ``contains`` and of ``pattern`` (all optional), one page at a time: in number order, or
    in order of the reversed number when only the ending is given.

    Each filter has a partial index over available numbers: ``prefix`` a B-tree on the digits
    (collation "C", so it also gives the order), ``suffix`` the same on the reversed digits,
    ``contains`` a trigram GIN index (3 digits or more), ``pattern`` a B-tree by pattern. Pages are fetched one row long to know whether there
    is a next one, without counting the pool.
    """
    prefix, suffix, contains = (
        _digits(prefix, "prefix"), _digits(suffix, "suffix"), _digits(contains, "contains"),
    )  # fmt: skip
    if pattern and pattern not in Pattern.values:
        raise SearchTooBroad(details={"field": "pattern"})
    if not 1 <= page <= MAX_PAGE:
        raise SearchTooBroad(details={"field": "page"})
    qs = SimNumber.objects.filter(status=SimNumber.Status.AVAILABLE)
    if prefix:
        qs = qs.filter(digits__startswith=prefix)
    if suffix:
        qs = qs.filter(digits_reversed__startswith=suffix[::-1])
    if contains:
        qs = qs.filter(digits__contains=contains)
    if pattern:
        qs = qs.filter(pattern=pattern)
    # Ordered along the index that filters, so a broad search reads one page, not every match.
    order = "digits_reversed" if suffix and not prefix else "digits"
    start = (page - 1) * page_size
    rows = list(qs.order_by(order)[start : start + page_size + 1])
    return SearchPage(
        results=[_view(r) for r in rows[:page_size]], page=page, has_next=len(rows) > page_size
    )


def numbers_state(*, msisdns: list[str]) -> dict[str, NumberState]:
    """The state of each number that is in the pool, by number (one query)."""
    return {
        row.msisdn: NumberState(
            msisdn=row.msisdn,
            display=display_phone(row.msisdn),
            premium_fen=row.premium_fen,
            status=row.status,
            status_label=str(SimNumber.Status(row.status).label),
            holder_user_id=row.holder_user_id,
            held_until=row.held_until,
            order_line_id=row.order_line_id,
            owner_masked=(
                f"{row.owner_name[:1]}{'*' * (len(row.owner_name) - 1)} {row.owner_id_masked}"
                if row.owner_name
                else ""
            ),
            activated_at=row.activated_at,
            activation_error=row.activation_error,
        )
        for row in SimNumber.objects.filter(msisdn__in=msisdns)
    }


def numbers_for_lines(*, line_ids: list[int]) -> dict[int, NumberState]:
    """By order line id, the number sold (or held) on that line (one query)."""
    msisdns = list(
        SimNumber.objects.filter(order_line_id__in=line_ids).values_list("msisdn", flat=True)
    )
    return {
        state.order_line_id: state
        for state in numbers_state(msisdns=msisdns).values()
        if state.order_line_id is not None
    }


def activation_request(*, line_id: int) -> ActivationRequest | None:
    """The number sold on an order line with its owner's identity, or None for other lines."""
    row = SimNumber.objects.filter(order_line_id=line_id).first()
    if row is None or not row.owner_id_encrypted:
        return None
    return ActivationRequest(
        msisdn=row.msisdn, status=row.status, owner_name=row.owner_name,
        id_number=decrypt_text(row.owner_id_encrypted), order_line_id=line_id,
        province=row.province, city=row.city,
    )  # fmt: skip


def lines_awaiting_activation(*, idle_before: datetime, limit: int = 100) -> list[int]:
    """Order lines whose number is sold and whose activation was started but neither finished
    nor was refused (the carrier did not answer), untouched since ``idle_before``: to retry."""
    line_ids = (
        SimNumber.objects.filter(
            status=SimNumber.Status.SOLD, activation_attempts__gt=0, activation_error="",
            updated_at__lt=idle_before,
        )
        .order_by("updated_at")
        .values_list("order_line_id", flat=True)[:limit]
    )  # fmt: skip
    return [line_id for line_id in line_ids if line_id is not None]
