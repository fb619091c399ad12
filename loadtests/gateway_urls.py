"""The platform's URLs plus two bench-only views: a plain Django view and a no-op capability.

The no-op capability runs the whole gateway pipeline (signature, nonce, rate limit and quota in
Redis, strict body, metering) and does nothing else, so that its cost minus the plain view's is
the gateway's own overhead.
"""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.response import Response

from apps.core.serializers import StrictSerializer
from apps.gateway.api.base import CapabilityView, GatewayRequest


def plain(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


class NoopCapability(CapabilityView):
    capability = "sms"
    scope = "sms:send"
    input_serializer = StrictSerializer
    http_method_names = ["post"]

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("bench/plain", plain),
    path("bench/noop", NoopCapability.as_view()),
    path("", include("config.urls")),
]
