"""What the capability views share: the CAMARA phone-number field, CAMARA's rule for which
device a call is about, and time formatting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from apps.core.phone import InvalidPhoneNumber, normalize_phone
from apps.gateway.capability_errors import MissingIdentifier, UnnecessaryIdentifier

# CAMARA's PhoneNumber: E.164 with the leading "+".
E164 = r"^\+[1-9][0-9]{4,14}$"


class TextField(serializers.CharField):
    """A JSON string, and only a string (DRF's CharField would take 12345 as "12345")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        return str(super().to_internal_value(data))


class PhoneNumberField(serializers.RegexField):
    """An E.164 number as CAMARA writes it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(E164, max_length=16, **kwargs)  # type: ignore[arg-type]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        return str(super().to_internal_value(data))


class MobileNumberField(PhoneNumberField):
    """An E.164 number that must be a valid mobile number (a text or a call can reach it)."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return normalize_phone(value)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc.message)) from exc


def iso_utc(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z``, as CAMARA's examples write times."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def phone_number_identified(*, device_phone_number: str | None, given: str | None) -> str:
    """The number a device call is about, by CAMARA's identifier rule (Commonalities 0.6):
    a three-legged token names the device, so a number in the body as well is
    ``UNNECESSARY_IDENTIFIER``; a two-legged token needs the number in the body, or the call
    is ``MISSING_IDENTIFIER``."""
    if device_phone_number and given:
        raise UnnecessaryIdentifier()
    if device_phone_number:
        return device_phone_number
    if not given:
        raise MissingIdentifier()
    return given
