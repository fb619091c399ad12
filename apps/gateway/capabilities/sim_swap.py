"""SIM swap (CAMARA SimSwap v2): ``POST /sim-swap/v2/check`` and ``/retrieve-date``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import network
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import (
    CheckedIntegerField,
    PhoneNumberField,
    iso_utc,
    phone_number_identified,
)
from apps.gateway.capability_errors import OutOfRange


class CheckInput(StrictSerializer):
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815 - CAMARA's field name
    maxAge = CheckedIntegerField(  # noqa: N815
        required=False, default=240, schema_minimum=1, schema_maximum=network.MAX_AGE_HOURS
    )


class RetrieveDateInput(StrictSerializer):
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815


class SwappedOut(serializers.Serializer):
    swapped = serializers.BooleanField()


class SimChangeOut(serializers.Serializer):
    latestSimChange = serializers.DateTimeField(allow_null=True)  # noqa: N815


def _phone_number(request: GatewayRequest, data: dict[str, Any]) -> str:
    return phone_number_identified(
        device_phone_number=request.device_phone_number, given=data.get("phoneNumber")
    )


class SimSwapCheck(CapabilityView):
    """Whether the line's SIM changed within ``maxAge`` hours (1..2400, default 240)."""

    capability = "sim-swap"
    scope = "sim-swap:check"
    http_method_names = ["post"]
    input_serializer = CheckInput
    output_serializer = SwappedOut

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if not 1 <= data["maxAge"] <= network.MAX_AGE_HOURS:
            raise OutOfRange(details={"maxAge": "1..2400"})
        phone_number = _phone_number(request, data)
        swapped = network.sim_swapped(phone_number=phone_number, max_age_hours=data["maxAge"])
        return Response({"swapped": swapped})


class SimSwapRetrieveDate(CapabilityView):
    """When the line's current SIM went in."""

    capability = "sim-swap"
    scope = "sim-swap:retrieve-date"
    http_method_names = ["post"]
    input_serializer = RetrieveDateInput
    output_serializer = SimChangeOut

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        changed = network.sim_latest_change(phone_number=_phone_number(request, data))
        return Response({"latestSimChange": iso_utc(changed)})
