"""Resident identity numbers (GB 11643-1999) and real names; phone numbers live in core."""

from __future__ import annotations

import re
from datetime import date

from django.utils import timezone

from apps.accounts.errors import InvalidIdNumber, InvalidRealName
from apps.core.phone import display_phone, mask_phone, normalize_phone

__all__ = [
    "display_phone",
    "id_check_char",
    "mask_id_number",
    "mask_phone",
    "normalize_id_number",
    "normalize_phone",
    "normalize_real_name",
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits of a resident ID: the province-level division of registration.
_ID_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}  # fmt: skip
_ID_RE = re.compile(r"^\d{17}[\dX]$")


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
