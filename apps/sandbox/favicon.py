"""The sandbox's own site icon at /favicon.ico (an orange mark, so that its tabs are told
apart from the platform's; the sandbox imports no platform app)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#e67e22"/>'
    '<circle cx="16" cy="16" r="7" fill="none" stroke="#fff" stroke-width="3"/></svg>'
)


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ICON_SVG, content_type="image/svg+xml")
