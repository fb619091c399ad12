"""Free trials asked for by the CP's server: the subscriber's texted code, idempotency by the
CP's order id, one trial per subscriber and product ever, the conversion to paid at its end."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.content import selectors, services
from apps.content.errors import TrialAlreadyUsed
from apps.content.models import Charge, Subscription, Trial
from apps.content.services import subscriptions, trials
from apps.content.tests.support import approved_cp, operator
from apps.content.tests.test_api import CpClient
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trial_setup(carrier_sandbox):
    cp = approved_cp()
    product = services.product_create(cp_id=cp.pk, actor_id=None, kind="video", title="视频包月", description="",
                                      price_fen=1500, billing_mode="monthly", billing_code="TV-1", trial_days=7)  # fmt: skip
    services.product_review(product_id=product.pk, decision="approve", actor_id=operator().pk)
    key = services.cp_key_issue(cp_id=cp.pk, actor_id=None)
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    return cp, product, CpClient(key.key_id, key.secret), msisdn


def _texted_code(sandbox, msisdn: str) -> str:
    match = re.search(r"(\d{6})", sandbox.messages(msisdn)[-1]["text"])
    assert match is not None
    return match.group(1)


def test_a_cp_starts_a_trial_the_subscriber_confirms_and_it_converts_to_paid(
    carrier_sandbox, trial_setup
):
    cp, product, client, msisdn = trial_setup
    point = services.price_point_add(cp_id=cp.pk, product_id=product.pk, actor_id=None, label="连续包月",
                                     price_fen=1200, billing_code="TV-2")  # fmt: skip
    services.price_point_review(price_point_id=point.pk, approve=True, actor_id=operator().pk)
    body = {
        "product_id": product.pk,
        "billing_code": "TV-2",
        "phone_number": msisdn,
        "cp_order_id": "T-1",
    }
    created = client.post("/api/v1/content/trials/", body)
    assert created.status_code == 201, created.content
    trial = created.json()
    assert (trial["status"], trial["price_point_id"], trial["subscription_id"]) == (
        "pending",
        point.pk,
        None,
    )
    assert client.post("/api/v1/content/trials/", body).json()["trial_id"] == trial["trial_id"]
    assert Trial.objects.count() == 1 and len(carrier_sandbox.messages(msisdn)) == 1  # one code
    url = f"/api/v1/content/trials/{trial['trial_id']}/confirm/"
    code = _texted_code(carrier_sandbox, msisdn)
    wrong = client.post(url, {"code": "000000" if code != "000000" else "111111"})
    assert (wrong.status_code, wrong.json()["code"]) == (400, "TRIAL_CODE_INVALID")
    assert Subscription.objects.count() == 0

    started = client.post(url, {"code": code})

    assert (started.status_code, started.json()["status"]) == (200, "started")
    sub = Subscription.objects.get(pk=started.json()["subscription_id"])
    assert (sub.status, sub.price_point_id, sub.period_end - sub.period_start) == (
        "trialing", point.pk, timedelta(days=7),
    )  # fmt: skip
    assert selectors.entitled(user_id=sub.user_id, product_id=product.pk)
    assert client.post(url, {"code": code}).json()["status"] == "started"  # idempotent
    assert Charge.objects.count() == 0  # nothing billed during the trial
    # The renewal job converts it to paid at its end, at the trial's price point.
    assert subscriptions.subscriptions_renew_due(now=sub.period_end)["paid"] == 1
    sub.refresh_from_db()
    charge = Charge.objects.get(subscription_id=sub.pk)
    assert (sub.status, charge.amount_fen, charge.price_point_id) == ("active", 1200, point.pk)


def test_a_second_trial_of_the_product_is_refused_with_a_code(carrier_sandbox, trial_setup):
    _cp, product, client, msisdn = trial_setup
    first = client.post("/api/v1/content/trials/",
                        {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "T-1"}).json()  # fmt: skip
    client.post(
        f"/api/v1/content/trials/{first['trial_id']}/confirm/",
        {"code": _texted_code(carrier_sandbox, msisdn)},
    )
    again = client.post("/api/v1/content/trials/",
                        {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "T-2"})  # fmt: skip
    assert (again.status_code, again.json()["code"]) == (409, "TRIAL_ALREADY_USED")
    # Even after the subscription is cancelled: once ever.
    subscriptions.subscription_cancel(subscription_id=Subscription.objects.get().pk)
    later = client.post("/api/v1/content/trials/",
                        {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "T-3"})  # fmt: skip
    assert (later.status_code, later.json()["code"]) == (409, "TRIAL_ALREADY_USED")
    assert Trial.objects.count() == 1 and Subscription.objects.count() == 1


def test_expired_codes_too_many_attempts_and_bad_requests_are_refused(carrier_sandbox, trial_setup):
    cp, product, client, msisdn = trial_setup
    trial, code = trials.trial_request(
        cp_id=cp.pk, product_id=product.pk, phone_number=msisdn, cp_order_id="E-1"
    )
    late = timezone.now() + trials.CODE_TTL + timedelta(seconds=1)
    with pytest.raises(Exception) as expired:  # noqa: PT011 - the code is checked
        trials.trial_confirm(cp_id=cp.pk, trial_id=trial.pk, code=code, now=late)
    assert expired.value.code == "TRIAL_CODE_EXPIRED"
    assert Trial.objects.get(pk=trial.pk).status == "failed"

    other, _code = trials.trial_request(
        cp_id=cp.pk, product_id=product.pk, phone_number=msisdn, cp_order_id="E-2"
    )
    url = f"/api/v1/content/trials/{other.pk}/confirm/"
    answers = [
        client.post(url, {"code": "999999"}).json()["code"] for _ in range(trials.MAX_ATTEMPTS)
    ]
    assert answers == ["TRIAL_CODE_INVALID"] * (trials.MAX_ATTEMPTS - 1) + [
        "TRIAL_CODE_ATTEMPTS_EXCEEDED"
    ]
    assert client.post(url, {"code": _code}).status_code == 429  # the right code is too late now
    assert Subscription.objects.count() == 0

    no_trial = services.product_create(cp_id=cp.pk, actor_id=None, kind="music", title="无试用", description="",
                                       price_fen=800, billing_mode="monthly", billing_code="TV-9")  # fmt: skip
    services.product_review(product_id=no_trial.pk, decision="approve", actor_id=operator().pk)
    theirs = approved_cp()
    bad = {
        "no_trial": {"product_id": no_trial.pk, "phone_number": msisdn, "cp_order_id": "B-1"},
        "unknown_number": {"product_id": product.pk, "phone_number": "+8613912345675", "cp_order_id": "B-2"},
        "unknown_point": {"product_id": product.pk, "billing_code": "NOPE", "phone_number": msisdn,
                          "cp_order_id": "B-3"},
    }  # fmt: skip
    got = {
        name: client.post("/api/v1/content/trials/", body).json()["code"]
        for name, body in bad.items()
    }
    assert got == {"no_trial": "TRIAL_NOT_OFFERED", "unknown_number": "IDENTIFIER_NOT_FOUND",
                   "unknown_point": "PRICE_POINT_NOT_FOUND"}  # fmt: skip
    key = services.cp_key_issue(cp_id=theirs.pk, actor_id=None)
    foreign = CpClient(key.key_id, key.secret).post(
        "/api/v1/content/trials/",
        {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "B-4"},
    )
    assert (foreign.status_code, foreign.json()["code"]) == (404, "PRODUCT_NOT_FOUND")
    assert Trial.objects.count() == 2


def test_two_trials_confirmed_at_once_start_one(carrier_sandbox, trial_setup):
    cp, product, _client, msisdn = trial_setup
    asked = [
        trials.trial_request(
            cp_id=cp.pk, product_id=product.pk, phone_number=msisdn, cp_order_id=f"C-{n}"
        )
        for n in (1, 2)
    ]
    barrier, outcomes = threading.Barrier(2), []

    def confirm(trial_id: int, code: str) -> None:
        try:
            barrier.wait()
            trials.trial_confirm(cp_id=cp.pk, trial_id=trial_id, code=code)
            outcomes.append("started")
        except TrialAlreadyUsed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(t.pk, code)) for t, code in asked]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "started"]
    assert Subscription.objects.count() == 1
    assert Trial.objects.filter(status="started").count() == 1
