"""What the capability views share: the CAMARA phone-number field, CAMARA's rule for which
device a call is about, and time formatting."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from rest_framework import serializers

from apps.core.phone import InvalidPhoneNumber, normalize_phone
from apps.gateway.capability_errors import (
    MissingIdentifier,
    ServiceNotApplicable,
    UnnecessaryIdentifier,
)

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
    """An E.164 number that must be a valid mobile number (a text or a call can reach it).

    Any number of CAMARA's pattern is well-formed (the schema says no more); one that is not a
    mobile number anywhere is a business refusal, ``422 SERVICE_NOT_APPLICABLE``, not a 400."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not re.fullmatch(E164, value):  # (the field's own validators run after this)
            self.fail("invalid")
        try:
            return normalize_phone(value)
        except InvalidPhoneNumber as exc:
            raise ServiceNotApplicable(str(exc.message)) from exc


class UniqueListField(serializers.ListField):
    """A list whose items appear once each (``uniqueItems`` in the schema)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        value = list(super().to_internal_value(data))
        if len({repr(item) for item in value}) != len(value):
            raise serializers.ValidationError("An item appears twice.")
        return value


class CheckedIntegerField(serializers.IntegerField):
    """An integer whose range the view checks itself (CAMARA answers ``OUT_OF_RANGE`` for it,
    not DRF's ``INVALID_ARGUMENT``); the schema states the range."""

    def __init__(
        self, *, schema_minimum: int | None = None, schema_maximum: int | None = None, **kwargs: Any
    ) -> None:
        self.schema_minimum, self.schema_maximum = schema_minimum, schema_maximum
        super().__init__(**kwargs)


class NumberField(serializers.DecimalField):
    """A CAMARA ``type: number`` (a JSON number, or its text) read as a Decimal: more decimal
    places than kept are rounded, not refused (the document allows any double)."""

    def __init__(self, *, decimal_places: int, **kwargs: Any) -> None:
        super().__init__(max_digits=None, decimal_places=decimal_places, **kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        try:
            step = Decimal(10) ** -(self.decimal_places or 0)
            return value.quantize(step, rounding=ROUND_HALF_EVEN)
        except InvalidOperation:  # too large to keep the places: the range check refuses it
            return value

    def quantize(self, value: Decimal) -> Decimal:
        return value


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
