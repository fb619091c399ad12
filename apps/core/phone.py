"""Mobile numbers (MSISDN): parsing to E.164 (China by default), display and masking."""

from __future__ import annotations

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
