"""Review means review for content charges and partner SMS batches: the thing is held, an
operator's release lets it go on exactly once, a refusal (or the expiry) refuses it with
``RISK_REFUSED`` and tells the CP or the partner."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.content import services as content
from apps.content.errors import ChargeStateConflict
from apps.content.models import Charge, Notification
from apps.content.tests.support import approved_cp, product_on_sale
from apps.core import outbox
from apps.payments.models import PaymentIntent
from apps.risk import services as risk
from apps.risk.holds import HoldStateRefused
from apps.risk.models import Hold
from apps.risk.tests.support import active_rule
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)
DEMO_KEY_ID, DEMO_SECRET = "cpdemo_app", "carrierhub-demo-cp-secret-0123456789"


@pytest.fixture
def shop(carrier_sandbox):
    cp = approved_cp()
    content.cp_key_issue(cp_id=cp.pk, actor_id=None, demo_secret=DEMO_SECRET, key_id=DEMO_KEY_ID)
    product = product_on_sale(cp, price_fen=3000, notify_url=f"{carrier_sandbox.url}/cp-app/notify")
    active_rule("big-content", "amount_fen >= 2000", outcome="review", kinds=["content_charge"])
    return cp, product


def _buy(sandbox, cp, product, order_id: str) -> tuple[Charge, str]:
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=100_000)
    charge = content.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                   cp_order_id=order_id)  # fmt: skip
    return charge, msisdn


def _spent_today(user_id: int) -> int:
    decision = risk.decide(event=risk.Event(kind=risk.Kind.CONTENT_CHARGE, user_id=user_id))
    return decision.totals["content-user-day"]


def _events(charge: Charge) -> list[str]:
    return list(
        Notification.objects.filter(cp_id=charge.cp_id, payload__charge_id=charge.pk)
        .order_by("pk")
        .values_list("event", flat=True)
    )


def test_a_held_content_charge_is_released_once_and_then_paid(carrier_sandbox, shop):
    cp, product = shop
    charge, msisdn = _buy(carrier_sandbox, cp, product, "H-1")

    assert charge.status == "held"
    hold = Hold.objects.get(owner="content", reference=charge.pk)
    assert (hold.kind, hold.amount_fen, hold.reasons) == ("content_charge", 3000, ["BIG_CONTENT"])
    assert not PaymentIntent.objects.exists() and carrier_sandbox.messages(msisdn) == []
    with pytest.raises(ChargeStateConflict):
        content.charge_confirm(charge_id=charge.pk, code="123456")
    # The CP's retry of the same order answers with the held charge.
    assert content.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                 cp_order_id="H-1").pk == charge.pk  # fmt: skip

    risk.hold_answer(hold_id=hold.pk, release=True, actor_id=None, note="looks fine")

    charge.refresh_from_db()
    assert charge.status == "pending" and PaymentIntent.objects.count() == 1
    with pytest.raises(HoldStateRefused):
        risk.hold_answer(hold_id=hold.pk, release=False, actor_id=None)
    # The event delivered again changes nothing: one payment, one code.
    event = outbox.Event(id=hold.decision_id, topic="risk.hold.released", key=None,
                         payload={"owner": "content", "reference": charge.pk})  # fmt: skip
    for fn in outbox.handlers_for("risk.hold.released").values():
        with transaction.atomic():
            fn(event)
    assert PaymentIntent.objects.count() == 1 and len(carrier_sandbox.messages(msisdn)) == 1
    code = re.search(r"验证码(\d{6})", carrier_sandbox.messages(msisdn)[0]["text"])
    assert code is not None
    paid = content.charge_confirm(charge_id=charge.pk, code=code.group(1))
    assert paid.status == "succeeded"
    assert _events(charge)[:2] == ["charge.held", "charge.released"]


def test_a_refused_or_expired_content_charge_fails_with_risk_refused(
    carrier_sandbox, shop, settings
):
    cp, product = shop
    refused, _m = _buy(carrier_sandbox, cp, product, "H-2")
    stale, _n = _buy(carrier_sandbox, cp, product, "H-3")
    settings.RISK_HOLD_EXPIRY_HOURS = 24
    Hold.objects.filter(reference=stale.pk).update(created_at=timezone.now() - timedelta(hours=25))

    assert _spent_today(refused.user_id) == 3000  # counted at the decision

    risk.hold_answer(
        hold_id=Hold.objects.get(reference=refused.pk).pk, release=False, actor_id=None
    )
    assert risk.holds_expire() == 1
    assert risk.holds_expire() == 0

    for charge in (refused, stale):
        charge.refresh_from_db()
        assert (charge.status, charge.error_code) == ("failed", "RISK_REFUSED")
        assert _events(charge) == ["charge.held", "charge.refused"]
    assert Hold.objects.get(reference=stale.pk).note == "expired"
    # What never happened is out of the caps' windows again.
    assert (_spent_today(refused.user_id), _spent_today(stale.user_id)) == (0, 0)
    assert not PaymentIntent.objects.exists()


def test_a_renewal_risk_would_review_is_refused_not_held(carrier_sandbox, shop):
    from apps.content import limits
    from apps.risk.errors import RiskBlocked

    _cp, product = shop
    with pytest.raises(RiskBlocked) as refused:
        limits.charge_decide(user_id=1, msisdn=unique_msisdn(), cp_id=product.cp_id,
                             product_id=product.pk, amount_fen=3000, reference="CR1",
                             confirmed_by_subscriber=False)  # fmt: skip
    assert refused.value.details["review"] == "unholdable"
    assert not Hold.objects.exists()
    # The refused renewal never happens: what its decision counted is out of the caps again.
    assert _spent_today(1) == 0


@pytest.mark.usefixtures("loopback_callbacks")
def test_a_held_sms_batch_is_sent_once_released_and_refused_with_a_callback(carrier_sandbox):
    from apps.carrier.models import SmsMessage
    from apps.gateway.models import PartnerSms
    from apps.gateway.tests.support import SignedClient, gateway_app_create
    from apps.risk.events import canonical_msisdn
    from tests.fixtures.sandbox_support import callback_receiver

    first, watched = unique_msisdn(), unique_msisdn()
    active_rule("watched-number", f'msisdn == "{canonical_msisdn(watched)}"', outcome="review",
                kinds=["gateway_sms"])  # fmt: skip
    with callback_receiver() as receiver:
        client = SignedClient(
            gateway_app_create(capabilities=["sms"], callback_urls=[receiver.url])
        )

        sent = client.post("/sms/v1/messages", {"to": [first, watched], "message": "到货通知"})
        batch = sent.json()["batchId"]
        assert sent.status_code == 201
        assert [m["status"] for m in sent.json()["messages"]] == ["held", "held"]
        assert not SmsMessage.objects.filter(purpose="partner").exists()
        hold = Hold.objects.get(owner="gateway.sms", reference=batch)
        assert (hold.amount_fen, hold.reasons) == (10, ["WATCHED_NUMBER"])

        risk.hold_answer(hold_id=hold.pk, release=True, actor_id=None)
        queued = receiver.wait_for(4, timeout=20)  # queued, then sent (the carrier took them)

        assert sorted(r.body["data"]["status"] for r in queued) == [
            "queued",
            "queued",
            "sent",
            "sent",
        ]
        assert SmsMessage.objects.filter(purpose="partner").count() == 2
        assert set(PartnerSms.objects.values_list("held_text", flat=True)) == {""}
        # Delivered again, the release sends nothing more.
        event = outbox.Event(id=hold.decision_id, topic="risk.hold.released", key=None,
                             payload={"owner": "gateway.sms", "reference": batch})  # fmt: skip
        for fn in outbox.handlers_for("risk.hold.released").values():
            with transaction.atomic():
                fn(event)
        assert SmsMessage.objects.filter(purpose="partner").count() == 2

        refused = client.post("/sms/v1/messages", {"to": [watched], "message": "再次通知"}).json()
        risk.hold_answer(hold_id=Hold.objects.get(reference=refused["batchId"]).pk, release=False,
                         actor_id=None)  # fmt: skip
        called = [r.body["data"] for r in receiver.wait_for(5, timeout=20)]

    message = refused["messages"][0]["messageId"]
    detail = client.get(f"/sms/v1/messages/{message}").json()
    assert (detail["status"], detail["errorCode"]) == ("failed", "RISK_REFUSED")
    assert {"messageId": message, "status": "failed", "errorCode": "RISK_REFUSED"}.items() <= next(
        d for d in called if d["messageId"] == message
    ).items()
    assert SmsMessage.objects.filter(purpose="partner").count() == 2
