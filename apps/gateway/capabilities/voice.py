"""Click-to-dial voice calls: ``POST /voice/v1/calls``, ``GET`` and ``DELETE`` ``/calls/{callId}``.

Shaped after CAMARA's ClickToDial draft (caller, callee, call states, status callbacks).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import callbacks, voice
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import MobileNumberField, iso_utc
from apps.gateway.capability_errors import ServiceNotApplicable


class StartInput(StrictSerializer):
    caller = MobileNumberField()
    callee = MobileNumberField()
    callbackUrl = serializers.URLField(required=False, max_length=500)  # noqa: N815

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["caller"] == attrs["callee"]:
            # Well-formed (JSON Schema cannot compare two fields), so a business refusal.
            raise ServiceNotApplicable("caller and callee must differ.")
        return attrs


class CallOut(serializers.Serializer):
    callId = serializers.UUIDField()  # noqa: N815
    caller = serializers.CharField()
    callee = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()  # noqa: N815
    answeredAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    endedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815


def call_body(view: voice.CallView) -> dict[str, Any]:
    return {
        "callId": str(view.call_id),
        "caller": view.caller,
        "callee": view.callee,
        "status": view.status,
        "reason": view.reason or None,
        "createdAt": iso_utc(view.created_at),
        "answeredAt": iso_utc(view.answered_at),
        "endedAt": iso_utc(view.ended_at),
    }


@extend_schema_view(post=extend_schema(responses={201: CallOut}))
class CallStart(CapabilityView):
    capability = "voice"
    scope = "voice:calls:write"
    http_method_names = ["post"]
    input_serializer = StartInput
    writes = True

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        url = callbacks.callback_url_choose(
            gateway_app=request.gateway_app, requested=data.get("callbackUrl")
        )
        view = voice.call_start(
            gateway_app=request.gateway_app, caller=data["caller"], callee=data["callee"],
            callback_url=url,
        )  # fmt: skip
        return Response(call_body(view), status=201)


@extend_schema_view(delete=extend_schema(responses={200: CallOut}))
class CallDetail(CapabilityView):
    """``GET`` reads the call (``voice:calls:read``); ``DELETE`` hangs up (the write scope,
    refused while Redis is down like every write)."""

    capability = "voice"
    http_method_names = ["get", "delete"]
    output_serializer = CallOut

    @property
    def scope(self) -> str:  # type: ignore[override]
        return "voice:calls:write" if self._hangs_up() else "voice:calls:read"

    @property
    def writes(self) -> bool:  # type: ignore[override]
        return self._hangs_up()

    def _hangs_up(self) -> bool:
        return getattr(self.request, "method", "") == "DELETE"

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        app_id, call_id = request.gateway_app.app_id, self.kwargs["call_id"]
        if self._hangs_up():
            view = voice.call_hangup(app_id=app_id, call_id=call_id)
        else:
            view = voice.call_get(app_id=app_id, call_id=call_id)
        return Response(call_body(view))
