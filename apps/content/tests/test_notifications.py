"""CP notifications: signed with the CP's active key, retried with backoff, an event id the CP
applies once, and the delivery log in the CP console."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction

from apps.carrier.signing import carrier_signature_valid
from apps.content import services
from apps.content.models import Charge, Notification
from apps.content.services import notifications
from apps.content.tests.support import approved_cp, product_on_sale

pytestmark = pytest.mark.django_db


class CpServer:
    """A CP's notification endpoint on loopback: answers 500 ``fail_first`` times, then 200,
    and applies each event id once (what docs/content.md asks of a CP)."""

    def __init__(self, fail_first: int) -> None:
        self.fail_left = fail_first
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.applied: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                if outer.fail_left > 0:
                    outer.fail_left -= 1
                    self.send_response(500)
                else:
                    outer.applied.add(json.loads(body)["event_id"])
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/notify"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cp_server():
    server = CpServer(fail_first=2)
    yield server
    server.close()


def test_a_notification_is_signed_retried_with_backoff_and_logged(cp_server, client):
    cp = approved_cp()
    key = services.cp_key_issue(cp_id=cp.pk, actor_id=None)
    product = product_on_sale(cp, notify_url=cp_server.url)
    charge = Charge.objects.create(id="CCTEST1", cp=cp, product=product, user_id=1, msisdn="+8613800000000",
                                   amount_fen=1000, channel="in_app", cp_order_id="N-1", status="succeeded")  # fmt: skip
    with transaction.atomic():
        note = notifications.notify_cp(charge=charge, event="charge.succeeded")
    assert note is not None
    waits = [notifications.notification_send(notification_id=note.pk) for _ in range(3)]
    assert waits == [notifications.BACKOFF[0], notifications.BACKOFF[1], None]
    note.refresh_from_db()
    assert (note.status, note.attempts, note.last_response) == ("delivered", 3, "HTTP 200")
    assert notifications.notification_send(notification_id=note.pk) is None  # done: not sent again
    assert len(cp_server.received) == 3 and cp_server.applied == {str(note.event_id)}
    headers, body = cp_server.received[-1]
    assert headers["X-CH-Key-Id"] == key.key_id
    assert carrier_signature_valid(secret=key.secret, timestamp=headers["X-CH-Timestamp"], body=body,
                                   signature=headers["X-CH-Signature"])  # fmt: skip
    assert not carrier_signature_valid(secret="wrong", timestamp=headers["X-CH-Timestamp"], body=body,
                                       signature=headers["X-CH-Signature"])  # fmt: skip
    payload = json.loads(body)
    assert (payload["event"], payload["charge_id"], payload["cp_order_id"]) == (
        "charge.succeeded",
        "CCTEST1",
        "N-1",
    )
    client.force_login(cp.members.get().user)
    page = client.get("/cp/").content.decode()
    assert str(note.event_id) in page and "HTTP 200" in page


def test_a_notification_is_given_up_after_the_last_backoff(client):
    cp = approved_cp()
    product = product_on_sale(cp, notify_url="http://127.0.0.1:9/closed")
    charge = Charge.objects.create(id="CCTEST2", cp=cp, product=product, user_id=1, msisdn="+8613800000000",
                                   amount_fen=1000, channel="in_app", cp_order_id="N-2", status="succeeded")  # fmt: skip
    with transaction.atomic():
        note = notifications.notify_cp(charge=charge, event="charge.succeeded")
    assert note is not None
    waits = [
        notifications.notification_send(notification_id=note.pk)
        for _ in range(len(notifications.BACKOFF) + 1)
    ]
    assert waits == [*notifications.BACKOFF, None]
    note.refresh_from_db()
    assert (note.status, note.attempts) == (
        Notification.Status.FAILED,
        len(notifications.BACKOFF) + 1,
    )
