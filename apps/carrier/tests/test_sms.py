"""An SMS travels over HTTP to the sandbox and comes back as a signed delivery report."""

import json
import time
import uuid

import pytest

from apps.carrier import services
from apps.carrier.models import SmsMessage
from apps.carrier.signing import carrier_signature
from apps.core.models import AuditEvent


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_sms_is_delivered_and_reported_back(carrier_sandbox, live_server, settings):
    settings.CARRIER_CALLBACK_BASE_URL = live_server.url
    message_id = services.sms_queue(
        msisdn="+8613800138000", text="您好，测试短信", purpose="notice"
    )

    message = SmsMessage.objects.get(pk=message_id)
    assert message.status == "submitted"
    assert message.segments == 1
    assert _wait_for(lambda: SmsMessage.objects.get(pk=message_id).status == "delivered")
    delivered = SmsMessage.objects.get(pk=message_id)
    assert delivered.delivered_at is not None
    actions = list(
        AuditEvent.objects.filter(object_id=str(message_id))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["sms.submitted", "sms.delivered"]
    assert carrier_sandbox.messages("+8613800138000")[0]["text"] == "您好，测试短信"


@pytest.mark.django_db(transaction=True)
def test_undelivered_for_a_suspended_subscriber(carrier_sandbox, live_server, settings):
    settings.CARRIER_CALLBACK_BASE_URL = live_server.url
    message_id = services.sms_queue(msisdn="+8613700137000", text="hi", purpose="notice")
    assert _wait_for(lambda: SmsMessage.objects.get(pk=message_id).status == "undelivered")
    assert SmsMessage.objects.get(pk=message_id).error_code


@pytest.mark.django_db(transaction=True)
def test_duplicate_reports_apply_once(carrier_sandbox, live_server, settings):
    settings.CARRIER_CALLBACK_BASE_URL = live_server.url
    carrier_sandbox.set_knobs(dlr_duplicate=True)
    message_id = services.sms_queue(msisdn="+8613800138000", text="dup", purpose="notice")
    assert _wait_for(lambda: SmsMessage.objects.get(pk=message_id).status == "delivered")
    time.sleep(0.5)
    assert AuditEvent.objects.filter(object_id=str(message_id), action="sms.delivered").count() == 1


@pytest.mark.django_db(transaction=True)
def test_carrier_down_marks_the_message_failed(settings):
    settings.CARRIER_BASE_URL = "http://127.0.0.1:9"
    settings.CARRIER_MAX_ATTEMPTS = 1
    message_id = services.sms_queue(msisdn="+8613800138000", text="x", purpose="notice")
    message = SmsMessage.objects.get(pk=message_id)
    assert message.status == "failed"
    assert message.error_code == "CARRIER_UNAVAILABLE"


def _post_report(
    client, body: dict, *, secret: str = "sandbox-shared-secret", ts: int | None = None
):
    raw = json.dumps(body).encode()
    stamp = str(ts if ts is not None else int(time.time()))
    return client.post(
        "/carrier/callbacks/sms-dlr/",
        data=raw,
        content_type="application/json",
        HTTP_X_CARRIER_TIMESTAMP=stamp,
        HTTP_X_CARRIER_SIGNATURE=carrier_signature(secret=secret, timestamp=stamp, body=raw),
    )


@pytest.mark.django_db
def test_report_with_bad_signature_or_old_timestamp_changes_nothing(client):
    message = SmsMessage.objects.create(
        msisdn="+8613800138000", purpose="notice", preview="x", status="submitted"
    )
    body = {"reference": str(message.pk), "message_id": "SM1", "status": "delivered"}
    forged = _post_report(client, body, secret="guess")
    assert forged.status_code == 401
    assert forged.json()["code"] == "INVALID_SIGNATURE"
    stale = _post_report(client, body, ts=int(time.time()) - 301)
    assert stale.status_code == 401
    message.refresh_from_db()
    assert message.status == "submitted"
    assert not AuditEvent.objects.filter(object_type="sms").exists()


@pytest.mark.django_db
def test_malformed_or_unknown_reports_are_answered_without_effect(client):
    assert _post_report(client, {"nope": 1}).status_code == 400
    unknown = _post_report(
        client, {"reference": str(uuid.uuid4()), "message_id": "SM2", "status": "delivered"}
    )
    assert unknown.status_code == 200
    assert unknown.json() == {"received": True, "applied": False}
    not_uuid = _post_report(client, {"reference": "x", "message_id": "SM3", "status": "delivered"})
    assert not_uuid.json()["applied"] is False
