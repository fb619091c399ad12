"""A real Celery worker, fed through Redis, applies a subscriber's add-on once at the sandbox."""

from __future__ import annotations

import os
import time
from urllib.parse import quote

import httpx
import pytest

from apps.accounts.models import User
from apps.mobile import services
from apps.mobile.models import LineRequest
from config.celery import app
from tests.fixtures.sandbox_support import unique_msisdn
from tests.test_celery_worker import _use_broker

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: the worker's broker is a real Redis"
)


@pytest.mark.django_db(transaction=True)
def test_worker_applies_a_line_request_enqueued_on_commit(carrier_sandbox, settings):
    from celery.contrib.testing.worker import start_worker

    number = unique_msisdn("182")
    carrier_sandbox.put_subscriber(number, status="active", balance_fen=3000, plan="5G-58")
    user = User.objects.create_user(number[3:])
    previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    _use_broker(broker_url=settings.REDIS_URL, task_always_eager=False)
    try:
        with start_worker(
            app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"
        ):
            made = services.line_request_submit(
                user_id=user.pk, kind="addon", offer_code="ADD-5GB", request_key="w-1"
            )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if LineRequest.objects.get(pk=made.id).status != "submitted":
                    break
                time.sleep(0.1)
    finally:
        _use_broker(**previous)
    row = LineRequest.objects.get(pk=made.id)
    assert (row.status, row.attempts, row.charged_fen) == ("applied", 1, 1000)
    url = f"{carrier_sandbox.url}/carrier/v1/subscribers/{quote(number)}"
    balance = httpx.get(url, headers={"X-Api-Key": carrier_sandbox.api_key}).json()["balance_fen"]
    assert balance == 2000
