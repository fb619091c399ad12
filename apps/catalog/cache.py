"""Whole-page caching of the mall for anonymous visitors, keyed by the catalog version.

Every catalog write bumps the version (``services.catalog_changed``), so a changed price is
never served for long (``pagecache`` says how long); scheduled shelf times pass without a
write, so pages are also re-rendered after ``PAGE_CACHE_SECONDS``. Cached pages carry no
per-visitor cookie: forms fetch their CSRF token when they need it (static/js/site.js,
``views.csrf``).

Most anonymous hits never reach Django: ``edge.PageCacheApp`` answers them in front of the
middleware. The decorator here marks which views' pages it may keep, renders them for it, and
serves the visitors it lets through (an anonymous visitor with a session, e.g. a guest cart)
from a copy of its own. A signed-in user's page is never cached, and is marked private.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from redis.exceptions import RedisError

from apps.catalog.pagecache import SHARED_PAGES, Page, cache_control, make_page, page_key

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]
# Set in the WSGI environ by the edge when it asks Django to render a page for its cache.
RENDER_FOR_EDGE = "carrierhub.render_page"
# Set on a response the edge may keep; the edge removes it before answering.
CACHEABLE_HEADER = "X-Page-Cacheable"
# Set per answer, never stored.
_PER_ANSWER = {"set-cookie", "content-length", "x-cache", "etag", "cache-control", "date"}


def _anonymous_get(request: HttpRequest) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and not request.user.is_authenticated
        and "messages" not in request.COOKIES
        and not getattr(request, "htmx", False)
    )


def storable_headers(status: int, headers: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The headers to keep with a page, or None if the response must not be cached."""
    if status != 200:
        return None
    kept = []
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            return None  # per visitor
        if lower not in _PER_ANSWER and lower != CACHEABLE_HEADER.lower():
            kept.append((name, value))
    return kept


def _page_of(response: HttpResponse, version: int) -> Page | None:
    if response.streaming or response.cookies:
        return None
    if hasattr(response, "render"):
        response.render()
    headers = storable_headers(response.status_code, list(response.items()))
    if headers is None:
        return None
    return make_page(version=version, headers=headers, body=response.content)


def _answer(request: HttpRequest, page: Page, state: str) -> HttpResponse:
    if request.headers.get("If-None-Match") == page.etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(page.body)
    for name, value in page.headers:
        response[name] = value
    response["ETag"] = page.etag
    response["Cache-Control"] = cache_control()
    response["X-Cache"] = state
    return response


def cached_for_anonymous(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _anonymous_get(request):
            response = view(request, *args, **kwargs)
            if request.user.is_authenticated:
                patch_cache_control(response, private=True)
            return response
        if request.META.get(RENDER_FOR_EDGE):
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming and not response.cookies:
                response[CACHEABLE_HEADER] = "1"
            return response

        rendered: list[HttpResponse] = []

        def render(version: int) -> tuple[HttpResponse, Page | None]:
            response = view(request, *args, **kwargs)
            rendered.append(response)
            return response, _page_of(response, version)

        # A key of its own: the edge's copies carry the headers of the whole middleware stack.
        key = "django|" + page_key(language=get_language(), full_path=request.get_full_path())
        try:
            served = SHARED_PAGES.serve(key, render)
        except (RedisError, OSError):
            # The shared cache (Redis) is down: pages fail open, rendered uncached.
            logger.warning("page cache unavailable; %s served uncached", request.path)
            return rendered[-1] if rendered else view(request, *args, **kwargs)
        if served.page is None:
            return served.response  # type: ignore[return-value]
        return _answer(request, served.page, served.state)

    wrapper.page_cacheable = True  # type: ignore[attr-defined]
    return wrapper
