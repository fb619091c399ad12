"""``GET /metrics``: the Prometheus scrape endpoint, behind a bearer token outside development."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.gateway.metrics import exposition


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Every worker's counters when PROMETHEUS_MULTIPROC_DIR is set (see docs/operations.md)."""
    expected = settings.METRICS_TOKEN
    if expected:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return HttpResponse(status=401)
    elif not settings.METRICS_OPEN:
        # No token configured: open only in development (DEBUG or ``make run``).
        return HttpResponse(status=401)
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
