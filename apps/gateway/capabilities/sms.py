"""SMS: ``POST /sms/v1/messages`` to one or many numbers, ``GET /sms/v1/messages/{messageId}``.

Shaped after CAMARA's conventions (camelCase, ``clientCorrelator``, ``{status, code, message}``)
and GSMA OneAPI's SMS (one id per recipient, delivery status, a callback per change).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import callbacks, messaging
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import MobileNumberField, UniqueListField, iso_utc

MAX_RECIPIENTS = 100
MAX_TEXT = 1000


class SendInput(StrictSerializer):
    to = UniqueListField(child=MobileNumberField(), min_length=1, max_length=MAX_RECIPIENTS)
    message = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=False)
    callbackUrl = serializers.URLField(required=False, max_length=500)  # noqa: N815 - CAMARA style
    clientCorrelator = serializers.CharField(required=False, max_length=128)  # noqa: N815


class MessageOut(serializers.Serializer):
    messageId = serializers.UUIDField()  # noqa: N815
    batchId = serializers.UUIDField()  # noqa: N815
    to = serializers.CharField()
    status = serializers.ChoiceField(
        ["held", "queued", "sent", "delivered", "undelivered", "failed"]
    )
    segments = serializers.IntegerField()
    priceFen = serializers.IntegerField()  # noqa: N815
    errorCode = serializers.CharField(allow_null=True)  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815
    updatedAt = serializers.DateTimeField()  # noqa: N815


class SendOut(serializers.Serializer):
    batchId = serializers.UUIDField()  # noqa: N815
    messages = MessageOut(many=True)
    totalPriceFen = serializers.IntegerField()  # noqa: N815
    clientCorrelator = serializers.CharField(required=False)  # noqa: N815


def message_body(view: messaging.PartnerSmsView) -> dict[str, Any]:
    return {
        "messageId": str(view.message_id),
        "batchId": str(view.batch_id),
        "to": view.to,
        "status": view.status,
        "segments": view.segments,
        "priceFen": view.price_fen,
        "errorCode": view.error_code or None,
        "createdAt": iso_utc(view.created_at),
        "updatedAt": iso_utc(view.updated_at),
    }


@extend_schema_view(post=extend_schema(responses={201: SendOut}))
class SmsSend(CapabilityView):
    """Queue the text to every number; 201 with one message per recipient."""

    capability = "sms"
    scope = "sms:send"
    http_method_names = ["post"]
    input_serializer = SendInput
    writes = True
    idempotent = True

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        gateway_app = request.gateway_app
        url = callbacks.callback_url_choose(
            gateway_app=gateway_app, requested=data.get("callbackUrl")
        )
        sent = messaging.sms_send(
            gateway_app=gateway_app, recipients=data["to"], text=data["message"], callback_url=url
        )
        body: dict[str, Any] = {
            "batchId": str(sent[0].batch_id),
            "messages": [message_body(view) for view in sent],
            "totalPriceFen": sum(view.price_fen for view in sent),
        }
        if data.get("clientCorrelator"):
            body["clientCorrelator"] = data["clientCorrelator"]
        return Response(body, status=201)


class SmsDetail(CapabilityView):
    """One message's current state."""

    capability = "sms"
    scope = "sms:read"
    http_method_names = ["get"]
    output_serializer = MessageOut

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = messaging.sms_get(
            app_id=request.gateway_app.app_id, message_id=self.kwargs["message_id"]
        )
        return Response(message_body(view))
