"""A real Celery worker, fed through Redis, sends an SMS to the sandbox."""

import os
import time

import pytest
from django.db import transaction

from apps.carrier import services
from apps.carrier.models import SmsMessage
from config.celery import app

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: the worker's broker is a real Redis"
)


def _use_broker(**conf) -> None:
    """Switch brokers: eager runs opened a producer pool on the default broker, so drop it."""
    app.conf.update(**conf)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_task_enqueued_on_commit(carrier_sandbox, settings):
    from celery.contrib.testing.worker import start_worker

    previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    _use_broker(broker_url=settings.REDIS_URL, task_always_eager=False)
    try:
        with start_worker(
            app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"
        ):
            with transaction.atomic():
                message_id = services.sms_queue(
                    msisdn="+8613800138000", text="worker", purpose="notice"
                )
                # Nothing is sent before commit.
                assert SmsMessage.objects.get(pk=message_id).status == "queued"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if SmsMessage.objects.get(pk=message_id).status != "queued":
                    break
                time.sleep(0.1)
    finally:
        _use_broker(**previous)
    assert SmsMessage.objects.get(pk=message_id).status == "submitted"
    assert [m["text"] for m in carrier_sandbox.messages("+8613800138000")][:1] == ["worker"]
