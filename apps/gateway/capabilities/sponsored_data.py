"""Sponsored data (流量统付): ``POST /sponsored-data/v1/grants`` gives a subscriber a data pack
paid by the partner; ``GET /sponsored-data/v1/grants/{requestId}`` follows it.

Shaped like the CAMARA writes (camelCase, ``{status, code, message}``). ``requestId`` is the
partner's id of the grant and its idempotency key: the first call grants, a repeat with the
same body gets the first answer back (``Idempotent-Replayed``) and is charged nothing; the
same ``requestId`` with another body is 409 ``CONFLICT``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.enterprise.models import SponsoredGrant
from apps.gateway import sponsored
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import PhoneNumberField, TextField, iso_utc

REQUEST_ID = r"^[A-Za-z0-9._:-]{1,64}$"


class GrantInput(StrictSerializer):
    requestId = serializers.RegexField(REQUEST_ID)  # noqa: N815 - CAMARA style
    phoneNumber = PhoneNumberField()  # noqa: N815
    productCode = TextField(max_length=64)  # noqa: N815


class GrantOut(serializers.Serializer):
    grantId = serializers.CharField()  # noqa: N815
    requestId = serializers.CharField()  # noqa: N815
    phoneNumber = serializers.CharField()  # noqa: N815
    productCode = serializers.CharField()  # noqa: N815
    volumeMb = serializers.IntegerField()  # noqa: N815
    validityDays = serializers.IntegerField()  # noqa: N815
    priceFen = serializers.IntegerField()  # noqa: N815
    status = serializers.ChoiceField(SponsoredGrant.Status.values)
    errorCode = serializers.CharField(allow_null=True)  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815


def grant_body(grant: SponsoredGrant) -> dict[str, Any]:
    return {
        "grantId": grant.idempotency_key,
        "requestId": grant.request_id,
        "phoneNumber": grant.msisdn,
        "productCode": grant.pack_code,
        "volumeMb": grant.volume_mb,
        "validityDays": grant.validity_days,
        "priceFen": grant.price_fen,
        "status": grant.status,
        "errorCode": grant.error_code or None,
        "createdAt": iso_utc(grant.created_at),
    }


@extend_schema_view(post=extend_schema(responses={201: GrantOut}))
class GrantCreate(CapabilityView):
    """Grant the pack, charged to the partner's prepaid account; 201 with the grant."""

    capability = "sponsored-data"
    scope = "sponsored-data:grants:create"
    http_method_names = ["post"]
    input_serializer = GrantInput
    writes = True
    idempotent = True

    def client_correlator(self, data: dict[str, Any]) -> str | None:
        return str(data["requestId"])

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        grant = sponsored.grant_create(
            partner_id=request.gateway_app.partner_id,
            request_id=data["requestId"],
            phone_number=data["phoneNumber"],
            product_code=data["productCode"],
        )
        return Response(grant_body(grant), status=201)


class GrantDetail(CapabilityView):
    """The grant's current state (``delivered`` once the pack is on the line)."""

    capability = "sponsored-data"
    scope = "sponsored-data:grants:read"
    http_method_names = ["get"]
    output_serializer = GrantOut

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        grant = sponsored.grant_get(
            partner_id=request.gateway_app.partner_id, request_id=self.kwargs["request_id"]
        )
        return Response(grant_body(grant))
