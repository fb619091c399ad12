"""Number verification (CAMARA NumberVerification v2): ``/verify`` and ``/device-phone-number``.

CAMARA's network learns the device's number from a token obtained by network-based
authentication: the partner exchanges the network's device token for a three-legged access
token at ``/oauth2/token`` (``apps.gateway.device_identity``). Partners of the first release
may still pass the device token in ``X-Device-Token`` beside a two-legged token (see
docs/api.md, "Number verification").
"""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import network
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import PhoneNumberField

DEVICE_TOKEN_HEADER = "X-Device-Token"  # noqa: S105 - a header name, not a secret


class VerifyInput(StrictSerializer):
    openapi_request_extra: ClassVar[dict[str, Any]] = {
        "oneOf": [{"required": ["phoneNumber"]}, {"required": ["hashedPhoneNumber"]}]
    }
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815 - CAMARA's field names
    hashedPhoneNumber = serializers.RegexField(r"^[a-fA-F0-9]{64}$", required=False)  # noqa: N815

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("phoneNumber" in attrs) == ("hashedPhoneNumber" in attrs):
            raise serializers.ValidationError(
                "Exactly one of phoneNumber and hashedPhoneNumber is required."
            )
        return attrs


class VerifiedOut(serializers.Serializer):
    devicePhoneNumberVerified = serializers.BooleanField()  # noqa: N815


class DevicePhoneNumberOut(serializers.Serializer):
    devicePhoneNumber = serializers.CharField()  # noqa: N815


class NumberVerify(CapabilityView):
    """Whether the number the device uses is the one given (plain or SHA-256 hashed)."""

    capability = "number-verification"
    scope = "number-verification:verify"
    http_method_names = ["post"]
    input_serializer = VerifyInput
    output_serializer = VerifiedOut

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        verified = network.number_verify(
            token_phone_number=request.device_phone_number,
            device_token=request.headers.get(DEVICE_TOKEN_HEADER),
            phone_number=data.get("phoneNumber"),
            hashed_phone_number=data.get("hashedPhoneNumber"),
        )
        return Response({"devicePhoneNumberVerified": verified})


class DevicePhoneNumber(CapabilityView):
    """The number the network authenticated behind the device token."""

    capability = "number-verification"
    scope = "number-verification:device-phone-number:read"
    http_method_names = ["get"]
    output_serializer = DevicePhoneNumberOut

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        number = request.device_phone_number or network.device_phone_number(
            device_token=request.headers.get(DEVICE_TOKEN_HEADER)
        )
        return Response({"devicePhoneNumber": number})
