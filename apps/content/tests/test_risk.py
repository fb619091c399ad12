"""Content charges ask risk control (``content_charge``): a block refuses before anything is
written, a challenge is met by the subscriber's own confirmation in-app and refuses a renewal
nobody confirms, and the content caps are risk caps (per subscriber, per CP)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.content import limits, services
from apps.content.errors import CapExceeded, ChargeNotFound
from apps.content.models import Charge, ContentProvider, Subscription
from apps.content.services import subscriptions as subs
from apps.content.tests.support import approved_cp, product_on_sale
from apps.core.errors import DomainError
from apps.payments.models import PaymentIntent
from apps.risk import cases, recorder
from apps.risk import services as risk_services
from apps.risk.errors import RiskBlocked
from apps.risk.models import Cap, DecisionRecord, Label
from apps.risk.tests.support import active_rule
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)


def _subscriber(sandbox, balance: int = 100_000) -> str:
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=balance)
    return msisdn


def _code(sandbox, msisdn: str) -> str:
    match = re.search(r"验证码(\d{6})", sandbox.messages(msisdn)[0]["text"])
    assert match is not None
    return match.group(1)


def _limit(code: str, value: int) -> None:
    cap = Cap.objects.get(code=code)
    cap.limit = value
    risk_services.cap_saved(cap=cap, actor_id=None)


def test_the_content_caps_are_risk_caps_read_back_by_content():
    _limit("content-user-month", 12_345)
    caps = limits.caps_for(user_id=1, cp_id=1)
    assert (caps.subscriber_daily_fen, caps.subscriber_monthly_fen, caps.cp_daily_fen) == (
        20_000,
        12_345,
        1_000_000_000,
    )
    assert set(Cap.objects.filter(kinds__contains=["content_charge"], limit__isnull=False)
               .values_list("code", flat=True)) == set(limits.CAP_CODES.values())  # fmt: skip


def test_a_blocked_charge_writes_nothing_and_the_decision_is_recorded(carrier_sandbox):
    cp, other = approved_cp(), approved_cp()
    active_rule("content-cp-banned", f'cp_id == "{cp.pk}"', kinds=["content_charge"])
    msisdn = _subscriber(carrier_sandbox)
    with pytest.raises(RiskBlocked) as caught:
        services.charge_create(cp_id=cp.pk, product_id=product_on_sale(cp).pk,
                               phone_number=msisdn, cp_order_id="B-1")  # fmt: skip
    assert caught.value.details["reasons"] == ["CONTENT_CP_BANNED"]
    assert Charge.objects.count() == 0 and PaymentIntent.objects.count() == 0
    assert carrier_sandbox.messages(msisdn) == []
    # Another CP's charge goes on.
    services.charge_create(cp_id=other.pk, product_id=product_on_sale(other).pk,
                           phone_number=msisdn, cp_order_id="B-2")  # fmt: skip
    recorder.decisions_flush()
    rows = list(DecisionRecord.objects.filter(kind="content_charge").order_by("created_at")
                .values_list("cp_id", "outcome", "amount_fen"))  # fmt: skip
    assert rows == [(str(cp.pk), "block", 1000), (str(other.pk), "allow", 1000)]


def test_a_challenge_is_met_by_the_subscribers_sms_confirmation(carrier_sandbox):
    active_rule("content-ask", "amount_fen > 500", outcome="challenge", kinds=["content_charge"])
    cp = approved_cp()
    msisdn = _subscriber(carrier_sandbox)
    charge = services.charge_create(cp_id=cp.pk, product_id=product_on_sale(cp).pk,
                                    phone_number=msisdn, cp_order_id="C-1")  # fmt: skip
    paid = services.charge_confirm(charge_id=charge.pk, code=_code(carrier_sandbox, msisdn))
    assert paid.status == Charge.Status.SUCCEEDED


def test_the_per_cp_daily_cap_stops_a_cp_not_its_neighbours(carrier_sandbox):
    _limit("content-cp-day", 1500)
    cp, other = approved_cp(), approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    first, second = _subscriber(carrier_sandbox), _subscriber(carrier_sandbox)
    services.charge_create(
        cp_id=cp.pk, product_id=product.pk, phone_number=first, cp_order_id="D-1"
    )
    with pytest.raises(CapExceeded) as caught:
        services.charge_create(
            cp_id=cp.pk, product_id=product.pk, phone_number=second, cp_order_id="D-2"
        )
    assert caught.value.details == {"cap": "cp_daily_fen", "limit_fen": 1500, "spent_fen": 1000}
    services.charge_create(cp_id=other.pk, product_id=product_on_sale(other, price_fen=1000).pk,
                           phone_number=second, cp_order_id="D-3")  # fmt: skip
    assert Charge.objects.count() == 2


def test_a_charge_the_carrier_refuses_gives_its_amount_back_to_the_caps(carrier_sandbox):
    _limit("content-user-day", 1500)
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    msisdn = _subscriber(carrier_sandbox)
    carrier_sandbox.put_subscriber(msisdn, status="suspended", balance_fen=100_000)
    with pytest.raises(DomainError):  # the carrier's refusal, whichever code
        services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                               cp_order_id="E-1")  # fmt: skip
    # Risk had allowed and counted it: the charge was written, then failed at the carrier.
    assert Charge.objects.get(cp_order_id="E-1").status == Charge.Status.FAILED
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=100_000)
    charge = services.charge_create(
        cp_id=cp.pk, product_id=product.pk, phone_number=msisdn, cp_order_id="E-2"
    )
    assert charge.status == Charge.Status.PENDING


def _monthly_subscription(carrier_sandbox) -> tuple[ContentProvider, Subscription]:
    """A CP's monthly video product, subscribed and paid by a new subscriber (1500 fen)."""
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1500, mode="monthly", kind="video")
    msisdn = _subscriber(carrier_sandbox, balance=10_000)
    charge = services.charge_create(
        cp_id=cp.pk, product_id=product.pk, phone_number=msisdn, cp_order_id="S-1"
    )
    services.charge_confirm(charge_id=charge.pk, code=_code(carrier_sandbox, msisdn))
    return cp, Subscription.objects.get(product=product)


def _assert_renewal_refused_into_dunning(sub: Subscription) -> None:
    sub.refresh_from_db()
    renewal = Charge.objects.get(channel="subscription")
    assert (sub.status, sub.failures, renewal.status) == ("past_due", 1, "failed")
    assert not PaymentIntent.objects.filter(reference=renewal.pk).exists()


def test_a_renewal_risk_challenges_fails_into_dunning_and_bills_nothing(carrier_sandbox):
    cp, sub = _monthly_subscription(carrier_sandbox)
    active_rule("content-renew-ask", f'cp_id == "{cp.pk}"', outcome="challenge",
                kinds=["content_charge"])  # fmt: skip
    assert subs.subscriptions_renew_due(now=sub.period_end + timedelta(seconds=1))["failed"] == 1
    _assert_renewal_refused_into_dunning(sub)


def _spent_today(user_id: int) -> int:
    probe = risk_services.decide(
        event=risk_services.Event(kind=risk_services.Kind.CONTENT_CHARGE, user_id=user_id)
    )
    return probe.totals["content-user-day"]


def test_a_renewal_risk_reviews_is_refused_and_gives_its_amount_back_to_the_caps(carrier_sandbox):
    """Nobody waits for a renewal, so risk's review refuses it (into dunning) instead of holding
    it; the amount its decision counted is given back, as for a refused hold."""
    cp, sub = _monthly_subscription(carrier_sandbox)
    assert _spent_today(sub.user_id) == 1500
    active_rule("content-renew-review", f'cp_id == "{cp.pk}"', outcome="review",
                kinds=["content_charge"])  # fmt: skip

    assert subs.subscriptions_renew_due(now=sub.period_end + timedelta(seconds=1))["failed"] == 1

    _assert_renewal_refused_into_dunning(sub)
    assert _spent_today(sub.user_id) == 1500  # not 3000: the refused renewal is not counted


def test_a_complaint_counts_in_the_cps_complaint_rate_and_opens_a_case(
    carrier_sandbox, client, settings
):
    settings.RISK_RATE_MIN_CHARGES = 2
    cp, quiet = approved_cp(), approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    buyers = [_subscriber(carrier_sandbox) for _ in range(3)]
    for n, msisdn in enumerate(buyers):
        charge = services.charge_create(cp_id=cp.pk, product_id=product.pk,
                                        phone_number=msisdn, cp_order_id=f"F-{n}")  # fmt: skip
        services.charge_confirm(charge_id=charge.pk, code=_code(carrier_sandbox, msisdn))
    services.charge_create(cp_id=quiet.pk, product_id=product_on_sale(quiet).pk,
                           phone_number=buyers[0], cp_order_id="F-Q")  # fmt: skip
    complainer = Charge.objects.get(cp_order_id="F-0")
    client.force_login(User.objects.get(pk=complainer.user_id))
    # Someone with no paid charge for the product cannot complain about it.
    with pytest.raises(ChargeNotFound):
        services.charge_complain(user_id=complainer.user_id, product_id=product.pk + 999)

    page = client.post(f"/my/content/{product.pk}/complain/")
    client.post(f"/my/content/{product.pk}/complain/")  # twice: one label

    assert page.status_code == 302
    label = Label.objects.get()
    assert (label.source, label.cp_id, label.reference, label.product) == (
        "complaint",
        str(cp.pk),
        complainer.pk,
        f"content:{product.pk}",
    )
    recorder.decisions_flush()
    found = [
        a for a in cases.anomalies_find(day=timezone.localdate()) if a.anomaly == "complaint_rate"
    ]
    # 1 complaint over 3 allowed charges of the CP (and of its product): 33 % > 2 %; the
    # quiet CP's one charge has none.
    assert sorted((a.subject, a.evidence["labels"], a.evidence["charges"]) for a in found) == [
        (f"cp_id:{cp.pk}", 1, 3),
        (f"product:content:{product.pk}", 1, 3),
    ]


def test_a_risk_case_closed_as_cp_suspended_suspends_the_cp_and_takes_it_off_the_mall(
    carrier_sandbox,
):
    from apps.catalog.models import Product
    from apps.risk.models import Case

    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    case = Case.objects.create(anomaly="complaint_rate", subject=f"cp_id:{cp.pk}",
                               day=timezone.localdate(), title="complaint rate 3/20")  # fmt: skip

    risk_services.case_update(case_id=case.pk, assignee_id=None, notes="", outcome="cp_suspended",
                              actor_id=None)  # fmt: skip

    cp.refresh_from_db()
    assert cp.status == ContentProvider.Status.SUSPENDED and f"{case.pk}" in cp.reject_reason
    assert Product.objects.get(pk=product.catalog_product_id).status == "archived"
    with pytest.raises(DomainError):
        services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=_subscriber(carrier_sandbox),
                               cp_order_id="S-1")  # fmt: skip
