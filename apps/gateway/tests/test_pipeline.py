"""The rules every capability call obeys: limits, quota, strict bodies, correlators, idempotency."""

from __future__ import annotations

import pytest

from apps.core.models import IdempotencyRecord
from apps.core.redis import get_redis
from apps.gateway.tests.support import SignedClient, gateway_app_create
from apps.gateway.tests.views import PERFORMED

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.gateway.tests.urls")]

CHECK = "/test-sim-swap/v1/check"
SEND = "/test-sms/v1/send"
BODY = {"phoneNumber": "+8613800000000"}


@pytest.fixture(autouse=True)
def _no_performed():
    PERFORMED.clear()


# --- rate limit and quota ----------------------------------------------------------------


def test_rate_limit_refuses_with_429_and_headers():
    app = gateway_app_create(rate_per_second=3)
    client = SignedClient(app)
    answers = [client.post(CHECK, BODY) for _ in range(5)]
    statuses = [a.status_code for a in answers]
    # The five calls take well under a second on any machine this runs on.
    assert statuses == [200, 200, 200, 429, 429]
    assert [a["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    assert refused.json()["code"] == "TOO_MANY_REQUESTS"
    assert refused["Retry-After"] == "1"
    assert refused["RateLimit-Limit"] == "3"
    assert len(PERFORMED) == 3


def test_quota_exhaustion_gives_quota_exceeded_and_refusals_use_nothing():
    app = gateway_app_create(quota_calls=2, quota_period="day")
    client = SignedClient(app)
    first, second, third = (client.post(CHECK, BODY) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert first["Quota-Remaining"] == "1"
    assert second["Quota-Remaining"] == "0"
    assert third.json()["code"] == "QUOTA_EXCEEDED"
    assert 0 < int(third["Retry-After"]) <= 86400
    assert len(PERFORMED) == 2
    # The rate window holds only the two counted calls.
    keys = list(get_redis().scan_iter(f"gw:{{a{app.app_id}}}:r:*"))
    assert [get_redis().zcard(k) for k in keys] == [2]


def test_a_second_package_takes_over_when_the_first_is_used_up():
    from apps.gateway import services
    from apps.gateway.models import Package

    app = gateway_app_create(quota_calls=1)
    extra = Package.objects.create(
        code="extra", name="Extra", capabilities=["sim-swap"], quota_calls=1, rate_per_second=5
    )
    services.subscription_start(app_id=app.app_id, package_id=extra.pk)
    client = SignedClient(app)
    from apps.gateway.context import context_forget_all

    context_forget_all()  # the subscription's commit hook does not run in this test
    assert [client.post(CHECK, BODY).status_code for _ in range(3)] == [200, 200, 429]


# --- strict bodies and correlators ---------------------------------------------------------


def test_unknown_fields_are_refused_with_invalid_argument():
    app = gateway_app_create()
    response = SignedClient(app).post(
        CHECK, {**BODY, "extra": 1}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "INVALID_ARGUMENT",
        "message": "Unknown fields in the request: extra.",
    }
    assert PERFORMED == []


def test_invalid_values_and_non_objects_are_refused():
    app = gateway_app_create()
    client = SignedClient(app)
    bad = client.post(CHECK, {"phoneNumber": "+86", "maxAge": 0})
    assert bad.status_code == 400
    assert bad.json()["code"] == "INVALID_ARGUMENT"
    assert "maxAge" in bad.json()["details"]
    listed = client.post(CHECK, [BODY])
    assert listed.status_code == 400
    assert listed.json()["code"] == "INVALID_ARGUMENT"
    assert PERFORMED == []


def test_the_correlator_is_echoed_or_made():
    app = gateway_app_create()
    client = SignedClient(app)
    given = client.post(CHECK, BODY, headers={"x-correlator": "b4333c46-49c0-4f62-80d7"})
    assert given["x-correlator"] == "b4333c46-49c0-4f62-80d7"
    made = client.post(CHECK, BODY)
    assert len(made["x-correlator"]) == 36
    bad = client.post(CHECK, BODY, headers={"x-correlator": "not allowed spaces"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "INVALID_ARGUMENT"
    assert bad["x-correlator"] != "not allowed spaces"


def test_capability_errors_keep_their_code_and_the_camara_body():
    app = gateway_app_create()
    response = SignedClient(app).post(CHECK, {"phoneNumber": "+8613900000404"})
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "code": "IDENTIFIER_NOT_FOUND",
        "message": "Unknown phone number.",
    }


# --- idempotency -------------------------------------------------------------------------


def test_a_repeat_returns_the_first_result_without_performing_again():
    app = gateway_app_create(capabilities=["sms"])
    client = SignedClient(app)
    body = {"to": "+8613800000000", "text": "hi"}
    first = client.post(SEND, body, headers={"Idempotency-Key": "k-1"})
    again = client.post(SEND, body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert len(PERFORMED) == 1


def test_client_correlator_in_the_body_works_as_the_key():
    app = gateway_app_create(capabilities=["sms"])
    client = SignedClient(app)
    body = {"to": "+8613800000000", "text": "hi", "clientCorrelator": "cc-9"}
    first = client.post(SEND, body)
    again = client.post(SEND, body)
    assert again.json() == first.json()
    assert len(PERFORMED) == 1


def test_a_repeat_with_a_different_body_is_409_conflict():
    app = gateway_app_create(capabilities=["sms"])
    client = SignedClient(app)
    client.post(SEND, {"to": "+8613800000000", "text": "hi"}, headers={"Idempotency-Key": "k"})
    other = client.post(
        SEND, {"to": "+8613800000000", "text": "bye"}, headers={"Idempotency-Key": "k"}
    )
    assert other.status_code == 409
    assert other.json()["code"] == "CONFLICT"
    assert len(PERFORMED) == 1


def test_a_refusal_is_kept_and_an_unexpected_failure_gives_the_key_back():
    app = gateway_app_create(capabilities=["sms"])
    client = SignedClient(app)
    refused = {"to": "+8613800000000", "text": "refuse"}
    assert client.post(SEND, refused, headers={"Idempotency-Key": "r"}).status_code == 400
    replay = client.post(SEND, refused, headers={"Idempotency-Key": "r"})
    assert replay.status_code == 400
    assert replay.json()["code"] == "SMS.INVALID_TEXT"
    assert replay["Idempotent-Replayed"] == "true"
    client.client.raise_request_exception = False
    boom = client.post(
        SEND, {"to": "+8613800000000", "text": "boom"}, headers={"Idempotency-Key": "b"}
    )
    assert boom.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="b").exists()
    # The failure is metered like any other call.
    from apps.gateway import metering
    from apps.gateway.models import CallRecord

    metering.meter_flush()
    metering.meter_drain()
    assert CallRecord.objects.filter(status_code=500, error_code="INTERNAL").count() == 1


# --- Redis down --------------------------------------------------------------------------


@pytest.fixture
def redis_breaks(monkeypatch):
    """Redis refuses from the next call on (after the test has arranged what it needs)."""
    import redis as redis_lib

    from apps.core import redis as core_redis

    def broken():
        return redis_lib.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)

    def apply():
        core_redis.get_redis.cache_clear()
        monkeypatch.setattr("apps.gateway.limits.get_redis", broken)
        monkeypatch.setattr("apps.gateway.tokens.get_redis", broken)
        monkeypatch.setattr("apps.gateway.metering.get_redis", broken)
        monkeypatch.setattr("apps.gateway.context.get_redis", broken)

    return apply


def test_redis_down_refuses_writes_and_lets_reads_pass_with_an_alarm(redis_breaks, caplog):
    from apps.gateway.metrics import REDIS_FAILURES

    app = gateway_app_create(capabilities=["sim-swap", "sms"], quota_calls=1)
    client = SignedClient(app)
    before = REDIS_FAILURES._value.get()
    redis_breaks()
    write = client.post(SEND, {"to": "+8613800000000", "text": "hi"})
    assert write.status_code == 503
    assert write.json()["code"] == "UNAVAILABLE"
    read = client.post(CHECK, BODY)
    assert read.status_code == 200
    assert PERFORMED == [{"view": "check", **BODY}]
    assert REDIS_FAILURES._value.get() == before + 2
    assert any(
        r.levelname == "ERROR" and "Redis unreachable" in r.getMessage() for r in caplog.records
    )


def test_a_bearer_token_is_still_checked_with_redis_down(redis_breaks, client):
    from apps.gateway import tokens
    from apps.gateway.models import AccessToken
    from apps.gateway.tests.support import bearer_token

    app = gateway_app_create(capabilities=["sim-swap"])
    token = bearer_token(client_id=app.client_id, secret=app.secret, client=client)
    stored = AccessToken.objects.get()
    assert token not in stored.digest and len(stored.digest) == 64  # a hash, not the token
    tokens.forget_all()  # another process, which has not seen the token yet
    redis_breaks()
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.post(CHECK, BODY, content_type="application/json", headers=headers).status_code
        == 200
    )
    forged = {"Authorization": f"Bearer {token}x"}
    assert (
        client.post(CHECK, BODY, content_type="application/json", headers=forged).status_code == 401
    )


def test_an_admitted_call_needs_no_database_query_once_the_app_is_cached(
    django_assert_num_queries,
):
    app = gateway_app_create()
    client = SignedClient(app)
    assert client.post(CHECK, BODY).status_code == 200
    with django_assert_num_queries(0):
        assert client.post(CHECK, BODY).status_code == 200


def test_the_openapi_schema_describes_security_scope_and_headers():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="apps.gateway.tests.urls").get_schema(
        request=None, public=True
    )
    check = schema["paths"]["/test-sim-swap/v1/check"]["post"]
    assert check["security"] == [
        {"oauth2ClientCredentials": ["sim-swap:check"]},
        {"chHmacSignature": []},
    ]
    assert [p["name"] for p in check["parameters"]] == ["x-correlator"]
    assert "CheckIn" in check["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    send = schema["paths"]["/test-sms/v1/send"]["post"]
    assert {p["name"] for p in send["parameters"]} == {"x-correlator", "Idempotency-Key"}
    assert "SendOut" in str(send["responses"]["200"])
    schemes = schema["components"]["securitySchemes"]
    flow = schemes["oauth2ClientCredentials"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth2/token"
    assert "carrier-billing:payments:create" in flow["scopes"]
    assert schemes["chHmacSignature"]["name"] == "Authorization"
