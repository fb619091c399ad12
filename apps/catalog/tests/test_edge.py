"""The page cache in front of Django: hits without Django, validators, invalidation under writers."""

from __future__ import annotations

import threading
import time
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection

from apps.catalog import services
from apps.catalog.edge import PageCacheApp
from apps.catalog.models import Sku
from apps.catalog.pagecache import VERSION_POLL, PageCache
from apps.catalog.tests.factories import small_catalog


class CountingDjango:
    """Django's WSGI application, counting the requests that reach it."""

    def __init__(self) -> None:
        self.app = get_wsgi_application()
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            self.calls += 1
        return self.app(environ, start_response)


def get(app, path, **headers):
    environ = {"PATH_INFO": path.split("?")[0], "QUERY_STRING": path.partition("?")[2],
               "HTTP_HOST": "testserver", "SERVER_NAME": "testserver", **headers}  # fmt: skip
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)
        return lambda data: None

    result = app(environ, start_response)
    answer["body"] = b"".join(result).decode()
    if hasattr(result, "close"):
        result.close()
    return answer


@pytest.fixture
def edge():
    # As Django's test client does: a request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    cache.clear()
    django = CountingDjango()
    yield PageCacheApp(django, pages=PageCache(local=True, poll=VERSION_POLL)), django
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_a_hit_never_reaches_django_and_carries_validators(edge, django_assert_num_queries):
    app, django = edge
    items = small_catalog()
    url = f"/p/{items['pack'].pk}/"
    first = get(app, url)
    assert (first["status"], first["headers"]["X-Cache"]) == (200, "miss")
    assert "Set-Cookie" not in first["headers"]
    assert "X-Page-Cacheable" not in first["headers"]
    with django_assert_num_queries(0):
        second = get(app, url)
    assert (second["status"], second["headers"]["X-Cache"], django.calls) == (200, "hit", 1)
    assert second["body"] == first["body"]
    assert second["headers"]["Cache-Control"].startswith("public, max-age=0, s-maxage=")
    assert second["headers"]["X-Frame-Options"] == "DENY"  # Django's middleware headers kept
    etag = second["headers"]["ETag"]
    not_modified = get(app, url, HTTP_IF_NONE_MATCH=etag)
    assert (not_modified["status"], not_modified["body"], django.calls) == (304, "", 1)


@pytest.mark.django_db
def test_sessions_messages_htmx_and_other_paths_go_to_django(edge):
    app, django = edge
    small_catalog()
    get(app, "/")
    assert django.calls == 1
    get(app, "/", HTTP_COOKIE="sessionid=abc")
    get(app, "/", HTTP_COOKIE="messages=abc")
    get(app, "/", HTTP_HX_REQUEST="true")
    get(app, "/healthz")
    get(app, "/healthz")
    assert django.calls == 6
    assert get(app, "/", HTTP_COOKIE="csrftoken=x")["headers"]["X-Cache"] == "hit"
    assert django.calls == 6


@pytest.mark.django_db
def test_each_language_has_its_own_copy(edge):
    app, django = edge
    small_catalog()
    chinese = get(app, "/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    english = get(app, "/", HTTP_COOKIE="django_language=en")
    assert chinese["headers"]["Content-Language"] == "zh-hans"
    assert english["headers"]["Content-Language"] == "en"
    assert get(app, "/", HTTP_ACCEPT_LANGUAGE="en")["headers"]["X-Cache"] == "hit"
    assert django.calls == 2


@pytest.mark.django_db(transaction=True)  # the visitors' threads must see the catalog
def test_a_stale_page_is_rendered_once_in_the_background_while_all_get_the_old_copy(edge):
    app, django = edge
    items = small_catalog()
    url = f"/p/{items['pack'].pk}/"
    get(app, url)
    cache.incr("catalog:version") if cache.get("catalog:version") else cache.set(
        "catalog:version", 2, None
    )
    app.pages.forget_version()
    start = threading.Barrier(16)
    states = []

    def visit():
        start.wait()
        states.append(get(app, url)["headers"]["X-Cache"])
        connection.close()

    threads = [threading.Thread(target=visit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app.pages.wait_for_refreshes()
    assert django.calls == 2  # the first render and the one re-render, in the background
    assert set(states) <= {"stale", "hit"}
    assert get(app, url)["headers"]["X-Cache"] == "hit"


@pytest.mark.django_db(transaction=True)
def test_catalog_changes_show_within_a_second_under_concurrent_writers_and_readers(edge):
    app, _ = edge
    items = small_catalog()
    products = [items["pack"], items["local"], items["vip"]]
    urls = [f"/p/{p.pk}/" for p in products]
    for url in urls:
        get(app, url)
    writes = 5
    done = threading.Event()
    errors = []

    def writer(product_id, base):
        try:
            for i in range(1, writes + 1):
                Sku.objects.filter(product_id=product_id).update(
                    price_fen=base + i, list_price_fen=base + i
                )
                services.product_refresh(product_id=product_id)  # bumps the version on commit
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    def reader():
        while not done.is_set():
            for url in urls:
                assert get(app, url)["status"] == 200
        connection.close()

    readers = [threading.Thread(target=reader) for _ in range(3)]
    writers = [threading.Thread(target=writer, args=(p.pk, 1000 * (n + 1)))
               for n, p in enumerate(products)]  # fmt: skip
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    written = time.monotonic()
    expected = {url: f"¥{(1000 * (n + 1) + writes) / 100:.2f}" for n, url in enumerate(urls)}
    seen = {}
    while time.monotonic() - written < 1.0 and len(seen) < len(urls):
        for url in urls:
            if expected[url] in get(app, url)["body"]:
                seen.setdefault(url, time.monotonic() - written)
    done.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert set(seen) == set(urls), f"not visible within 1 s: {set(urls) - set(seen)}"


@pytest.mark.django_db
def test_the_search_api_is_answered_in_front_of_django_too(edge):
    app, django = edge
    small_catalog()
    first = get(app, "/api/v1/products/?q=%E6%B5%81%E9%87%8F")
    again = get(app, "/api/v1/products/?q=%E6%B5%81%E9%87%8F")
    assert (first["status"], first["headers"]["X-Cache"]) == (200, "miss")
    assert (again["headers"]["X-Cache"], again["body"], django.calls) == ("hit", first["body"], 1)
    assert again["headers"]["Content-Type"] == "application/json"
    bad = get(app, "/api/v1/products/?page=0")
    assert bad["status"] == 400
    assert "X-Cache" not in bad["headers"]
