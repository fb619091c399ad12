"""Risk control in the money and SMS paths: blocks, a challenged phone-bill charge, review holds."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import services as accounts
from apps.accounts.errors import OtpInvalid
from apps.accounts.models import OtpChallenge, User
from apps.payments import services as payments
from apps.payments.handlers import PurposeHandler, purpose_register
from apps.payments.models import PaymentIntent
from apps.risk import services as risk
from apps.risk.errors import RiskBlocked, RiskChallengeRequired, RiskRefused, RiskUnderReview
from apps.risk.holds import HoldStateRefused
from apps.risk.models import Hold

pytestmark = pytest.mark.django_db
PHONE = "13800138556"
purpose_register("risk-paths-test", PurposeHandler(on_succeeded=lambda fact: True))


def _rule(code: str, expression: str, outcome: str, kinds: list[str]) -> None:
    rule = risk.rule_create(code=code, expression=expression, outcome=outcome, reason_code=code.upper().replace("-", "_"),
                            kinds=kinds, actor_id=None, why="test")  # fmt: skip
    risk.rule_transition(rule_id=rule.pk, to="active", actor_id=None, why="test")


def _start(user: User, amount: int, key: str, **kw: str) -> payments.IntentView:
    return payments.intent_start(
        purpose="risk-paths-test", reference=f"ref-{key}", user_id=user.pk, method="carrier_billing", channel="",
        amount_fen=amount, subject="视频会员", client_ip="127.0.0.1", idempotency_key=key,
        expires_at=timezone.now() + timedelta(minutes=15), return_url="", **kw,
    )  # fmt: skip


@pytest.fixture
def buyer(carrier_sandbox):
    carrier_sandbox.put_subscriber(f"+86{PHONE}", status="active", balance_fen=10_000)
    return User.objects.create_user(PHONE)


def test_a_blocked_number_cannot_ask_for_a_code_sign_in_or_pay(buyer):
    risk.list_entry_add(
        action="block", dimension="msisdn", value=PHONE, reason="fraud ring", actor_id=None
    )

    with pytest.raises(RiskBlocked):
        accounts.otp_request(phone=PHONE, ip="127.0.0.1")
    with pytest.raises(RiskBlocked):
        accounts.otp_sign_in(phone=PHONE, code="123456")
    with pytest.raises(RiskBlocked) as refused:
        _start(buyer, 500, key="blocked")

    assert refused.value.details == {"reasons": ["LIST_BLOCK_MSISDN"]}
    assert not OtpChallenge.objects.exists()
    assert not PaymentIntent.objects.exists()


def test_a_challenged_phone_bill_charge_needs_the_sms_code(
    carrier_sandbox, buyer, django_capture_on_commit_callbacks
):
    _rule("big-bill", "amount_fen > 1000", "challenge", ["phone_bill_charge"])

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RiskChallengeRequired):
        _start(buyer, 1500, key="c1")
    assert not PaymentIntent.objects.exists()
    text = carrier_sandbox.messages(f"+86{PHONE}", limit=1)[0]["text"]
    code = re.search(r"(\d{6})", text).group(1)
    with pytest.raises(OtpInvalid):
        _start(buyer, 1500, key="c1", risk_code="000000" if code != "000000" else "111111")
    assert not PaymentIntent.objects.exists()

    intent = _start(buyer, 1500, key="c1", risk_code=code)

    assert (intent.status, intent.action["kind"]) == ("pending", "carrier_code")
    assert OtpChallenge.objects.get(purpose="risk").consumed_at is not None


def test_a_held_payment_waits_for_the_operator_and_follows_the_answer(carrier_sandbox, buyer):
    _rule("review-bills", "amount_fen > 1000", "review", ["phone_bill_charge"])

    with pytest.raises(RiskUnderReview):
        _start(buyer, 1500, key="r1")
    with pytest.raises(RiskUnderReview):
        _start(buyer, 1500, key="r2")
    held = {h.reference: h for h in Hold.objects.all()}
    assert set(held) == {"r1", "r2"} and not PaymentIntent.objects.exists()
    assert (held["r1"].owner, held["r1"].amount_fen, held["r1"].reasons) == (
        "payments",
        1500,
        ["REVIEW_BILLS"],
    )

    risk.hold_answer(hold_id=held["r1"].pk, release=True, actor_id=None, note="known customer")
    risk.hold_answer(hold_id=held["r2"].pk, release=False, actor_id=None, note="stolen phone")
    released = _start(buyer, 1500, key="r1")
    with pytest.raises(RiskRefused):
        _start(buyer, 1500, key="r2")

    assert released.status == "pending"
    assert list(PaymentIntent.objects.values_list("idempotency_key", flat=True)) == ["r1"]
    with pytest.raises(HoldStateRefused):
        risk.hold_answer(hold_id=held["r1"].pk, release=False, actor_id=None)


def test_the_pay_page_asks_for_the_sms_code_when_risk_challenges_a_phone_bill_payment(
    carrier_sandbox, buyer, client, django_capture_on_commit_callbacks
):
    from apps.catalog.tests.factories import small_catalog
    from apps.orders import services as orders
    from apps.orders.services import CartOwner

    vip = small_catalog()["vip"]
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=vip.skus.get().pk, quantity=1)
    order = orders.checkout_submit(user_id=buyer.pk, checkout_key="page")
    _rule("bill-any", "amount_fen > 0", "challenge", ["phone_bill_charge"])
    client.force_login(buyer)
    form = {"choice": "carrier_billing:", "attempt": "a1"}

    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(f"/orders/{order.number}/pay/", form)
    text = carrier_sandbox.messages(f"+86{PHONE}", limit=1)[0]["text"]
    code = re.search(r"(\d{6})", text).group(1)
    paid = client.post(f"/orders/{order.number}/pay/", {**form, "risk_code": code})

    assert asked.status_code == 428 and 'name="risk_code"' in asked.content.decode()
    assert paid.status_code == 302
    assert PaymentIntent.objects.get().method == "carrier_billing"


def test_a_caller_holding_the_number_saves_the_phone_bill_decision_its_read(buyer):
    """``intent_start(msisdn=...)``: risk decides on the number passed (caps, lists) and reads
    no user row; a caller that does not pass it gets the number read, as before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.payments.services.risk_checks import intent_decide

    def intent(key: str) -> PaymentIntent:
        return PaymentIntent(user_id=buyer.pk, method="carrier_billing", amount_fen=100,
                             purpose="risk-paths-test", reference=key, idempotency_key=key)  # fmt: skip

    risk.decide(event=risk.Event(kind=risk.Kind.CHECKOUT))  # the configuration loaded
    with CaptureQueriesContext(connection) as passed:
        given = intent_decide(intent("m1"), client_ip="", challenge_passed=False, msisdn=PHONE)
    with CaptureQueriesContext(connection) as read:
        looked_up = intent_decide(intent("m2"), client_ip="", challenge_passed=False)

    assert [q["sql"] for q in passed.captured_queries] == []
    assert sum('"accounts_user"' in q["sql"] for q in read.captured_queries) == 1
    assert (given.outcome, looked_up.outcome) == ("allow", "allow")
    risk.list_entry_add(action="block", dimension="msisdn", value=PHONE, reason="t", actor_id=None)
    with pytest.raises(RiskBlocked):  # the number passed is the one the lists see
        intent_decide(intent("m3"), client_ip="", challenge_passed=False, msisdn=f"+86{PHONE}")


def test_intent_start_passes_the_callers_number_to_risk(buyer):
    risk.list_entry_add(action="block", dimension="msisdn", value=PHONE, reason="t", actor_id=None)
    with pytest.raises(RiskBlocked):
        _start(buyer, 500, key="pass-1", msisdn=PHONE)
    assert not PaymentIntent.objects.exists()


def test_a_checkout_under_review_is_held_and_follows_the_operators_answer(buyer):
    """Nothing is written while held (no order, no stock); the released key goes through once,
    the refused key is refused."""
    from apps.catalog.tests.factories import small_catalog
    from apps.orders import services as orders
    from apps.orders.models import Order
    from apps.orders.services import CartOwner
    from apps.orders.tests.support import ADDRESS

    sku = small_catalog()["iphone"].skus.get()  # ¥5,999
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=sku.pk, quantity=1)
    _rule("review-big-checkouts", "amount_fen > 100000", "review", ["checkout"])

    def submit(key: str) -> orders.OrderView:
        return orders.checkout_submit(user_id=buyer.pk, checkout_key=key, shipping=ADDRESS)

    for key in ("k1", "k2"):
        with pytest.raises(RiskUnderReview):
            submit(key)
    held = {h.reference: h for h in Hold.objects.filter(owner="orders")}
    assert set(held) == {"k1", "k2"} and held["k1"].amount_fen == 599_900
    assert not Order.objects.exists()

    risk.hold_answer(hold_id=held["k1"].pk, release=True, actor_id=None)
    risk.hold_answer(hold_id=held["k2"].pk, release=False, actor_id=None)
    with pytest.raises(RiskRefused):
        submit("k2")
    order = submit("k1")

    assert submit("k1").number == order.number
    assert list(Order.objects.values_list("checkout_key", flat=True)) == ["k1"]


def test_a_refund_request_under_review_is_asked_again_when_released(buyer):
    from apps.catalog.tests.factories import small_catalog
    from apps.core.tests.outbox_support import outbox_handled
    from apps.orders import services as orders
    from apps.orders.tests.support import paid_order
    from apps.payments.models import Refund

    order = paid_order(buyer, [small_catalog()["iphone"]])
    _rule("review-refunds", "amount_fen > 100000", "review", ["refund_request"])

    with pytest.raises(RiskUnderReview):
        orders.order_refund_request(number=order.number, user_id=buyer.pk, reason="不想要了")
    hold = Hold.objects.get(owner="orders.refund", reference=order.number)
    assert not Refund.objects.exists()

    with outbox_handled():
        risk.hold_answer(hold_id=hold.pk, release=True, actor_id=None)

    refund = Refund.objects.get()
    assert refund.amount_fen == 599_900
