"""The API's one error body, ``{"status", "code", "message"}`` (plus ``details`` per field)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import DomainError, TooManyRequests

_CODES = {
    status.HTTP_400_BAD_REQUEST: "INVALID_ARGUMENT",
    status.HTTP_401_UNAUTHORIZED: "UNAUTHENTICATED",
    status.HTTP_403_FORBIDDEN: "PERMISSION_DENIED",
    status.HTTP_404_NOT_FOUND: "NOT_FOUND",
    status.HTTP_405_METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
    status.HTTP_406_NOT_ACCEPTABLE: "NOT_ACCEPTABLE",
    status.HTTP_409_CONFLICT: "CONFLICT",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
    status.HTTP_429_TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
}


def error_body(http_status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": http_status, "code": code, "message": message}
    if details:
        body["details"] = details
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped so every refusal has the same body."""
    if isinstance(exc, DomainError):
        response = Response(exc.as_body(), status=exc.http_status)
        if isinstance(exc, TooManyRequests) and exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    drf_response = drf_exception_handler(exc, context)
    if drf_response is None:
        return None
    response = drf_response
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            response.status_code,
            "INVALID_ARGUMENT",
            _("The request has invalid fields."),
            exc.detail,
        )
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = _CODES.get(response.status_code, "INTERNAL")
        response.data = error_body(response.status_code, code, str(detail))
    return response
