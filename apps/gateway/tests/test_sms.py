"""Partner SMS end to end: signed send, per-recipient state, idempotency, signed callbacks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.carrier.models import SmsMessage
from apps.gateway import callbacks
from apps.gateway.models import CallbackDelivery, PartnerSms
from apps.gateway.tests.capability_support import assert_callback_signed, wait_until
from apps.gateway.tests.support import SignedClient, gateway_app_create
from tests.fixtures.sandbox_support import callback_receiver, unique_msisdn

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("loopback_callbacks"),
]


@pytest.fixture
def dlr(carrier_sandbox, live_server, settings):
    """Delivery reports from the sandbox reach this test's platform."""
    settings.CARRIER_CALLBACK_BASE_URL = live_server.url
    carrier_sandbox.set_knobs(dlr_delay_ms=100)
    return carrier_sandbox


def test_send_to_two_numbers_is_priced_delivered_and_called_back(dlr):
    first, second = unique_msisdn(), unique_msisdn()
    dlr.put_subscriber(first, status="active")
    dlr.put_subscriber(second, status="suspended")
    with callback_receiver() as receiver:
        app = gateway_app_create(capabilities=["sms"], callback_urls=[receiver.url])
        client = SignedClient(app)
        text = "您的订单已发货，" * 10  # 80 UCS-2 characters: two segments

        sent = client.post("/sms/v1/messages", {"to": [first, second], "message": text})
        reports = receiver.wait_for(4, timeout=20)

    assert sent.status_code == 201
    body = sent.json()
    assert [(m["to"], m["status"], m["segments"], m["priceFen"]) for m in body["messages"]] == [
        (first, "queued", 2, 10),
        (second, "queued", 2, 10),
    ]
    assert body["totalPriceFen"] == 20
    ids = {m["to"]: m["messageId"] for m in body["messages"]}
    by_message = {}
    for report in reports:
        assert_callback_signed(report, client_id=app.client_id, secret=app.secret)
        assert report.headers["content-type"] == "application/cloudevents+json"
        data = report.body["data"]
        by_message.setdefault(data["to"], []).append(data["status"])
        assert data["messageId"] == ids[data["to"]]
    assert by_message == {first: ["sent", "delivered"], second: ["sent", "undelivered"]}
    assert len({r.headers["x-callback-id"] for r in reports}) == 4
    detail = client.get(f"/sms/v1/messages/{ids[second]}")
    assert detail.status_code == 200
    assert (detail.json()["status"], detail.json()["errorCode"]) == (
        "undelivered",
        "SUBSCRIBER_UNREACHABLE",
    )
    assert [m["text"] for m in dlr.messages(first)] == [text]


def test_a_repeat_returns_the_first_answer_and_another_body_is_409(dlr):
    to = unique_msisdn()
    dlr.put_subscriber(to, status="active")
    client = SignedClient(gateway_app_create(capabilities=["sms"]))
    key = {"Idempotency-Key": "order-42-shipped"}

    first = client.post("/sms/v1/messages", {"to": [to], "message": "hello"}, headers=key)
    repeat = client.post("/sms/v1/messages", {"to": [to], "message": "hello"}, headers=key)
    other = client.post("/sms/v1/messages", {"to": [to], "message": "other"}, headers=key)
    by_correlator = client.post(
        "/sms/v1/messages", {"to": [to], "message": "hi", "clientCorrelator": "c-1"}
    )
    correlator_repeat = client.post(
        "/sms/v1/messages", {"to": [to], "message": "hi", "clientCorrelator": "c-1"}
    )

    assert first.status_code == repeat.status_code == 201
    assert repeat.json() == first.json()
    assert (other.status_code, other.json()["code"]) == (409, "CONFLICT")
    assert correlator_repeat.json() == by_correlator.json()
    assert by_correlator.json()["clientCorrelator"] == "c-1"
    assert PartnerSms.objects.filter(msisdn=to).count() == 2
    assert SmsMessage.objects.filter(msisdn=to).count() == 2
    assert wait_until(lambda: len(dlr.messages(to)) == 2)
    # Both delivery reports are applied here before the test ends, so none reaches the live
    # server while the teardown empties the tables (that raced the flush).
    assert wait_until(
        lambda: (
            SmsMessage.objects.filter(msisdn=to, status__in=["delivered", "undelivered"]).count()
            == 2
        )
    )


def test_a_failing_partner_gets_the_event_again_after_the_backoff(dlr):
    to = unique_msisdn()
    dlr.put_subscriber(to, status="active")
    dlr.set_knobs(dlr_delay_ms=60_000)  # only the "sent" event in this test
    with callback_receiver(fail_first=1) as receiver:
        app = gateway_app_create(capabilities=["sms"], callback_urls=[receiver.url])
        sent = SignedClient(app).post("/sms/v1/messages", {"to": [to], "message": "x"})
        [failed] = receiver.wait_for(1, timeout=20)
        delivery = CallbackDelivery.objects.get()
        waited = (delivery.next_attempt_at - timezone.now()).total_seconds()

        too_early = callbacks.callbacks_retry_due()
        later = callbacks.callbacks_retry_due(now=timezone.now() + timedelta(seconds=6))
        [_, again] = receiver.wait_for(2, timeout=20)

    assert sent.status_code == 201
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert 3 < waited <= 5
    assert (too_early, later) == (0, 1)
    assert again.headers["x-callback-id"] == failed.headers["x-callback-id"] == str(delivery.pk)
    assert again.raw == failed.raw
    assert_callback_signed(again, client_id=app.client_id, secret=app.secret)
    final = CallbackDelivery.objects.get()
    assert (final.status, final.attempts) == ("delivered", 2)
    # A delivered event is never sent again.
    assert callbacks.callbacks_retry_due(now=timezone.now() + timedelta(hours=3)) == 0


def test_a_partner_that_never_answers_is_given_up_after_eight_attempts(dlr):
    to = unique_msisdn()
    dlr.put_subscriber(to, status="active")
    dlr.set_knobs(dlr_delay_ms=60_000)
    with callback_receiver(fail_first=100) as receiver:
        app = gateway_app_create(capabilities=["sms"], callback_urls=[receiver.url])
        SignedClient(app).post("/sms/v1/messages", {"to": [to], "message": "x"})
        moment = timezone.now()
        for wait in callbacks.BACKOFF_SECONDS:
            moment += timedelta(seconds=wait + 1)
            callbacks.callbacks_retry_due(now=moment)
        receiver.wait_for(8, timeout=20)

    delivery = CallbackDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 8)
    assert len(receiver.reports) == 8


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": ["+8613800138000"], "message": "x", "priority": 1}, None),
        ({"to": [], "message": "x"}, "to"),
        ({"to": ["8613800138000"], "message": "x"}, "to"),
        ({"to": ["+8613800138000", "+8613800138000"], "message": "x"}, "to"),
        ({"to": ["+8613800138000"], "message": ""}, "message"),
        ({"to": ["+8613800138000"], "message": "x" * 1001}, "message"),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_queued(carrier_sandbox, body, field):
    client = SignedClient(gateway_app_create(capabilities=["sms"]))

    answer = client.post("/sms/v1/messages", body)

    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_ARGUMENT")
    if field:
        assert field in answer.json()["details"]
    assert PartnerSms.objects.count() == SmsMessage.objects.count() == 0


def test_a_well_formed_number_that_is_no_mobile_number_is_not_applicable(carrier_sandbox):
    """``+8612345`` has CAMARA's phoneNumber pattern (so the schema allows it) but no text can
    reach it: a business refusal, not a malformed request."""
    client = SignedClient(gateway_app_create(capabilities=["sms"]))

    answer = client.post("/sms/v1/messages", {"to": ["+8612345"], "message": "x"})

    assert (answer.status_code, answer.json()["code"]) == (422, "SERVICE_NOT_APPLICABLE")
    assert PartnerSms.objects.count() == SmsMessage.objects.count() == 0


def test_an_unregistered_callback_url_and_another_apps_message(carrier_sandbox):
    mine = SignedClient(
        gateway_app_create(capabilities=["sms"], callback_urls=["https://a.example/cb"])
    )
    theirs = SignedClient(gateway_app_create(capabilities=["sms"]))
    refused = mine.post(
        "/sms/v1/messages",
        {"to": ["+8613800138000"], "message": "x", "callbackUrl": "https://evil.example/cb"},
    )
    sent = theirs.post("/sms/v1/messages", {"to": ["+8613800138000"], "message": "x"})

    other = mine.get(f"/sms/v1/messages/{sent.json()['messages'][0]['messageId']}")

    assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_ARGUMENT")
    assert (other.status_code, other.json()["code"]) == (404, "NOT_FOUND")
    assert PartnerSms.objects.count() == 1
