"""CAMARA KnowYourCustomer r2.2: KYC match v0.3 (``POST /kyc-match/v0.3/match``) and KYC age
verification v0.1 (``POST /kyc-age-verification/v0.1/verify``).

The carrier matches what the partner holds against its real-name register and answers per
field ``true`` / ``false`` / ``not_available`` (with a 0..100 score for names and addresses
that do not match); the register's own data never leaves the carrier.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import device_checks
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import (
    CheckedIntegerField,
    PhoneNumberField,
    TextField,
    phone_number_identified,
)
from apps.gateway.errors import CapabilityError

# Fields the register holds (matched by the carrier) and those it never has (not_available).
REGISTER_FIELDS = (
    "idDocument", "name", "givenName", "familyName", "address", "postalCode", "region",
    "locality", "country", "birthdate", "email", "gender",
)  # fmt: skip
NEVER_HELD = (
    "nameKanaHankaku", "nameKanaZenkaku", "middleNames", "familyNameAtBirth", "streetName",
    "streetNumber", "houseNumberExtension",
)  # fmt: skip


def _text() -> serializers.CharField:
    return TextField(max_length=200, required=False)


class KycMatchIn(StrictSerializer):
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815 - CAMARA's names
    birthdate = serializers.DateField(required=False)
    email = serializers.EmailField(required=False)
    gender = serializers.ChoiceField(["MALE", "FEMALE", "OTHER"], required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in (*REGISTER_FIELDS, *NEVER_HELD):
            fields.setdefault(name, _text())
        return fields


# Something to match besides the number (else 400 INVALID_ARGUMENT or INVALID_PARAM_COMBINATION).
KycMatchIn.openapi_request_extra = {  # type: ignore[attr-defined]
    "anyOf": [{"required": [name]} for name in KycMatchIn._declared_fields if name != "phoneNumber"]
}


def _identified(request: GatewayRequest, given: str | None) -> str:
    """KYC's identifier rule: a number in the body must be the token's own (else 403)."""
    device = request.device_phone_number
    if device and given and given != device:
        raise CapabilityError(
            403,
            "INVALID_TOKEN_CONTEXT",
            _("The phone number is not the one the access token was issued for."),
        )
    return phone_number_identified(device_phone_number=None, given=given or device)


@extend_schema_view(post=extend_schema(operation_id="KYC_Match"))
class KycMatch(CapabilityView):
    capability = "kyc-match"
    scope = "kyc-match:match"
    http_method_names = ["post"]
    input_serializer = KycMatchIn

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if not data:
            raise CapabilityError(400, "INVALID_ARGUMENT", _("The body names nothing to match."))
        phone_number = _identified(request, data.pop("phoneNumber", None))
        if not data:
            raise CapabilityError(
                400,
                "KNOW_YOUR_CUSTOMER.INVALID_PARAM_COMBINATION",
                _("Give at least one property to match."),
            )
        asked = {k: str(v) for k, v in data.items() if k in REGISTER_FIELDS}
        matches = device_checks.kyc_match(phone_number=phone_number, fields=asked) if asked else {}
        body: dict[str, Any] = {}
        for field in data:
            verdict = matches.get(field, "not_available")
            body[f"{field}Match"] = verdict
            if f"{field}Score" in matches:
                body[f"{field}MatchScore"] = int(matches[f"{field}Score"])
        return Response(body)


class AgeVerifyIn(StrictSerializer):
    ageThreshold = CheckedIntegerField(schema_minimum=0, schema_maximum=120)  # noqa: N815
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815
    idDocument = _text()  # noqa: N815
    name = _text()
    givenName = _text()  # noqa: N815
    familyName = _text()  # noqa: N815
    middleNames = _text()  # noqa: N815
    familyNameAtBirth = _text()  # noqa: N815
    birthdate = serializers.DateField(required=False)
    email = serializers.EmailField(required=False)
    includeContentLock = serializers.BooleanField(required=False, default=False)  # noqa: N815
    includeParentalControl = serializers.BooleanField(required=False, default=False)  # noqa: N815


@extend_schema_view(post=extend_schema(operation_id="verifyAge"))
class VerifyAge(CapabilityView):
    """Whether the line's registered owner is at least ``ageThreshold`` years old."""

    capability = "kyc-age-verification"
    scope = "kyc-age-verification:verify"
    http_method_names = ["post"]
    input_serializer = AgeVerifyIn

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if not 0 <= data["ageThreshold"] <= 120:
            raise CapabilityError(400, "OUT_OF_RANGE", _("ageThreshold is 0..120."))
        phone_number = phone_number_identified(
            device_phone_number=request.device_phone_number, given=data.get("phoneNumber")
        )
        identity = {
            k: str(v) for k, v in data.items() if k in REGISTER_FIELDS and v not in ("", None)
        }
        check = device_checks.age_verify(
            phone_number=phone_number, age_threshold=data["ageThreshold"], identity=identity
        )
        body: dict[str, Any] = {"ageCheck": check.age_check, "verifiedStatus": check.verified}
        if check.identity_match_score is not None:
            body["identityMatchScore"] = check.identity_match_score
        if data["includeContentLock"]:
            body["contentLock"] = check.content_lock
        if data["includeParentalControl"]:
            body["parentalControl"] = check.parental_control
        return Response(body)
