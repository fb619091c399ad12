"""Sponsored data (流量统付) through the gateway: a partner gives a subscriber a data pack, paid
from its enterprise prepaid account, exactly once per requestId, within its monthly limits."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from django.db import connection

from apps.carrier.models import SmsMessage
from apps.enterprise import billing
from apps.enterprise.models import SponsoredGrant
from apps.enterprise.tests.bulk_support import data_packs
from apps.gateway.tests.capability_support import wait_until
from apps.gateway.tests.support import (
    GatewayTestApp,
    SignedClient,
    bearer_token,
    gateway_app_create,
)
from apps.ledger.models import Journal
from apps.ledger.selectors import ledger_check
from tests.fixtures.sandbox import _sandbox_database_url
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)

GRANTS = "/sponsored-data/v1/grants"


def _partner(topup_fen: int = 10_000, **kwargs: Any) -> GatewayTestApp:
    app = gateway_app_create(capabilities=["sponsored-data"], **kwargs)
    if topup_fen:
        billing.enterprise_topup(enterprise_id=app.owner_id, amount_fen=topup_fen,
                                 reference=f"BANK-SP-{app.owner_id}", actor_id=None)  # fmt: skip
    return app


def _packs_applied(msisdn: str) -> list[tuple[str, int]]:
    """The data packs the sandbox applied to ``msisdn`` under a sponsored grant's key."""
    with psycopg.connect(_sandbox_database_url()) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, volume_mb FROM sandbox_provisioning "
            "WHERE msisdn = %s AND kind = 'data_pack' AND idempotency_key LIKE 'sponsored:%%' "
            "ORDER BY id",
            [msisdn],
        ).fetchall()
    return [(str(key), int(mb)) for key, mb in rows]


def _journals(app: GatewayTestApp) -> list[str]:
    """The kinds of the journals that moved the partner's prepaid money, oldest first."""
    return list(
        Journal.objects.filter(lines__account__code=billing.prepaid_code(app.owner_id))
        .union(Journal.objects.filter(lines__account__code=billing.hold_code(app.owner_id)))
        .order_by("id")
        .values_list("kind", flat=True)
    )


def _grant(msisdn: str, request_id: str = "gift-1", product: str = "DATA-1G") -> dict[str, str]:
    return {"requestId": request_id, "phoneNumber": msisdn, "productCode": product}


@pytest.fixture
def subscriber(carrier_sandbox) -> str:
    data_packs()
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    return msisdn


def test_a_grant_is_delivered_charged_once_and_the_subscriber_is_texted(
    subscriber, carrier_sandbox
):
    app = _partner()
    client = SignedClient(app)

    answer = client.post(GRANTS, _grant(subscriber))

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["requestId"], body["phoneNumber"], body["productCode"]) == (
        "gift-1",
        subscriber,
        "DATA-1G",
    )
    assert (body["volumeMb"], body["validityDays"], body["priceFen"]) == (1024, 30, 500)
    # The worker path (on commit, eager in tests) has delivered it: the read shows it.
    detail = client.get(f"{GRANTS}/gift-1")
    assert (detail.status_code, detail.json()["status"]) == (200, "delivered")
    grant = SponsoredGrant.objects.get()
    assert [mb for _, mb in _packs_applied(subscriber)] == [1024]
    assert _packs_applied(subscriber)[0][0] == grant.idempotency_key == body["grantId"]
    balance = billing.prepaid_balance(enterprise_id=app.owner_id)
    assert (balance.available_fen, balance.held_fen) == (10_000 - 500, 0)
    assert _journals(app) == ["enterprise_topup", "sponsored_hold", "sponsored_charge"]
    assert ledger_check() == []
    # The subscriber is told who gave what.
    [sms] = SmsMessage.objects.filter(msisdn=subscriber)
    assert "1024MB" in sms.preview and f"Test Co {app.owner_id}" in sms.preview
    assert wait_until(lambda: len(carrier_sandbox.messages(subscriber)) == 1)


def test_a_replay_returns_the_first_answer_and_another_body_is_409(subscriber):
    other = unique_msisdn()
    app = _partner()
    client = SignedClient(app)

    first = client.post(GRANTS, _grant(subscriber))
    replay = client.post(GRANTS, _grant(subscriber))
    # A new Idempotency-Key header does not make the same requestId a new grant.
    rekeyed = client.post(GRANTS, _grant(subscriber), headers={"Idempotency-Key": "k-2"})
    conflict = client.post(GRANTS, _grant(other))
    conflict_rekeyed = client.post(
        GRANTS, _grant(subscriber, product="DATA-500M"), headers={"Idempotency-Key": "k-3"}
    )

    assert first.status_code == replay.status_code == rekeyed.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert rekeyed.json()["grantId"] == first.json()["grantId"]
    assert (conflict.status_code, conflict.json()["code"]) == (409, "CONFLICT")
    assert (conflict_rekeyed.status_code, conflict_rekeyed.json()["code"]) == (409, "CONFLICT")
    assert SponsoredGrant.objects.count() == 1
    assert len(_packs_applied(subscriber)) == 1
    assert _journals(app) == ["enterprise_topup", "sponsored_hold", "sponsored_charge"]
    assert billing.prepaid_balance(enterprise_id=app.owner_id).available_fen == 10_000 - 500


def test_concurrent_replays_on_threads_grant_once(subscriber):
    app = _partner()
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    answers: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        try:
            client = SignedClient(app)
            # Half repeat the same call; half carry their own Idempotency-Key, so only the
            # grant's uniqueness per requestId stands between them and a second pack.
            headers = {"Idempotency-Key": f"thread-{n}"} if n % 2 else {}
            barrier.wait(timeout=10)
            response = client.post(GRANTS, _grant(subscriber), headers=headers)
            with lock:
                answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == threads_n
    granted = [body for status, body in answers if status == 201]
    # A repeat that meets the first call still running is told so (409); none is a new grant.
    assert all(status in (201, 409) for status, _ in answers), answers
    assert all(body["code"] == "CONFLICT" for status, body in answers if status == 409)
    assert len(granted) >= threads_n // 2
    assert len({body["grantId"] for body in granted}) == 1
    assert SponsoredGrant.objects.count() == 1
    assert len(_packs_applied(subscriber)) == 1
    assert _journals(app) == ["enterprise_topup", "sponsored_hold", "sponsored_charge"]
    assert billing.prepaid_balance(enterprise_id=app.owner_id).available_fen == 10_000 - 500
    assert SmsMessage.objects.filter(msisdn=subscriber).count() == 1
    assert ledger_check() == []


def test_a_grant_beyond_the_balance_is_refused_and_nothing_is_applied(subscriber):
    app = _partner(topup_fen=400)
    client = SignedClient(app)

    refused = client.post(GRANTS, _grant(subscriber))

    assert refused.status_code == 403
    assert refused.json()["code"] == "SPONSORED_DATA.INSUFFICIENT_BALANCE"
    assert refused.json()["details"] == {"neededFen": 500, "availableFen": 400}
    assert SponsoredGrant.objects.count() == 0
    assert _journals(app) == ["enterprise_topup"]
    assert _packs_applied(subscriber) == []
    assert not SmsMessage.objects.filter(msisdn=subscriber).exists()
    # The refusal is not kept with the requestId: after a top-up the same id grants.
    billing.enterprise_topup(enterprise_id=app.owner_id, amount_fen=100,
                             reference=f"BANK-SP2-{app.owner_id}", actor_id=None)  # fmt: skip
    assert client.post(GRANTS, _grant(subscriber)).status_code == 201
    assert billing.prepaid_balance(enterprise_id=app.owner_id).available_fen == 0
    assert ledger_check() == []


def test_unknown_product_and_numbers_not_ours_are_refused_and_nothing_is_applied(
    subscriber, carrier_sandbox
):
    app = _partner()
    client = SignedClient(app)
    unknown_own = unique_msisdn()  # a China Mobile segment, but no such line

    unknown_pack = client.post(GRANTS, _grant(subscriber, "a", product="DATA-99G"))
    other_operator = client.post(GRANTS, _grant("+8613012345678", "b"))
    no_line = client.post(GRANTS, _grant(unknown_own, "c"))
    not_e164 = client.post(GRANTS, _grant("13800138000", "d"))
    foreign = client.post(GRANTS, _grant("+447911123456", "e"))  # a UK mobile

    assert (unknown_pack.status_code, unknown_pack.json()["code"]) == (
        422,
        "SPONSORED_DATA.UNKNOWN_PRODUCT",
    )
    assert (other_operator.status_code, other_operator.json()["code"]) == (
        422,
        "SERVICE_NOT_APPLICABLE",
    )
    assert (no_line.status_code, no_line.json()["code"]) == (404, "IDENTIFIER_NOT_FOUND")
    assert (not_e164.status_code, not_e164.json()["code"]) == (400, "INVALID_ARGUMENT")
    assert (foreign.status_code, foreign.json()["code"]) == (422, "SERVICE_NOT_APPLICABLE")
    assert SponsoredGrant.objects.count() == 0
    assert _journals(app) == ["enterprise_topup"]
    assert _packs_applied(subscriber) == [] and _packs_applied(unknown_own) == []


def test_monthly_limits_per_subscriber_and_per_partner(subscriber, carrier_sandbox, settings):
    settings.SPONSORED_DATA_MONTHLY_GRANTS_PER_SUBSCRIBER = 2
    settings.SPONSORED_DATA_MONTHLY_FEN_PER_PARTNER = 1_300
    second = unique_msisdn()
    carrier_sandbox.put_subscriber(second, status="active")
    app = _partner()
    client = SignedClient(app)

    first_two = [client.post(GRANTS, _grant(subscriber, f"s-{n}", "DATA-500M")) for n in (1, 2)]
    third = client.post(GRANTS, _grant(subscriber, "s-3", "DATA-500M"))
    other_number = client.post(GRANTS, _grant(second, "o-1", "DATA-500M"))  # 900 fen spent
    over_budget = client.post(GRANTS, _grant(second, "o-2", "DATA-1G"))  # 1,400 > 1,300
    within_budget = client.post(GRANTS, _grant(second, "o-3", "DATA-500M"))  # 1,200

    assert [r.status_code for r in first_two] == [201, 201]
    assert (third.status_code, third.json()["code"]) == (
        429,
        "SPONSORED_DATA.SUBSCRIBER_MONTHLY_LIMIT_EXCEEDED",
    )
    assert other_number.status_code == 201
    assert (over_budget.status_code, over_budget.json()["code"]) == (
        429,
        "SPONSORED_DATA.PARTNER_MONTHLY_LIMIT_EXCEEDED",
    )
    assert within_budget.status_code == 201
    assert SponsoredGrant.objects.filter(status="delivered").count() == 4
    assert billing.prepaid_balance(enterprise_id=app.owner_id).available_fen == 10_000 - 1_200
    # Another partner has its own limits.
    assert (
        SignedClient(_partner()).post(GRANTS, _grant(subscriber, "s-1", "DATA-500M")).status_code
        == 201
    )


def test_the_scope_and_the_subscription_are_required(subscriber):
    app = _partner()
    read_only = bearer_token(
        client_id=app.client_id, secret=app.secret, scope="sponsored-data:grants:read"
    )
    writer = bearer_token(
        client_id=app.client_id, secret=app.secret, scope="sponsored-data:grants:create"
    )
    from django.test import Client

    def post(token: str, request_id: str) -> Any:
        return Client().post(GRANTS, data=_grant(subscriber, request_id),
                             content_type="application/json",
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip

    refused = post(read_only, "t-1")
    granted = post(writer, "t-2")
    not_subscribed = SignedClient(gateway_app_create(capabilities=["sms"])).post(
        GRANTS, _grant(subscriber, "t-3")
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "PERMISSION_DENIED")
    assert granted.status_code == 201
    assert (not_subscribed.status_code, not_subscribed.json()["code"]) == (
        403,
        "PERMISSION_DENIED",
    )
    assert list(SponsoredGrant.objects.values_list("request_id", flat=True)) == ["t-2"]


def test_a_pack_the_carrier_refuses_fails_and_its_price_is_released(carrier_sandbox):
    data_packs()
    suspended = unique_msisdn()
    carrier_sandbox.put_subscriber(suspended, status="suspended")
    app = _partner()
    client = SignedClient(app)

    answer = client.post(GRANTS, _grant(suspended))

    assert answer.status_code == 201
    detail = client.get(f"{GRANTS}/gift-1").json()
    assert (detail["status"], detail["errorCode"]) == ("failed", "SUBSCRIBER_NOT_ACTIVE")
    assert _journals(app) == ["enterprise_topup", "sponsored_hold", "sponsored_release"]
    balance = billing.prepaid_balance(enterprise_id=app.owner_id)
    assert (balance.available_fen, balance.held_fen) == (10_000, 0)
    assert not SmsMessage.objects.filter(msisdn=suspended).exists()
    assert client.get(f"{GRANTS}/nope").json()["code"] == "NOT_FOUND"
    assert ledger_check() == []
