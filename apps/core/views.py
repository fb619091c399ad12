"""Kernel pages: the health endpoint and the error pages."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.api import error_body
from apps.core.health import health_report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with every component's state, or 503 when any is down (for load balancers)."""
    healthy, checks = health_report()
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
    )


#: Paths whose clients are programs: their errors are the API's JSON body, whatever they
#: accept. Apps serving such paths outside /api/ register them (the gateway's CAMARA paths).
_JSON_PATH_PREFIXES: set[str] = {"/api/"}


def json_paths_register(*prefixes: str) -> None:
    """Answer errors under these path prefixes (each like ``"/sim-swap/"``) with JSON."""
    _JSON_PATH_PREFIXES.update(prefixes)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(
        tuple(_JSON_PATH_PREFIXES)
    ) or "application/json" in request.headers.get("Accept", "")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the API's error body for API paths, the site's page otherwise."""
    if wants_json(request):
        return JsonResponse(error_body(404, "NOT_FOUND", _("Not found.")), status=404)
    return render(request, "404.html", status=404)


#: Retry-After (seconds) when the database is unreachable: a restart or fail-over takes seconds.
DATABASE_RETRY_AFTER_SECONDS = 5


def _database_unavailable() -> bool:
    """Whether the request failed because the database could not be reached (or dropped the
    connection, or gave up the transaction): Django calls the 500 handler inside its
    ``except`` block, so the exception is at hand."""
    return isinstance(sys.exc_info()[1], OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: the API's error body for API paths; a page that needs no context otherwise.

    A database outage is a 503 ``UNAVAILABLE`` with ``Retry-After`` instead: the request may
    simply be repeated (every write is one transaction, and the keyed ones are idempotent)."""
    if _database_unavailable():
        response: HttpResponse
        if wants_json(request):
            message = _("A service this request needs is unavailable; try again later.")
            response = JsonResponse(error_body(503, "UNAVAILABLE", message), status=503)
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if wants_json(request):
        body = error_body(500, "INTERNAL", _("Something went wrong on our side; try again later."))
        return JsonResponse(body, status=500)
    return render(request, "500.html", status=500)
