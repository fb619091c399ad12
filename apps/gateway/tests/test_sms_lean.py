"""The lean path of ``POST /sms/v1/messages`` (``apps.gateway.api.lean``) and its group commit.

Every answer of the lean path must read exactly as the DRF view's (status, body, headers): each
case runs once on the platform's URLs (lean) and once with the DRF view mounted instead
(``drf_sms_urls``), each time for a new app in the same state. Then what only the lean path
has: signatures and replays, the rate limit and the quota exact under concurrent threads,
revocation seen by a process that still caches the credential, and accepted messages
committed (in shared batches, one broker message each) before the answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from apps.core.models import OutboxEvent
from apps.gateway import context, messaging, services
from apps.gateway.api import lean
from apps.gateway.group_commit import GroupCommit
from apps.gateway.models import PartnerSms
from apps.gateway.tests.support import GatewayTestApp, gateway_app_create, signed_headers
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = [pytest.mark.django_db(transaction=True)]

PATH = "/sms/v1/messages"
CORRELATOR = "corr-1"
# Headers whose values must agree between both paths (x-correlator is given, so fixed).
COMPARED = (
    "Content-Type", "Allow", "x-correlator", "Retry-After", "RateLimit-Limit",
    "RateLimit-Policy", "RateLimit-Reset", "Quota-Remaining", "Idempotent-Replayed",
)  # fmt: skip
VOLATILE = ("messageId", "batchId", "createdAt", "updatedAt")


def send(
    app: GatewayTestApp,
    payload: Any = None,
    *,
    raw: bytes | None = None,
    method: str = "POST",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    client_id: str | None = None,
    secret: str | None = None,
    date: int | None = None,
    nonce: str | None = None,
    signed: bool = True,
    client: Client | None = None,
) -> Any:
    body = raw if raw is not None else json.dumps(payload).encode()
    if method == "GET":
        body = b""
    sign = signed_headers(
        client_id=client_id or app.client_id, secret=secret or app.secret, method=method,
        target=PATH, body=body, date=date, nonce=nonce,
    )  # fmt: skip
    all_headers = {**(sign if signed else {}), "x-correlator": CORRELATOR, **(headers or {})}
    client = client or Client()
    if method == "GET":
        return client.get(PATH, headers=all_headers)
    return client.post(PATH, data=body, content_type=content_type, headers=all_headers)


def ok_body() -> dict[str, Any]:
    return {"to": [unique_msisdn()], "message": "hello"}


def _twice(app: GatewayTestApp, payload: Any, **kwargs: Any) -> Any:
    send(app, payload, **kwargs)
    return send(app, payload, **kwargs)


# name -> (gateway_app_create arguments, the call; the last response is compared)
Case = tuple[dict[str, Any], Callable[[GatewayTestApp], Any]]
FIXED = {"to": ["+8613800138000"], "message": "hello"}
CASES: dict[str, Case] = {
    "accepted": ({}, lambda app: send(app, FIXED)),
    "accepted_with_correlator_and_callback": (
        {"callback_urls": ["https://partner.example.com/cb"]},
        lambda app: send(
            app,
            {**FIXED, "clientCorrelator": "c-1", "callbackUrl": "https://partner.example.com/cb"},
        ),
    ),
    "no_signature": ({}, lambda app: send(app, FIXED, signed=False)),
    "bad_signature": ({}, lambda app: send(app, FIXED, secret="not-the-secret")),
    "stale_date": ({}, lambda app: send(app, FIXED, date=int(time.time()) - 1000)),
    "malformed_nonce": ({}, lambda app: send(app, FIXED, nonce="x")),
    "replayed_nonce": ({}, lambda app: _twice(app, FIXED, nonce="n" * 32)),
    "unknown_client": ({}, lambda app: send(app, FIXED, client_id="gw_nobody")),
    "no_subscription": ({"capabilities": ["sim-swap"]}, lambda app: send(app, FIXED)),
    "ip_not_allowed": ({"ip_allowlist": ["10.9.0.0/16"]}, lambda app: send(app, FIXED)),
    "bad_correlator": ({}, lambda app: send(app, FIXED, headers={"x-correlator": "a b"})),
    "rate_limited": ({"rate_per_second": 1}, lambda app: _twice(app, FIXED)),
    "quota_used_up": ({"quota_calls": 1}, lambda app: _twice(app, FIXED)),
    "invalid_json": ({}, lambda app: send(app, raw=b'{"to": [')),
    "not_an_object": ({}, lambda app: send(app, ["+8613800138000"])),
    "empty_body": ({}, lambda app: send(app, raw=b"")),
    "unknown_field": ({}, lambda app: send(app, {**FIXED, "sender": "x"})),
    "missing_to": ({}, lambda app: send(app, {"message": "hello"})),
    "empty_to": ({}, lambda app: send(app, {"to": [], "message": "hello"})),
    "number_twice": (
        {},
        lambda app: send(app, {"to": ["+8613800138000"] * 2, "message": "hi"}),
    ),
    "not_e164": ({}, lambda app: send(app, {"to": ["13800138000"], "message": "hi"})),
    "not_mobile": ({}, lambda app: send(app, {"to": ["+861062345678"], "message": "hi"})),
    "number_not_string": ({}, lambda app: send(app, {"to": [8613800138000], "message": "hi"})),
    "empty_message": ({}, lambda app: send(app, {**FIXED, "message": ""})),
    "message_too_long": ({}, lambda app: send(app, {**FIXED, "message": "x" * 1001})),
    "message_not_string": ({}, lambda app: send(app, {**FIXED, "message": 5})),
    "callback_not_registered": (
        {},
        lambda app: send(app, {**FIXED, "callbackUrl": "https://other.example.com/cb"}),
    ),
    "callback_not_url": ({}, lambda app: send(app, {**FIXED, "callbackUrl": "nope"})),
    "correlator_blank": ({}, lambda app: send(app, {**FIXED, "clientCorrelator": " "})),
    "text_content_type": ({}, lambda app: send(app, FIXED, content_type="text/plain")),
    "html_accepted": ({}, lambda app: send(app, FIXED, headers={"Accept": "text/html"})),
    "get_method": ({}, lambda app: send(app, method="GET")),
    "idempotent_replay": (
        {},
        lambda app: _twice(app, FIXED, headers={"Idempotency-Key": "k-1"}),
    ),
    "idempotent_other_body": (
        {},
        lambda app: (
            send(app, FIXED, headers={"Idempotency-Key": "k-2"}),
            send(app, {**FIXED, "message": "other"}, headers={"Idempotency-Key": "k-2"}),
        )[1],
    ),
    "correlator_replay": ({}, lambda app: _twice(app, {**FIXED, "clientCorrelator": "c-9"})),
}


def _shape(response: Any) -> tuple[int, Any, dict[str, str | None]]:
    try:
        body = response.json()
    except ValueError:
        body = response.content
    if isinstance(body, dict) and "messages" in body:
        body = {**body, "batchId": "*",
                "messages": [{**m, **dict.fromkeys(VOLATILE, "*")} for m in body["messages"]]}  # fmt: skip
    headers = {h: response.headers.get(h) for h in COMPARED}
    if headers["x-correlator"] != CORRELATOR:  # a new one for an invalid header: any UUID
        headers["x-correlator"] = str(type(uuid.UUID(headers["x-correlator"] or "")))
    # Seconds until a quota window ends depend on when each call ran (the two paths' calls may
    # fall on either side of a second): their presence is compared, not the count.
    for name in ("Retry-After", "RateLimit-Reset"):
        if headers.get(name, "") and str(headers[name]).isdigit() and int(str(headers[name])) > 60:
            headers[name] = "<seconds>"
    if headers.get("RateLimit-Policy"):
        headers["RateLimit-Policy"] = re.sub(
            r"w=\d{3,}", "w=<seconds>", str(headers["RateLimit-Policy"])
        )
    return response.status_code, body, headers


@pytest.fixture
def sandbox(carrier_sandbox: Any) -> Any:
    carrier_sandbox.put_subscriber("+8613800138000", status="active")
    return carrier_sandbox


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_answer_reads_the_same_on_the_lean_and_the_drf_path(
    case: str, settings: Any, sandbox: Any
) -> None:
    options, call = CASES[case]

    def run() -> tuple[Any, dict[str, int]]:
        context.context_forget_all()
        before = dict(lean.answered)
        response = call(gateway_app_create(**{"capabilities": ["sms"], **options}))
        return response, {k: lean.answered[k] - before[k] for k in before}

    on_lean, lean_paths = run()
    settings.ROOT_URLCONF = "apps.gateway.tests.drf_sms_urls"
    on_drf, drf_paths = run()

    assert drf_paths == {"lean": 0, "drf": 0}  # the DRF view mounted directly
    assert _shape(on_lean) == _shape(on_drf)
    shaped_like_a_send = case not in {
        "invalid_json", "not_an_object", "empty_body", "unknown_field", "missing_to", "empty_to",
        "number_twice", "not_e164", "not_mobile", "number_not_string", "empty_message",
        "message_too_long", "message_not_string", "callback_not_url", "correlator_blank",
        "text_content_type", "html_accepted", "get_method",
    }  # fmt: skip
    # Well-formed sends take the lean path; everything else is the DRF view's to refuse.
    assert lean_paths["drf"] == 0 if shaped_like_a_send else lean_paths["lean"] == 0


def test_the_lean_path_accepts_a_send_and_it_is_committed_before_the_answer(sandbox: Any) -> None:
    app = gateway_app_create(capabilities=["sms"])
    response = send(app, {"to": ["+8613800138000"], "message": "hello"})
    assert response.status_code == 201, response.content
    batch_id = response.json()["batchId"]
    # Another connection sees the rows at once: the answer waited for COMMIT.
    rows = _concurrently([lambda: list(PartnerSms.objects.filter(batch_id=batch_id))])[0]
    # queued, or already sent: the test's Celery is eager and submits on commit
    assert [(r.msisdn, r.status in ("queued", "sent")) for r in rows] == [("+8613800138000", True)]
    assert rows[0].carrier_message_id is not None
    assert response["RateLimit-Limit"] == "1000"


def test_a_revoked_credential_is_refused_on_the_next_call_by_a_process_still_caching_it(
    sandbox: Any,
) -> None:
    app = gateway_app_create(capabilities=["sms"])
    assert send(app, FIXED).status_code == 201
    cached = context.context_for_app(app.app_id)
    assert cached is not None and app.client_id in cached.credentials
    services.credential_revoke(credential_id=app.credential_id)
    # Another process still holds the old context: put it back in this process's cache.
    context._contexts[app.app_id] = cached
    context._app_of_client[app.client_id] = app.app_id

    refused = send(app, FIXED)

    assert refused.status_code == 401
    assert refused.json()["code"] == "UNAUTHENTICATED"


def _concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each thread's own database connection is
    closed after its call."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _signed_calls(app: GatewayTestApp, n: int) -> list[Callable[[], Any]]:
    bodies = [ok_body() for _ in range(n)]
    return [lambda b=b: send(app, b) for b in bodies]  # type: ignore[misc]


def test_the_quota_is_exact_under_concurrent_threads(sandbox: Any) -> None:
    app = gateway_app_create(capabilities=["sms"], quota_calls=5)
    responses = _concurrently(_signed_calls(app, 16))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 5 + [429] * 11
    assert PartnerSms.objects.filter(app_id=app.app_id).count() == 5


def test_the_rate_limit_is_exact_under_concurrent_threads(sandbox: Any) -> None:
    app = gateway_app_create(capabilities=["sms"], rate_per_second=4)
    started = time.monotonic()
    responses = _concurrently(_signed_calls(app, 16))
    elapsed = time.monotonic() - started
    accepted = sum(r.status_code == 201 for r in responses)
    assert {r.status_code for r in responses} <= {201, 429}
    assert PartnerSms.objects.filter(app_id=app.app_id).count() == accepted
    if elapsed < 1.0:  # all within one window: exactly the limit
        assert accepted == 4
    else:  # a slow machine spread them: never more than the limit per second
        assert 4 <= accepted <= 4 * (int(elapsed) + 1)
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["code"] == "TOO_MANY_REQUESTS"
    assert int(refused["Retry-After"]) >= 1


def test_concurrent_sends_share_batches_with_one_broker_message_each(sandbox: Any) -> None:
    app = gateway_app_create(capabilities=["sms"])
    tasks_before = OutboxEvent.objects.filter(payload__task__endswith="sms_submit_many_task")
    count_before = tasks_before.count()
    batches_before, items_before = messaging._accepted.batches, messaging._accepted.items

    responses = _concurrently(_signed_calls(app, 12))

    assert [r.status_code for r in responses] == [201] * 12
    batches = messaging._accepted.batches - batches_before
    assert messaging._accepted.items - items_before == 12
    assert 1 <= batches <= 12
    rows = PartnerSms.objects.filter(app_id=app.app_id)
    assert rows.count() == 12 and not rows.filter(carrier_message_id=None).exists()
    events = OutboxEvent.objects.filter(payload__task__endswith="sms_submit_many_task")
    assert events.count() - count_before == batches


def test_a_failed_batch_write_fails_every_call_of_the_batch_and_nothing_else() -> None:
    release = threading.Event()
    written: list[list[int]] = []

    def write(items: list[int]) -> list[int]:
        if not written:
            written.append(items)
            release.wait(5)  # the others queue up behind this first batch
            return [i * 10 for i in items]
        written.append(items)
        if 13 in items:
            raise RuntimeError("disk full")
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(write)
    results: dict[int, Any] = {}

    def call(i: int) -> None:
        try:
            results[i] = group.submit(i)
        except RuntimeError as exc:
            results[i] = str(exc)
        finally:
            connection.close()

    first = threading.Thread(target=call, args=(1,))
    first.start()
    while not written:
        time.sleep(0.001)
    others = [threading.Thread(target=call, args=(i,)) for i in (12, 13, 14)]
    for t in others:
        t.start()
    while len(group._queue) < 3:
        time.sleep(0.001)
    release.set()
    for t in [first, *others]:
        t.join(10)

    assert written[0] == [1] and sorted(written[1]) == [12, 13, 14]
    assert results[1] == 10
    assert results[12] == results[13] == results[14] == "disk full"
    assert group.batches == 2 and group.items == 4
