"""The platform's URLs plus two bench-only views: a plain Django view and a no-op capability.

The no-op capability runs the whole gateway pipeline (signature, nonce, rate limit and quota in
Redis, strict body, metering) on the lean path (``apps.gateway.api.lean``, as the SMS send) and
does nothing else, so that its cost minus the plain view's is
the gateway's own overhead.
"""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.api.lean import lean_view


def plain(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


class NoopCapability(CapabilityView):
    capability = "sms"
    scope = "sms:send"
    input_serializer = StrictSerializer
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        return Response({"ok": True})


def _empty_object(body: bytes) -> dict[str, Any] | None:
    return {} if body.strip() == b"{}" else None


urlpatterns = [
    path("bench/plain", plain),
    # On the lean path, as POST /sms/v1/messages (an empty JSON object is its whole body).
    path("bench/noop", lean_view(NoopCapability, parse=_empty_object)),
    path("", include("config.urls")),
]
