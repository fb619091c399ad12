"""JSON plumbing shared by the sandbox's API views: bodies, API key, methods, error mapping."""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from typing import Any, ParamSpec

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.sandbox.errors import SandboxError, error_response, invalid_argument

P = ParamSpec("P")


def sandbox_setting(name: str) -> str:
    """A setting only ``config.settings.sandbox`` defines (the type checker reads another)."""
    return str(getattr(settings, name))


def json_response(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object, or ``INVALID_ARGUMENT``."""
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise invalid_argument("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid_argument("The body must be a JSON object.")
    return data


def require_api_key(request: HttpRequest) -> None:
    """Refuse with 401 unless ``X-Api-Key`` is the carrier's key (compared in constant time)."""
    given = request.headers.get("X-Api-Key", "")
    if not hmac.compare_digest(given.encode(), sandbox_setting("SANDBOX_API_KEY").encode()):
        raise SandboxError(401, "UNAUTHENTICATED", "A valid X-Api-Key header is required.")


def json_endpoint(
    *methods: str,
) -> Callable[[Callable[P, HttpResponse]], Callable[P, HttpResponse]]:
    """Allow only ``methods`` (405 otherwise) and turn a ``SandboxError`` into its error body."""

    def decorate(view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            request = args[0]
            assert isinstance(request, HttpRequest)
            if request.method not in methods:
                response = error_response(
                    405, "METHOD_NOT_ALLOWED", f"Use {' or '.join(methods)} on this path."
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(*args, **kwargs)
            except SandboxError as exc:
                return exc.as_response()

        return wrapper

    return decorate
