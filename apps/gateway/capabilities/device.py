"""CAMARA's device APIs: device roaming status v1 and device reachability status v1
(``POST /device-roaming-status/v1/retrieve``, ``/device-reachability-status/v1/retrieve``,
DeviceStatus r2.2) and location verification v3 (``POST /location-verification/v3/verify``,
DeviceLocation r3.2).

The device is the one a three-legged token identifies, or ``device.phoneNumber`` with a
two-legged token; the other CAMARA identifiers (network access identifier, IP addresses) are
not supported by this network (``422 UNSUPPORTED_IDENTIFIER``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import device_checks
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import (
    CheckedIntegerField,
    NumberField,
    PhoneNumberField,
    TextField,
    iso_utc,
    phone_number_identified,
)
from apps.gateway.errors import CapabilityError


class Ipv4AddressIn(StrictSerializer):
    publicAddress = serializers.IPAddressField(protocol="IPv4")  # noqa: N815 - CAMARA's names
    privateAddress = serializers.IPAddressField(protocol="IPv4", required=False)  # noqa: N815
    publicPort = serializers.IntegerField(min_value=0, max_value=65535, required=False)  # noqa: N815


class DeviceIn(StrictSerializer):
    openapi_request_extra: ClassVar[dict[str, Any]] = {"minProperties": 1}
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815
    networkAccessIdentifier = TextField(max_length=256, required=False)  # noqa: N815
    ipv4Address = Ipv4AddressIn(required=False)  # noqa: N815
    ipv6Address = serializers.IPAddressField(protocol="IPv6", required=False)  # noqa: N815

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("device needs at least one identifier.")
        return attrs


class DeviceRequestIn(StrictSerializer):
    device = DeviceIn(required=False)


def device_phone_number(request: GatewayRequest, device: dict[str, Any] | None) -> str:
    """The phone number of the device the call is about, by CAMARA's identifier rules."""
    if device and not device.get("phoneNumber"):
        if request.device_phone_number:
            raise CapabilityError(
                422, "UNNECESSARY_IDENTIFIER", _("The device is already identified by the token.")
            )
        raise CapabilityError(
            422,
            "UNSUPPORTED_IDENTIFIER",
            _("This network identifies devices by phoneNumber only."),
        )
    return phone_number_identified(
        device_phone_number=request.device_phone_number,
        given=(device or {}).get("phoneNumber"),
    )


@extend_schema_view(post=extend_schema(operation_id="getRoamingStatus"))
class RoamingStatus(CapabilityView):
    capability = "device-roaming-status"
    scope = "device-roaming-status:read"
    http_method_names = ["post"]
    input_serializer = DeviceRequestIn

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        status = device_checks.device_status(
            phone_number=device_phone_number(request, data.get("device"))
        )
        body: dict[str, Any] = {
            "lastStatusTime": iso_utc(status.last_status_time),
            "roaming": status.roaming,
        }
        if status.roaming:
            if status.country_code is not None:
                body["countryCode"] = status.country_code
            if status.country_name:
                body["countryName"] = [status.country_name]
        return Response(body)


@extend_schema_view(post=extend_schema(operation_id="getReachabilityStatus"))
class ReachabilityStatus(CapabilityView):
    capability = "device-reachability-status"
    scope = "device-reachability-status:read"
    http_method_names = ["post"]
    input_serializer = DeviceRequestIn

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        status = device_checks.device_status(
            phone_number=device_phone_number(request, data.get("device"))
        )
        body: dict[str, Any] = {
            "lastStatusTime": iso_utc(status.last_status_time),
            "reachable": bool(status.connectivity),
        }
        if status.connectivity:
            body["connectivity"] = list(status.connectivity)
        return Response(body)


class PointIn(StrictSerializer):
    latitude = NumberField(decimal_places=8, min_value=Decimal(-90), max_value=Decimal(90))
    longitude = NumberField(decimal_places=8, min_value=Decimal(-180), max_value=Decimal(180))


class AreaIn(StrictSerializer):
    areaType = serializers.ChoiceField(["CIRCLE"])  # noqa: N815
    center = PointIn()
    radius = NumberField(decimal_places=4, min_value=Decimal(1))


class VerifyLocationIn(StrictSerializer):
    device = DeviceIn(required=False)
    area = AreaIn()
    maxAge = CheckedIntegerField(required=False, schema_minimum=0)  # noqa: N815


@extend_schema_view(post=extend_schema(operation_id="verifyLocation"))
class VerifyLocation(CapabilityView):
    """Whether the device is within a circle (TRUE, FALSE or PARTIAL with a match rate)."""

    capability = "location-verification"
    scope = "location-verification:verify"
    http_method_names = ["post"]
    input_serializer = VerifyLocationIn

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        area, max_age = data["area"], data.get("maxAge")
        if max_age is not None and max_age < 0:
            raise CapabilityError(400, "OUT_OF_RANGE", _("maxAge cannot be negative."))
        if not device_checks.MIN_RADIUS_M <= area["radius"] <= device_checks.MAX_RADIUS_M:
            raise CapabilityError(
                422,
                "LOCATION_VERIFICATION.INVALID_AREA",
                _("The radius must be %(low)d to %(high)d metres.")
                % {"low": device_checks.MIN_RADIUS_M, "high": device_checks.MAX_RADIUS_M},
            )
        verdict = device_checks.location_verify(
            phone_number=device_phone_number(request, data.get("device")),
            latitude=area["center"]["latitude"], longitude=area["center"]["longitude"],
            radius_m=area["radius"], max_age_s=max_age,
        )  # fmt: skip
        body: dict[str, Any] = {
            "verificationResult": verdict.result,
            "lastLocationTime": iso_utc(verdict.located_at),
        }
        if verdict.match_rate is not None:
            body["matchRate"] = verdict.match_rate
        return Response(body)
