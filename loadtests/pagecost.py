"""What a cached page costs inside Django, without an HTTP server, and what would make it cheaper.

Used by ``loadtests.inprocess`` (``--only django``): the WSGI application is called straight, so
the figures are Django's own per-request work for a page-cache hit.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from typing import Any

from loadtests.cpu import ForeignCpu
from loadtests.stats import median, timed


def _db_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


def _wsgi_get(application: Any, path: str, cookie: str = "") -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }  # fmt: skip
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"], captured["headers"] = status, dict(headers)

    response = application(environ, start_response)
    try:
        body = b"".join(response)
    finally:
        close = getattr(response, "close", None)  # the page cache answers hits with a list
        if close is not None:
            close()
    return captured["status"], captured["headers"], body


def bench_django(*, paths: list[str], requests: int) -> dict[str, Any]:
    """Django's own cost per cached-page request, called straight on the WSGI application.

    Timed in ten batches; the fastest batch is the least disturbed by anything else running.
    """
    from config.wsgi import application

    out: dict[str, Any] = {"requests": requests, "paths": {}}
    batch = max(1, requests // 10)
    for path in paths:
        for _ in range(2):  # the second one is a cache hit
            status, headers, body = _wsgi_get(application, path)
        batches = []
        with ForeignCpu(_db_name()) as foreign:
            for _ in range(10):
                started = time.perf_counter()
                for _ in range(batch):
                    _wsgi_get(application, path)
                batches.append((time.perf_counter() - started) / batch)
        best, typical = min(batches), median(batches)
        out["paths"][path] = {
            "status": status, "x_cache": headers.get("X-Cache", ""), "bytes": len(body),
            "us_per_request": round(typical * 1e6, 1), "us_per_request_best_batch": round(best * 1e6, 1),
            "requests_per_s_one_core": round(1 / typical), "foreign_cores": foreign.cores,
        }  # fmt: skip
        print(f"  GET {path:<16} {status} X-Cache={headers.get('X-Cache', '-'):<5} {typical * 1e6:6.0f} µs "
              f"per request (best batch {best * 1e6:.0f}) = {1 / typical:,.0f}/s per core"
              f"{foreign.note}", flush=True)  # fmt: skip
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        _wsgi_get(application, paths[0])
    profiler.disable()
    out["profile_path"] = paths[0]
    for order, count in (("tottime", 25), ("cumulative", 45)):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(count)
        out[f"profile_{order}"] = text.getvalue()
    return out


def django_what_ifs(*, path: str, requests: int) -> dict[str, Any]:
    """What a cached page hit would cost with the changes docs/performance.md suggests.

    Variants run interleaved, batch by batch, so that other load on the machine hits them alike:
    today; a returning visitor who sends the csrftoken cookie (no new CSRF secret, no
    Set-Cookie); Django's Redis cache reusing one client per connection pool instead of
    building a redis.Redis for every call (patched in this process only); both.
    """
    import redis
    from django.core.cache import cache
    from django.core.cache.backends.redis import RedisCacheClient

    from config.wsgi import application

    original = RedisCacheClient.get_client

    def reused(self: Any, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_bench_clients", {})
        if id(pool) not in clients:
            clients[id(pool)] = self._client(connection_pool=pool)
        return clients[id(pool)]

    cookie = "csrftoken=" + "a" * 32
    on_redis = isinstance(getattr(cache, "_cache", None), RedisCacheClient)
    variants = {"today": ("", False), "returning visitor (csrftoken cookie)": (cookie, False)}
    if on_redis:
        variants |= {"Redis client reused": ("", True), "both": (cookie, True)}
    times: dict[str, list[float]] = {name: [] for name in variants}
    batch = max(1, requests // 10)
    with ForeignCpu(_db_name()) as foreign:
        for _ in range(10):
            for name, (cookie_header, reuse) in variants.items():
                RedisCacheClient.get_client = reused if reuse else original  # type: ignore[method-assign]
                try:
                    _wsgi_get(application, path, cookie_header)
                    started = time.perf_counter()
                    for _ in range(batch):
                        _wsgi_get(application, path, cookie_header)
                    times[name].append((time.perf_counter() - started) / batch)
                finally:
                    RedisCacheClient.get_client = original  # type: ignore[method-assign]
    out: dict[str, Any] = {"path": path, "foreign_cores": foreign.cores, "variants": {}}
    for name, values in times.items():
        out["variants"][name] = {"us_per_request": round(median(values) * 1e6, 1),
                                 "us_best_batch": round(min(values) * 1e6, 1)}  # fmt: skip
        print(f"  {name:<40} {median(values) * 1e6:6.0f} µs per request (best batch "
              f"{min(values) * 1e6:.0f}){foreign.note}", flush=True)  # fmt: skip
    if not on_redis:
        print("  (the cache is not Redis here: no Redis what-ifs)", flush=True)
        return out
    # The parts: one Redis GET round trip, and building the client Django builds per call.
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    pool = client.connection_pool
    parts = {
        "redis GET round trip (one client, loopback)": lambda: client.get("bench:none"),
        "redis.Redis(connection_pool=...) construction": lambda: redis.Redis(connection_pool=pool),
        "django cache.get() (today: client built per call)": lambda: cache.get("bench:none"),
    }
    out["parts_us"] = {}
    for name, fn in parts.items():
        out["parts_us"][name] = round(median(timed(fn, 2000)) * 1e6, 1)
        print(f"  {name:<52} {out['parts_us'][name]:6.1f} µs", flush=True)
    return out
