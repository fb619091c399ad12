"""Mobile data: ``POST /mobile-data/v1/remaining-volume``, the subscriber's data left now.

Shaped like the CAMARA two-legged reads (``phoneNumber`` in the body, CAMARA errors); volumes
in MB, each bucket (plan, add-on, data pack) with its own validity.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import network
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import PhoneNumberField, iso_utc
from apps.gateway.capability_errors import MissingIdentifier


class RemainingInput(StrictSerializer):
    phoneNumber = PhoneNumberField(required=False)  # noqa: N815 - CAMARA style


class BucketOut(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    totalMb = serializers.IntegerField()  # noqa: N815
    usedMb = serializers.IntegerField()  # noqa: N815
    remainingMb = serializers.IntegerField()  # noqa: N815
    validUntil = serializers.DateTimeField()  # noqa: N815


class RemainingOut(serializers.Serializer):
    phoneNumber = serializers.CharField()  # noqa: N815
    asOf = serializers.DateTimeField()  # noqa: N815
    totalMb = serializers.IntegerField()  # noqa: N815
    usedMb = serializers.IntegerField()  # noqa: N815
    remainingMb = serializers.IntegerField()  # noqa: N815
    buckets = BucketOut(many=True)


class RemainingVolume(CapabilityView):
    capability = "mobile-data"
    scope = "mobile-data:read"
    http_method_names = ["post"]
    input_serializer = RemainingInput
    output_serializer = RemainingOut

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        if not data.get("phoneNumber"):
            raise MissingIdentifier()
        left = network.data_remaining(phone_number=data["phoneNumber"])
        return Response(
            {
                "phoneNumber": left.phone_number,
                "asOf": iso_utc(left.as_of),
                "totalMb": left.total_mb,
                "usedMb": left.used_mb,
                "remainingMb": left.remaining_mb,
                "buckets": [
                    {
                        "kind": b.kind,
                        "name": b.name,
                        "totalMb": b.total_mb,
                        "usedMb": b.used_mb,
                        "remainingMb": b.remaining_mb,
                        "validUntil": iso_utc(b.valid_until),
                    }
                    for b in left.buckets
                ],
            }
        )
