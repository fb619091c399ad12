"""Click-to-dial voice calls: ``POST /voice/v1/calls``, ``GET`` and ``DELETE`` ``/calls/{callId}``.

Shaped after CAMARA's ClickToDial draft (caller, callee, call states, status callbacks).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway import callbacks, voice
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import MobileNumberField, iso_utc


class StartInput(StrictSerializer):
    caller = MobileNumberField()
    callee = MobileNumberField()
    callbackUrl = serializers.URLField(required=False, max_length=500)  # noqa: N815

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["caller"] == attrs["callee"]:
            raise serializers.ValidationError("caller and callee must differ.")
        return attrs


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


class CallRead(CapabilityView):
    capability = "voice"
    scope = "voice:calls:read"
    http_method_names = ["get"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = voice.call_get(app_id=request.gateway_app.app_id, call_id=self.kwargs["call_id"])
        return Response(call_body(view))


class CallHangup(CapabilityView):
    capability = "voice"
    scope = "voice:calls:write"
    http_method_names = ["delete"]
    writes = True

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        view = voice.call_hangup(app_id=request.gateway_app.app_id, call_id=self.kwargs["call_id"])
        return Response(call_body(view))


_read = CallRead.as_view()
_hangup = CallHangup.as_view()


@csrf_exempt
def call_detail(request: HttpRequest, call_id: Any) -> HttpResponse:
    """One path, two scopes: reading needs ``voice:calls:read``, hanging up the write scope."""
    view = _hangup if request.method == "DELETE" else _read  # each refuses other methods
    return view(request, call_id=call_id)
