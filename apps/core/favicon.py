"""The site icon, served at /favicon.ico by the platform (the sandbox has its own,
apps/sandbox/favicon.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# A signal-bars mark on the brand blue; an SVG, which every current browser takes as an icon.
ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#0071c5"/>'
    '<rect x="6" y="19" width="4" height="7" rx="1" fill="#fff"/>'
    '<rect x="12" y="14" width="4" height="12" rx="1" fill="#fff"/>'
    '<rect x="18" y="9" width="4" height="17" rx="1" fill="#fff"/>'
    '<rect x="24" y="5" width="4" height="21" rx="1" fill="#fff" opacity=".6"/></svg>'
)


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ICON_SVG, content_type="image/svg+xml")
