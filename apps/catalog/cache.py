"""Whole-page caching of the mall for anonymous visitors, keyed by the catalog version.

Every catalog write bumps the version (``services.catalog_changed``), so a changed price is
never served from cache; scheduled shelf times pass without a write, so entries also expire
after ``PAGE_CACHE_SECONDS``. Cached pages carry no CSRF token: forms take it from the cookie
(static/js/site.js), and every response here makes sure that cookie is set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from apps.catalog.selectors import catalog_version

View = Callable[..., HttpResponse]


def cached_for_anonymous(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        get_token(request)  # the CSRF cookie, for the forms on a cached page
        if (
            request.method != "GET"
            or request.user.is_authenticated
            or "messages" in request.COOKIES
            or getattr(request, "htmx", False)
        ):
            return view(request, *args, **kwargs)
        raw = f"{catalog_version()}|{get_language()}|{request.get_full_path()}"
        key = "page:" + hashlib.sha256(raw.encode()).hexdigest()
        hit = cache.get(key)
        if hit is not None:
            content, content_type = hit
            response = HttpResponse(content, content_type=content_type)
            response["X-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            if hasattr(response, "render"):
                response.render()
            cache.set(
                key, (response.content, response["Content-Type"]), settings.PAGE_CACHE_SECONDS
            )
            response["X-Cache"] = "miss"
        return response

    return wrapper
