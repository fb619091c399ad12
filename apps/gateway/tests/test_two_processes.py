"""Limits hold across processes: two gunicorn servers share one Redis and one database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from apps.core.redis import get_redis
from apps.gateway.tests.support import gateway_app_create, signed_headers

REPO_ROOT = Path(__file__).resolve().parents[3]
CHECK = "/test-sim-swap/v1/check"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a real Redis to share"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def two_servers(django_db_setup, tmp_path_factory):
    """Two gunicorn processes on the test database and this worker's Redis database."""
    db = connection.settings_dict
    database_url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "apps.gateway.tests.twoproc_settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        # Both servers count into one directory, as the workers of one host do.
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("prometheus")),
        "METRICS_OPEN": "1",
    }
    processes, urls = [], []
    for index in range(2):
        port = _free_port()
        log = (tmp_path_factory.mktemp("gunicorn") / f"{index}.log").open("wb")
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
        command += ["--bind", f"127.0.0.1:{port}", "--workers", "1"]
        command += ["--worker-class", "gthread", "--threads", "8"]
        processes.append(
            subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        for url in urls:
            while True:
                try:
                    httpx.get(f"{url}/metrics", timeout=1.0)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def _fire(urls, app, count):
    """``count`` signed calls, alternating between the servers, 16 at a time."""

    def call(index):
        body = json.dumps({"phoneNumber": "+8613800000000"}).encode()
        headers = signed_headers(
            client_id=app.client_id, secret=app.secret, method="POST", target=CHECK, body=body
        )
        headers["Content-Type"] = "application/json"
        response = httpx.post(urls[index % 2] + CHECK, content=body, headers=headers, timeout=20)
        return response.status_code, response.json().get("code"), time.monotonic()

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(call, range(count)))


def test_quota_is_exact_across_two_processes(two_servers):
    app = gateway_app_create(quota_calls=25, rate_per_second=10_000)
    answers = _fire(two_servers, app, 60)
    assert Counter((status, code) for status, code, _ in answers) == {
        (200, None): 25,
        (429, "QUOTA_EXCEEDED"): 35,
    }
    keys = list(get_redis().scan_iter(f"gw:{{a{app.app_id}}}:q:*"))
    assert [int(get_redis().get(k)) for k in keys] == [25]


def test_rate_limit_holds_across_two_processes(two_servers):
    rate = 8
    app = gateway_app_create(rate_per_second=rate)
    started = time.monotonic()
    answers = _fire(two_servers, app, 80)
    elapsed = time.monotonic() - started
    accepted = sorted(at for status, _, at in answers if status == 200)
    refused = [code for status, code, _ in answers if status != 200]
    assert set(refused) == {"TOO_MANY_REQUESTS"}
    # At least one full window's worth got through, and never more than the limit per
    # window: the answers of any 9 accepted calls span more than a second (a little slack
    # for the time between the server counting a call and the client seeing the answer).
    assert len(accepted) >= rate
    assert len(accepted) <= rate * (int(elapsed) + 1)
    window = list(get_redis().scan_iter(f"gw:{{a{app.app_id}}}:r:*"))
    assert len(window) == 1
    scores = sorted(score for _, score in get_redis().zrange(window[0], 0, -1, withscores=True))
    for first, last in zip(scores, scores[rate:], strict=False):
        assert last - first >= 1000  # ms: never rate+1 counted calls within one window


def _calls_counted(url):
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('gateway_calls_total{capability="sim-swap"')
    )


def test_metrics_sum_every_process(two_servers):
    app = gateway_app_create(rate_per_second=10_000)
    before = [_calls_counted(url) for url in two_servers]
    assert before[0] == before[1]
    answers = _fire(two_servers, app, 30)
    assert {status for status, _, _ in answers} == {200}
    # Either server's scrape counts the calls both answered.
    assert [_calls_counted(url) for url in two_servers] == [before[0] + 30] * 2
