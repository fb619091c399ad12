"""Monthly subscriptions: start, renewal exactly once per period (also under concurrent beat
runs, real threads), dunning, cancel, free trial, plan changes with proration."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from apps.content import selectors, services
from apps.content.models import Charge, Subscription
from apps.content.services import subscriptions as subs
from apps.content.services import trials
from apps.content.tests.support import approved_cp, product_on_sale
from apps.ledger.selectors import account_balance
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)


def _balance(sandbox, msisdn: str) -> int:
    return httpx.get(
        f"{sandbox.url}/carrier/v1/subscribers/{msisdn}", headers={"X-Api-Key": sandbox.api_key}
    ).json()["balance_fen"]


def _subscribed(sandbox, *, price: int = 1500, balance: int = 10_000):
    cp = approved_cp(share_bp=7000)
    product = product_on_sale(cp, price_fen=price, mode="monthly", kind="video")
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=balance)
    charge = services.charge_create(
        cp_id=cp.pk, product_id=product.pk, phone_number=msisdn, cp_order_id="S-1"
    )
    code = re.search(r"验证码(\d{6})", sandbox.messages(msisdn)[0]["text"]).group(1)  # type: ignore[union-attr]
    services.charge_confirm(charge_id=charge.pk, code=code)
    return cp, product, msisdn, Subscription.objects.get(product=product)


def test_a_paid_monthly_charge_starts_a_subscription_renewed_once_per_period(carrier_sandbox):
    cp, product, msisdn, sub = _subscribed(carrier_sandbox)
    assert (sub.status, sub.period_end - sub.period_start) == ("active", subs.PERIOD)
    assert selectors.entitled(user_id=sub.user_id, product_id=product.pk)
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1500
    due = sub.period_end + timedelta(seconds=1)
    assert subs.subscriptions_renew_due(now=due)["paid"] == 1
    assert subs.subscriptions_renew_due(now=due)["paid"] == 0  # the same period again: nothing
    sub.refresh_from_db()
    assert (sub.status, sub.period_start) == ("active", due - timedelta(seconds=1))
    assert selectors.entitled(
        user_id=sub.user_id, product_id=product.pk, now=due + timedelta(days=20)
    )
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 3000
    assert account_balance(code=f"cp:{cp.pk}:payable") == -2100
    assert (
        carrier_sandbox.messages(msisdn)[0]["text"].count("验证码") == 1
    )  # a renewal texts no code


def test_concurrent_beat_runs_charge_a_period_exactly_once(carrier_sandbox):
    _cp, _product, msisdn, sub = _subscribed(carrier_sandbox)
    due = sub.period_end + timedelta(seconds=1)
    barrier = threading.Barrier(3)
    results: list[dict[str, int]] = []

    def beat() -> None:
        try:
            barrier.wait()
            results.append(subs.subscriptions_renew_due(now=due))
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["paid"] for r in results) == 1
    assert Charge.objects.filter(channel="subscription", status="succeeded").count() == 1
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 3000


def test_dunning_tries_three_times_over_a_week_then_suspends_then_cancels(carrier_sandbox):
    _cp, product, msisdn, sub = _subscribed(carrier_sandbox, balance=1500)  # nothing left after
    end = sub.period_end
    assert subs.subscriptions_renew_due(now=end + timedelta(seconds=1))["failed"] == 1
    sub.refresh_from_db()
    assert (sub.status, sub.failures, sub.next_try_at) == ("past_due", 1, end + timedelta(days=3))
    assert subs.subscriptions_renew_due(now=end + timedelta(days=1))["failed"] == 0  # not yet due
    assert subs.subscriptions_renew_due(now=end + timedelta(days=3))["failed"] == 1
    assert subs.subscriptions_renew_due(now=end + timedelta(days=7))["failed"] == 1
    sub.refresh_from_db()
    assert (sub.status, sub.failures, sub.next_try_at) == ("suspended", 3, None)
    assert not selectors.entitled(
        user_id=sub.user_id, product_id=product.pk, now=end + timedelta(days=7)
    )
    later = end + timedelta(days=7) + subs.CANCEL_AFTER + timedelta(seconds=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        assert subs.subscriptions_renew_due(now=later)["cancelled"] == 1
    sub.refresh_from_db()
    assert sub.status == "cancelled"
    assert Charge.objects.filter(channel="subscription", status="succeeded").count() == 0
    assert _balance(carrier_sandbox, msisdn) == 0


def test_cancel_keeps_access_to_the_period_end_and_stops_renewals(carrier_sandbox):
    _cp, product, msisdn, sub = _subscribed(carrier_sandbox)
    subs.subscription_cancel(subscription_id=sub.pk, user_id=sub.user_id)
    assert selectors.entitled(
        user_id=sub.user_id, product_id=product.pk, now=sub.period_end - timedelta(hours=1)
    )
    assert not selectors.entitled(
        user_id=sub.user_id, product_id=product.pk, now=sub.period_end + timedelta(hours=1)
    )
    assert subs.subscriptions_renew_due(now=sub.period_end + timedelta(days=1)) == {
        "paid": 0,
        "failed": 0,
        "skipped": 0,
        "cancelled": 0,
        "interrupted": 0,
    }
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1500


def test_a_free_trial_gives_access_now_and_charges_at_its_end(carrier_sandbox):
    cp = approved_cp()
    product = services.product_create(cp_id=cp.pk, actor_id=None, kind="music", title="音乐包月", description="",
                                      price_fen=800, billing_mode="monthly", billing_code="M1", trial_days=7)  # fmt: skip
    services.product_review(
        product_id=product.pk, decision="approve", actor_id=cp.members.get().user_id
    )
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=5000)
    from apps.accounts.services import user_ensure_for_phone

    user_id = user_ensure_for_phone(phone=msisdn)
    sub = trials.subscription_start_trial(user_id=user_id, msisdn=msisdn, product_id=product.pk)
    assert sub.status == "trialing" and selectors.entitled(user_id=user_id, product_id=product.pk)
    assert _balance(carrier_sandbox, msisdn) == 5000
    assert subs.subscriptions_renew_due(now=sub.period_end)["paid"] == 1
    sub.refresh_from_db()
    assert sub.status == "active" and _balance(carrier_sandbox, msisdn) == 4200


@pytest.mark.parametrize(
    ("old", "new", "days_left", "expected"),
    [
        (1500, 3000, 15, 750),
        (1500, 3000, 30, 1500),
        (1500, 3000, 0, 0),
        (3000, 1500, 20, 0),
        (1000, 1001, 15, 1),
    ],
)
def test_proration_charges_the_difference_for_the_days_left_rounded_half_up(
    old, new, days_left, expected
):
    start = datetime(2026, 12, 1, tzinfo=timezone.get_current_timezone())
    end = start + subs.PERIOD
    now = end - timedelta(days=days_left)
    assert (
        subs.proration_fen(
            old_price_fen=old, new_price_fen=new, period_start=start, period_end=end, now=now
        )
        == expected
    )


def test_an_upgrade_is_charged_prorated_now_and_a_downgrade_waits_for_the_next_period(
    carrier_sandbox,
):
    cp, _product, msisdn, sub = _subscribed(carrier_sandbox, price=1500)
    premium = product_on_sale(cp, price_fen=3000, mode="monthly", kind="video")
    basic = product_on_sale(cp, price_fen=900, mode="monthly", kind="video")
    halfway = sub.period_start + subs.PERIOD / 2
    assert (
        subs.subscription_change_plan(subscription_id=sub.pk, product_id=premium.pk, now=halfway)
        == 750
    )
    sub.refresh_from_db()
    assert sub.product_id == premium.pk and _balance(carrier_sandbox, msisdn) == 10_000 - 1500 - 750
    assert (
        subs.subscription_change_plan(subscription_id=sub.pk, product_id=basic.pk, now=halfway) == 0
    )
    sub.refresh_from_db()
    assert (sub.product_id, sub.next_product_id) == (premium.pk, basic.pk)
    assert subs.subscriptions_renew_due(now=sub.period_end)["paid"] == 1
    sub.refresh_from_db()
    assert (sub.product_id, sub.next_product_id) == (basic.pk, None)
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1500 - 750 - 900


def test_a_renewal_whose_worker_died_is_tried_again_through_dunning(carrier_sandbox):
    from apps.content.models import Renewal
    from apps.payments.models import PaymentIntent

    _cp, product, msisdn, sub = _subscribed(carrier_sandbox)
    due = sub.period_end + timedelta(seconds=1)
    lost = subs._claim(sub.pk, due)  # the worker claimed the period, then died before the carrier
    assert lost is not None
    assert (
        subs.subscriptions_renew_due(now=due)["paid"] == 0
    )  # still "charging": nobody else charges
    Renewal.objects.filter(charge_id=lost.pk).update(
        updated_at=timezone.now() - subs.INTERRUPTED_AFTER - timedelta(minutes=1)
    )

    first = subs.subscriptions_renew_due(now=due)
    second = subs.subscriptions_renew_due(now=due)

    assert (first["interrupted"], second["interrupted"]) == (1, 0)
    sub.refresh_from_db()
    assert (sub.status, sub.failures, sub.next_try_at) == (
        "past_due",
        1,
        sub.period_end + timedelta(days=3),
    )
    assert Charge.objects.get(pk=lost.pk).status == "failed"
    assert not PaymentIntent.objects.filter(reference=lost.pk).exists()
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 1500  # nothing billed for it
    # The next try of the period charges it once.
    assert subs.subscriptions_renew_due(now=sub.period_end + timedelta(days=3))["paid"] == 1
    assert _balance(carrier_sandbox, msisdn) == 10_000 - 3000
    assert selectors.entitled(
        user_id=sub.user_id, product_id=product.pk, now=due + timedelta(days=10)
    )


def test_an_interrupted_renewal_whose_payment_is_still_open_is_left_to_payments(carrier_sandbox):
    from apps.content.models import Renewal

    _cp, _product, _msisdn, sub = _subscribed(carrier_sandbox)
    due = sub.period_end + timedelta(seconds=1)
    lost = subs._claim(sub.pk, due)
    assert lost is not None
    # The worker reached the carrier's prepare, then died before confirming.
    from apps.payments import services as payments

    payments.intent_start(
        purpose="content", reference=lost.pk, user_id=lost.user_id, method="carrier_billing", channel="",
        amount_fen=lost.amount_fen, subject="t", client_ip="", idempotency_key=f"content:{lost.pk}:carrier_billing",
        expires_at=timezone.now() + timedelta(minutes=15), return_url="", recurring=True,
    )  # fmt: skip
    Renewal.objects.filter(charge_id=lost.pk).update(
        updated_at=timezone.now() - subs.INTERRUPTED_AFTER - timedelta(minutes=1)
    )

    assert subs.subscriptions_renew_due(now=due)["interrupted"] == 0
    assert Charge.objects.get(pk=lost.pk).status == "pending"
    sub.refresh_from_db()
    assert (sub.status, sub.failures) == ("active", 0)


def test_the_subscriber_changes_plan_on_the_content_page(carrier_sandbox, client):
    from apps.accounts.models import User

    cp, product, msisdn, sub = _subscribed(carrier_sandbox, price=1500)
    premium = product_on_sale(cp, price_fen=3000, mode="monthly", kind="video")
    basic = product_on_sale(cp, price_fen=900, mode="monthly", kind="video")
    product_on_sale(approved_cp(), price_fen=800, mode="monthly", kind="video")  # another CP's
    client.force_login(User.objects.get(pk=sub.user_id))

    page = client.get(f"/my/content/{product.pk}/").content.decode()
    assert 'data-testid="plan-change"' in page
    assert f'value="{premium.pk}"' in page and f'value="{basic.pk}"' in page
    form = page[page.index('data-testid="plan-change"') :].split("</form>")[0]
    assert form.count("<option") == 2  # the CP's two other monthly products only
    upgrade = client.post(
        f"/my/content/{product.pk}/plan/", {"product_id": premium.pk}, follow=True
    )

    sub.refresh_from_db()
    assert sub.product_id == premium.pk
    assert upgrade.redirect_chain[-1][0] == f"/my/content/{premium.pk}/"
    charged = 10_000 - 1500 - _balance(carrier_sandbox, msisdn)
    assert 1400 <= charged <= 1500  # (30.00 - 15.00) for nearly the whole period left
    assert selectors.entitled(user_id=sub.user_id, product_id=premium.pk)
    client.post(f"/my/content/{premium.pk}/plan/", {"product_id": basic.pk})
    sub.refresh_from_db()
    assert (sub.product_id, sub.next_product_id) == (premium.pk, basic.pk)
    stranger = User.objects.create_user("+8613800138077")
    client.force_login(stranger)
    assert (
        client.post(f"/my/content/{premium.pk}/plan/", {"product_id": basic.pk}).status_code == 404
    )
