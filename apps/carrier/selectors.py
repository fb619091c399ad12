"""Carrier reads other apps may use without a network call."""

from __future__ import annotations

from apps.carrier.provinces import province_of


def home_province(*, msisdn: str) -> str:
    """The home province's name (``广东``) of a number from its segment; ``""`` outside ours."""
    province = province_of(msisdn)
    return province.name if province else ""
