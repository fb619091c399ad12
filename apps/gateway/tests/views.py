"""Test-only capability views, so pipeline tests do not depend on the real capabilities."""

from __future__ import annotations

import itertools
from typing import Any

from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.errors import CapabilityError

performed = itertools.count(1)
PERFORMED: list[dict[str, Any]] = []


class CheckIn(StrictSerializer):
    phoneNumber = serializers.CharField(max_length=20)  # noqa: N815 - CAMARA field names
    maxAge = serializers.IntegerField(min_value=1, max_value=2400, required=False)  # noqa: N815


class CheckOut(serializers.Serializer):
    swapped = serializers.BooleanField()
    appId = serializers.IntegerField()  # noqa: N815


class CheckView(CapabilityView):
    capability = "sim-swap"
    scope = "sim-swap:check"
    input_serializer = CheckIn
    output_serializer = CheckOut
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if data["phoneNumber"] == "+8613900000404":
            raise CapabilityError(404, "IDENTIFIER_NOT_FOUND", "Unknown phone number.")
        PERFORMED.append({"view": "check", **data})
        return Response({"swapped": False, "appId": request.gateway_app.app_id})


class SendIn(StrictSerializer):
    to = serializers.CharField(max_length=20)
    text = serializers.CharField(max_length=200)
    clientCorrelator = serializers.CharField(max_length=128, required=False)  # noqa: N815


class SendOut(serializers.Serializer):
    messageId = serializers.CharField()  # noqa: N815
    to = serializers.CharField()


class SendView(CapabilityView):
    capability = "sms"
    scope = "sms:send"
    input_serializer = SendIn
    output_serializer = SendOut
    writes = True
    idempotent = True
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if data["text"] == "boom":
            raise RuntimeError("carrier exploded")
        if data["text"] == "refuse":
            raise CapabilityError(400, "SMS.INVALID_TEXT", "Refused text.")
        number = next(performed)
        PERFORMED.append({"view": "send", **data})
        return Response({"messageId": f"m{number}", "to": data["to"]}, status=201)
