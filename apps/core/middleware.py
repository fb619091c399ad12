"""NUL bytes are refused once, here, before any view or query sees them (PostgreSQL cannot
store them in text and they are never meaningful in a path, a query or a form)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from apps.core.api import error_body
from apps.core.views import wants_json

_JSON_NUL = re.compile(rb"(?<!\\)\\u0000", re.IGNORECASE)


def accepts_nul_bytes(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that answers a body with NUL bytes itself (a provider's notification
    endpoint must answer in the provider's own FAIL format and record what it refused)."""
    view.accepts_nul_bytes = True  # type: ignore[attr-defined]
    return view


def _body_has_nul(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    if not (
        content_type == "application/x-www-form-urlencoded"
        or content_type == "application/json"
        or content_type.endswith("+json")
    ):
        return False
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    if not 0 < length <= settings.JSON_MAX_BODY_BYTES:
        return False  # empty, or too large: the parser refuses it with 413
    body = request.body
    if b"\x00" in body:
        return True
    if content_type == "application/x-www-form-urlencoded":
        return b"%00" in body
    return _JSON_NUL.search(body) is not None


class RefuseNulBytesMiddleware:
    """400 for a NUL in the path, the query string or a form/JSON body: the API's error body
    under /api/ (or when JSON is asked for), a plain page elsewhere. A cookie carrying a NUL (a
    quoted cookie's ``\\000``) is dropped instead: the visitor did not type it, and no code
    after this may hand it to PostgreSQL, which refuses NUL in text."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
            return _refuse(request)
        if any("\x00" in value for value in request.COOKIES.values()):
            request.COOKIES = {k: v for k, v in request.COOKIES.items() if "\x00" not in v}
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view, "accepts_nul_bytes", False) or not _body_has_nul(request):
            return None
        return _refuse(request)


def _refuse(request: HttpRequest) -> HttpResponse:
    message = _("The request contains a NUL character.")
    if wants_json(request) or (request.content_type or "").endswith("json"):
        return JsonResponse(error_body(400, "INVALID_ARGUMENT", message), status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class RequestOriginMiddleware:
    """Bind the request's client address and presented device id for the request's duration
    (``apps.core.http.current_origin``: risk control fills an event's ``ip`` and
    ``device_id`` from it when the caller gave none).

    A browser without a device cookie gets one with a response that is per visitor anyway
    (it sets a cookie already, e.g. the CSRF token of the sign-in form, or the user is signed
    in): the mall's anonymous pages stay cookie-free and cacheable. It counts from the next
    request; a client that keeps no cookies presents no device, rather than a new one each
    time."""

    COOKIE_MAX_AGE = 2 * 365 * 86400

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from apps.core.http import (
            DEVICE_COOKIE,
            Origin,
            client_ip,
            device_id,
            origin_bound,
        )

        device = device_id(request)
        with origin_bound(Origin(ip=client_ip(request) or "", device_id=device)):
            response = self.get_response(request)
        user = getattr(request, "user", None)
        per_visitor = bool(response.cookies) or bool(user is not None and user.is_authenticated)
        if not device and DEVICE_COOKIE not in request.COOKIES and per_visitor:
            response.set_cookie(
                DEVICE_COOKIE, secrets.token_urlsafe(18), max_age=self.COOKIE_MAX_AGE,
                httponly=True, samesite="Lax", secure=request.is_secure(),
            )  # fmt: skip
        return response
