"""The sandbox's demo CP app receives the platform's signed notifications over HTTP, applies
each event once, and refuses a forged one."""

from __future__ import annotations

import httpx
import pytest
from django.db import transaction

from apps.content import services
from apps.content.models import Charge
from apps.content.services import notifications
from apps.content.tests.support import approved_cp, product_on_sale

pytestmark = pytest.mark.django_db(transaction=True)
DEMO_KEY_ID, DEMO_SECRET = "cpdemo_app", "carrierhub-demo-cp-secret-0123456789"


def test_the_demo_cp_app_takes_a_signed_notification_once(carrier_sandbox):
    cp = approved_cp()
    services.cp_key_issue(cp_id=cp.pk, actor_id=None, demo_secret=DEMO_SECRET, key_id=DEMO_KEY_ID)
    product = product_on_sale(cp, notify_url=f"{carrier_sandbox.url}/cp-app/notify")
    charge = Charge.objects.create(id="CCDEMO1", cp=cp, product=product, user_id=1, msisdn="+8613800000000",
                                   amount_fen=600, channel="in_app", cp_order_id="app-1", status="succeeded")  # fmt: skip
    with transaction.atomic():
        note = notifications.notify_cp(charge=charge, event="charge.succeeded")
    assert note is not None
    assert notifications.notification_send(notification_id=note.pk) is None
    note.refresh_from_db()
    assert (note.status, note.last_response) == ("delivered", "HTTP 200")
    body = b'{"event_id":"forged","event":"charge.succeeded"}'
    forged = httpx.post(f"{carrier_sandbox.url}/cp-app/notify", content=body,
                        headers={"X-CH-Timestamp": "1", "X-CH-Signature": "0" * 64})  # fmt: skip
    assert forged.status_code == 401
    page = httpx.get(f"{carrier_sandbox.url}/cp-app/").text
    assert str(note.event_id) in page and "forged" not in page
