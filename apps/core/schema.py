"""OpenAPI (drf-spectacular) extensions, so that the schema describes what validation accepts.

Without them a client generated from /api/schema/ (or Schemathesis) sends bodies the API
refuses: an input serializer that refuses unknown fields must say so
(``additionalProperties: false``), and a decimal sent as a string needs at least one digit
(drf-spectacular's pattern also matches ``""``, ``"-"`` and ``"."``, which DRF refuses).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from rest_framework import fields, serializers

from apps.core.serializers import StrictSerializer


class StrictSerializerSchema(OpenApiSerializerExtension):
    """A ``StrictSerializer`` request body takes no property beyond its fields."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        if direction == "request":
            schema["additionalProperties"] = False
            for name, field in self.target.fields.items():
                prop = schema.get("properties", {}).get(name, {})
                if isinstance(field, serializers.ListSerializer) and prop.get("type") == "array":
                    low, high = (
                        getattr(field, "min_length", None),
                        getattr(field, "max_length", None),
                    )
                    if low is not None:
                        prop["minItems"] = low
                    if high is not None:
                        prop["maxItems"] = high
            # What the serializer's ``validate`` checks across fields, in JSON Schema terms
            # (e.g. ``oneOf`` two required fields).
            schema.update(getattr(self.target, "openapi_request_extra", {}))
        return schema


def decimal_pattern(field: fields.DecimalField) -> str:
    """The strings ``DecimalField`` accepts: at least one digit, within its ``max_digits`` and
    ``decimal_places``; no sign when ``min_value`` is 0 or more, and a digit other than 0 when
    ``min_value`` is the smallest positive step (``0.001`` for 3 places: "more than zero")."""
    whole, places = field.max_whole_digits, field.decimal_places or 0
    low = field.min_value
    sign = "" if low is not None and low >= 0 else "-?"
    nonzero = "(?=.*[1-9])" if low is not None and 0 < low <= Decimal(10) ** -places else ""
    if places == 0:
        number = f"[0-9]{{1,{whole}}}"
    elif whole == 0:
        number = f"(?:0|0?\\.[0-9]{{1,{places}}})"
    else:
        number = f"(?:[0-9]{{1,{whole}}}(?:\\.[0-9]{{0,{places}}})?|\\.[0-9]{{1,{places}}})"
    return f"^{nonzero}{sign}{number}$"


class CharFieldSchema(OpenApiSerializerFieldExtension):
    """A trimmed text that may not be blank needs a character besides white space (``" "``
    has ``minLength: 1`` but is blank once trimmed), white space as Python's ``strip`` sees it."""

    target_class = fields.CharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        field: Any = self.target
        plain = schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema)
        plain = plain and not any(isinstance(v, RegexValidator) for v in field.validators)
        if direction == "request" and plain and field.trim_whitespace and not field.allow_blank:
            # ECMA's \s (JSON Schema's regexes) lacks \x1c-\x1f and \x85, which Python's
            # strip() removes: "\x1f" alone is blank to DRF.
            schema["pattern"] = r"[^\s\x1c-\x1f\x85]"
        return schema


class DecimalFieldSchema(OpenApiSerializerFieldExtension):
    """A decimal read from a string: a pattern that needs a digit (see the module's note)."""

    target_class = fields.DecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        if schema.get("type") == "string" and "pattern" in schema and not self.target.localize:
            schema["pattern"] = decimal_pattern(self.target)
        return schema
