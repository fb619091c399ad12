"""Mobile numbers (MSISDN): parsing to E.164 (China by default), display and masking."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.core.errors import InvalidArgument

_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


class InvalidPhoneNumber(InvalidArgument):
    code = "INVALID_PHONE_NUMBER"
    default_message = _("Enter a valid mobile number.")


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """Return a mobile number in E.164 (``+8613800138000``) or raise ``InvalidPhoneNumber``."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidPhoneNumber()
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber() from exc
    if (
        not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise InvalidPhoneNumber()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """``+8613800138000`` -> ``138 0013 8000``; other countries in international format."""
    if e164.startswith("+86") and len(e164) == 14:
        n = e164[3:]
        return f"{n[:3]} {n[3:7]} {n[7:]}"
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def mask_phone(e164: str) -> str:
    """``+8613800138000`` -> ``138****8000``."""
    national = e164[3:] if e164.startswith("+86") else e164
    return f"{national[:3]}****{national[-4:]}" if len(national) >= 8 else "****"


@dataclass(frozen=True)
class Segment:
    """What a mainland number's first seven digits (号段) say: its carrier and home region."""

    carrier: str  # 移动, 联通, 电信, 广电, or the virtual operator's label
    province: str
    city: str


@lru_cache(maxsize=1)
def _segments() -> Any:
    from phone import Phone  # the public number-segment table, loaded once per process

    return Phone()


def phone_segment(e164: str) -> Segment | None:
    """The segment record of a +86 mobile number, or None when the table does not know it.

    Offline and instant, so it can answer while the buyer types; the carrier's own lookup
    (``apps.carrier.services.subscriber_lookup``) has the last word.
    """
    if not e164.startswith("+86") or len(e164) != 14:
        return None
    try:
        found = _segments().find(e164[3:])
    except Exception:  # the table raises on numbers it has no segment for
        return None
    if not found:
        return None
    return Segment(
        carrier=str(found.get("phone_type") or ""),
        province=str(found.get("province") or ""),
        city=str(found.get("city") or ""),
    )
