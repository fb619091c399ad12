"""The page cache in front of Django: anonymous hits answered before middleware and routing.

``config.wsgi`` wraps Django's application in ``PageCacheApp``. For a ``GET`` of a path whose
view is ``cached_for_anonymous``, from a visitor without a session or a pending message and
not from htmx, it answers from ``pagecache.PAGES`` (a per-process copy checked against the
catalog version a few times a second), with an ETag (304 on ``If-None-Match``) and
``Cache-Control: public, s-maxage`` so that a CDN or a micro-cache in front can hold it.
Everything else, and the one re-render of a stale page, goes to Django unchanged; Django
decides (``CACHEABLE_HEADER``) whether what it rendered may be kept.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import translation

from apps.catalog.cache import CACHEABLE_HEADER, RENDER_FOR_EDGE, storable_headers
from apps.catalog.pagecache import (
    PAGES,
    Page,
    PageCache,
    Served,
    cache_control,
    make_page,
    page_key,
)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_MEMO_LIMIT = 10_000
logger = logging.getLogger(__name__)


class PageCacheApp:
    def __init__(self, app: WSGIApp, *, pages: PageCache = PAGES) -> None:
        self.app = app
        self.pages = pages
        self._cacheable: dict[str, bool] = {}
        self._languages: dict[tuple[str, str], str] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or settings.PAGE_CACHE_SECONDS <= 0:
            return self.app(environ, start_response)
        path = environ.get("PATH_INFO", "/")
        if not self._is_cacheable(path) or "HTTP_HX_REQUEST" in environ:
            return self.app(environ, start_response)
        language_cookie = ""
        raw_cookies = environ.get("HTTP_COOKIE")
        if raw_cookies:
            cookies = SimpleCookie()
            try:
                cookies.load(raw_cookies)
            except Exception:  # a malformed header: let Django deal with it
                return self.app(environ, start_response)
            if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
                return self.app(environ, start_response)
            morsel = cookies.get(settings.LANGUAGE_COOKIE_NAME)
            language_cookie = morsel.value if morsel else ""
        language = self._language(language_cookie, environ.get("HTTP_ACCEPT_LANGUAGE", ""))
        query = environ.get("QUERY_STRING", "")
        key = page_key(language=language, full_path=f"{path}?{query}" if query else path)
        try:
            page = self.pages.lookup(key)
        except Exception:  # the shared cache is down: Django answers
            logger.exception("page cache unavailable")
            return self.app(environ, start_response)
        if page is not None:
            return self._answer(environ, start_response, page, "hit")
        rendered: list[Any] = []

        def render(version: int) -> tuple[None, Page | None]:
            status, headers, body = self._render(environ)
            rendered.append((status, headers, body))
            if not any(k.lower() == CACHEABLE_HEADER.lower() for k, _ in headers):
                return None, None
            kept = storable_headers(int(status.split(" ", 1)[0]), headers)
            if kept is None:
                return None, None
            return None, make_page(version=version, headers=kept, body=body)

        try:
            served = self.pages.serve(key, render)
        except Exception:
            logger.exception("page cache unavailable")
            if not rendered:
                return self.app(environ, start_response)
            served = Served(None, None, "miss")
        if served.page is not None:
            return self._answer(environ, start_response, served.page, served.state)
        status, headers, body = rendered[-1]
        start_response(status, [(k, v) for k, v in headers if k != CACHEABLE_HEADER])
        return [body]

    def _render(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        """Django's whole answer, collected (a page is small)."""
        captured: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured[:] = [status, headers]
            return lambda data: None

        # A copy without the request's body stream: a re-render may run after the answer.
        environ = {**environ, RENDER_FOR_EDGE: True, "wsgi.input": io.BytesIO(b""),
                   "CONTENT_LENGTH": "0"}  # fmt: skip
        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django's request_finished: connections returned, and so on
        return captured[0], captured[1], body

    def _answer(
        self, environ: dict[str, Any], start_response: StartResponse, page: Page, state: str
    ) -> Iterable[bytes]:
        headers = [*page.headers, ("ETag", page.etag), ("Cache-Control", cache_control()),
                   ("X-Cache", state)]  # fmt: skip
        if environ.get("HTTP_IF_NONE_MATCH") == page.etag:
            start_response("304 Not Modified", headers)
            return []
        headers.append(("Content-Length", str(len(page.body))))
        start_response("200 OK", headers)
        return [page.body]

    def _is_cacheable(self, path: str) -> bool:
        """Whether ``path`` routes to a ``cached_for_anonymous`` view (memoised per path)."""
        known = self._cacheable.get(path)
        if known is None:
            try:
                match = resolve(path.encode("latin-1").decode("utf-8", "replace"))
                known = bool(getattr(match.func, "page_cacheable", False))
            except (Resolver404, UnicodeEncodeError):
                known = False
            if len(self._cacheable) >= _MEMO_LIMIT:
                self._cacheable.clear()
            self._cacheable[path] = known
        return known

    def _language(self, cookie: str, accept: str) -> str:
        """The language LocaleMiddleware would choose for this cookie and header (memoised)."""
        memo = (cookie, accept)
        language = self._languages.get(memo)
        if language is None:
            request = SimpleNamespace(
                COOKIES={settings.LANGUAGE_COOKIE_NAME: cookie} if cookie else {},
                META={"HTTP_ACCEPT_LANGUAGE": accept},
                path_info="/",
            )
            language = translation.get_language_from_request(request)  # type: ignore[arg-type]
            if len(self._languages) >= _MEMO_LIMIT:
                self._languages.clear()
            self._languages[memo] = language
        return language
