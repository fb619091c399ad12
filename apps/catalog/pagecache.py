"""The anonymous page cache: a per-process copy of rendered pages over a shared copy in Redis.

A page is keyed by language and full path, and carries the catalog version it was rendered
at. Each process reads the current version from the cache at most every ``VERSION_POLL``
seconds, so a catalog change is seen within that time plus one render. A page rendered at an
older version, or more than ``PAGE_CACHE_SECONDS`` ago (scheduled shelf times pass without a
write), is stale: it is still served, and one background thread re-renders it (one per
cluster, under a short lock in Redis); so no expiry makes every request in flight render,
and no request waits for a re-render. Only a page never rendered is rendered while its
request waits (and the others asking for it wait for that render).

Thread-safety: the per-process dictionaries are only read and assigned whole (atomic under
the GIL); ``_renderers`` is guarded by a lock so that one thread per process re-renders a key.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connections

from apps.catalog.services import CATALOG_VERSION_KEY

VERSION_POLL = 0.25  # seconds between reads of the catalog version, per process
LOCK_SECONDS = 10  # a re-render that takes longer lets another process try
RETRY_SECONDS = 0.05  # a process that lost the lock asks again after this
COLD_WAIT = 2.0  # a request with no copy at all waits this long for another's render
MAX_LOCAL_PAGES = 2_000

R = TypeVar("R")
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered 200 response, without cookies, as stored and served."""

    version: int
    rendered_at: float  # time.time()
    headers: tuple[tuple[str, str], ...]  # as rendered, minus those the server sets per hit
    body: bytes
    etag: str


@dataclass(frozen=True, slots=True)
class Served(Generic[R]):
    page: Page | None  # the page to answer with; None: answer with ``response``
    response: R | None  # a fresh response that was not cacheable
    state: str  # "hit", "stale", "miss"


def make_page(*, version: int, headers: list[tuple[str, str]], body: bytes) -> Page:
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    return Page(version, time.time(), tuple(headers), body, etag)


def cache_control() -> str:
    """What a CDN or a micro-cache in front may do with a cached page."""
    shared = settings.PAGE_CACHE_SHARED_SECONDS
    return f"public, max-age=0, s-maxage={shared}, stale-while-revalidate={shared * 5}"


class PageCache:
    """Pages by key; ``local``: keep a per-process copy, reading the version every ``poll`` s."""

    def __init__(self, *, local: bool, poll: float) -> None:
        self.local = local
        self.poll = poll
        self._pages: dict[str, Page] = {}
        self._version = 1
        self._version_read_at = float("-inf")
        self._renderers: set[str] = set()
        self._retry_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def version(self) -> int:
        """The catalog version, read from the shared cache at most every VERSION_POLL s."""
        now = time.monotonic()
        if now - self._version_read_at >= self.poll:
            self._version = int(cache.get(CATALOG_VERSION_KEY) or 1)
            self._version_read_at = now
        return self._version

    def forget_version(self) -> None:
        """Read the version again on the next request (tests, and after a local bump)."""
        self._version_read_at = float("-inf")

    def clear(self) -> None:
        self._pages.clear()
        self._retry_at.clear()
        self.forget_version()

    def fresh(self, page: Page | None, version: int) -> bool:
        return (
            page is not None
            and page.version == version
            and time.time() - page.rendered_at < settings.PAGE_CACHE_SECONDS
        )

    def lookup(self, key: str) -> Page | None:
        """The local copy if it is fresh: the whole cost of a hit."""
        page = self._pages.get(key)
        return page if self.fresh(page, self.version()) else None

    def serve(self, key: str, render: Callable[[int], tuple[R, Page | None]]) -> Served[R]:
        """Answer ``key`` from a copy, or by ``render(version)`` in one request at a time.

        ``render`` returns the framework's response and the page to store (None when the
        response may not be cached: not a 200, a cookie, a signed-in user...).
        """
        version = self.version()
        page = self._pages.get(key) if self.local else cache.get(self._shared_key(key))
        if self.fresh(page, version):
            return Served(page, None, "hit")
        if not self._claim(key):  # another thread of this process renders it
            if page is not None:
                return Served(page, None, "stale")
            return self._wait_for(key, version, render)
        if page is not None and self.local:
            # Stale: answer with it now, re-render in the background, so that no request
            # (and no worker with a single thread) waits for the render.
            thread = threading.Thread(
                target=self._refresh, args=(key, version, render), daemon=True,
                name="page-refresh",
            )  # fmt: skip
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()
            return Served(page, None, "stale")
        try:
            served = self._fetch_or_render(key, version, render)
            if served is None:  # another process renders it
                if page is not None:
                    return Served(page, None, "stale")
                return self._wait_for(key, version, render)
            return served
        finally:
            with self._lock:
                self._renderers.discard(key)

    def _fetch_or_render(
        self, key: str, version: int, render: Callable[[int], tuple[R, Page | None]]
    ) -> Served[R] | None:
        """The shared copy if fresh, else a render under the cluster-wide lock; None: locked."""
        shared = cache.get(self._shared_key(key)) if self.local else None
        if self.fresh(shared, version):
            self._keep(key, shared)  # type: ignore[arg-type]
            return Served(shared, None, "hit")
        if not cache.add(self._lock_key(key), 1, LOCK_SECONDS):
            self._retry_at[key] = time.monotonic() + RETRY_SECONDS
            return None
        try:
            return self._render(key, version, render)
        finally:
            cache.delete(self._lock_key(key))

    def _refresh(
        self, key: str, version: int, render: Callable[[int], tuple[R, Page | None]]
    ) -> None:
        """A background re-render of a stale page (its own database connection, closed after)."""
        try:
            self._fetch_or_render(key, version, render)
        except Exception:
            logger.exception("re-rendering %s failed; the stale copy is served meanwhile", key)
            self._retry_at[key] = time.monotonic() + 1.0
        finally:
            with self._lock:
                self._renderers.discard(key)
            connections.close_all()

    def wait_for_refreshes(self) -> None:
        """Join the background re-renders started so far (tests, and a clean shutdown)."""
        while self._threads:
            self._threads.pop().join()

    def _claim(self, key: str) -> bool:
        """This thread re-renders a stale ``key`` unless another does, or just lost the lock."""
        if time.monotonic() < self._retry_at.get(key, 0.0):
            return False
        with self._lock:
            if key in self._renderers:
                return False
            self._renderers.add(key)
            return True

    def _wait_for(
        self, key: str, version: int, render: Callable[[int], tuple[R, Page | None]]
    ) -> Served[R]:
        """No copy at all and someone else renders it: wait for theirs, then render anyway."""
        deadline = time.monotonic() + COLD_WAIT
        while time.monotonic() < deadline:
            time.sleep(0.02)
            page = self._pages.get(key)
            if not self.fresh(page, version):
                page = cache.get(self._shared_key(key))
            if self.fresh(page, version):
                self._keep(key, page)  # type: ignore[arg-type]
                return Served(page, None, "hit")
        return self._render(key, version, render)

    def _render(
        self, key: str, version: int, render: Callable[[int], tuple[R, Page | None]]
    ) -> Served[R]:
        response, page = render(version)
        if page is None:
            return Served(None, response, "miss")
        timeout = settings.PAGE_CACHE_SECONDS + LOCK_SECONDS + 60
        cache.set(self._shared_key(key), page, timeout)
        self._keep(key, page)
        self._retry_at.pop(key, None)
        return Served(page, response, "miss")

    def _keep(self, key: str, page: Page) -> None:
        if not self.local:
            return
        if len(self._pages) >= MAX_LOCAL_PAGES and key not in self._pages:
            # Oldest first (dicts keep insertion order): a cheap bound, not an LRU.
            for old in list(self._pages)[: MAX_LOCAL_PAGES // 10]:
                self._pages.pop(old, None)
        self._pages[key] = page

    @staticmethod
    def _shared_key(key: str) -> str:
        return "page:" + hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def _lock_key(key: str) -> str:
        return "page-render:" + hashlib.sha256(key.encode()).hexdigest()


# In front of Django (edge.py): a copy per process, the version read a few times a second.
PAGES = PageCache(local=True, poll=VERSION_POLL)
# Inside Django (cache.py), for the visitors the edge lets through: the shared copy only.
SHARED_PAGES = PageCache(local=False, poll=0)


def page_key(*, language: str, full_path: str) -> str:
    return f"{language}|{full_path}"
