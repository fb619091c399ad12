"""Mobile numbers (E.164, China by default) and resident identity numbers (GB 11643-1999)."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from django.conf import settings
from django.utils import timezone

from apps.accounts.errors import InvalidIdNumber, InvalidPhoneNumber, InvalidRealName

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits of a resident ID: the province-level division of registration.
_ID_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}  # fmt: skip
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


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


def normalize_id_number(raw: str) -> str:
    """Return an 18-digit resident ID (upper-case X) whose region, birth date and checksum hold."""
    text = (raw or "").strip().upper()
    if not _ID_RE.match(text) or text[:2] not in _ID_PROVINCES:
        raise InvalidIdNumber()
    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber() from exc
    if birth.year < 1900 or birth > timezone.localdate():
        raise InvalidIdNumber()
    if id_check_char(text[:17]) != text[17]:
        raise InvalidIdNumber()
    return text


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def mask_id_number(id_number: str) -> str:
    """``110101199003074514`` -> ``1101**********4514``."""
    return f"{id_number[:4]}{'*' * 10}{id_number[-4:]}"


def normalize_real_name(raw: str) -> str:
    """Collapse spaces; 2 to 30 characters, no digits."""
    name = " ".join((raw or "").split())
    if not 2 <= len(name) <= 30 or any(ch.isdigit() for ch in name):
        raise InvalidRealName()
    return name
