"""Electronic goods delivered through the carrier sandbox exactly once, or refunded."""

from __future__ import annotations

import httpx
import pytest

from apps.accounts.models import User
from apps.carrier.errors import CarrierUnavailable
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment import services
from apps.fulfilment.models import Delivery
from apps.fulfilment.tests.support import airtime_product
from apps.orders import services as orders
from apps.orders.models import Order, OrderLine
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db
NUMBER = "+8613800138777"


@pytest.fixture
def airtime(carrier_sandbox):
    carrier_sandbox.put_subscriber(NUMBER, status="active", balance_fen=1000)
    return airtime_product()


def _balance(sandbox) -> int:
    url = f"{sandbox.url}/carrier/v1/subscribers/%2B8613800138777"
    return httpx.get(url, headers={"X-Api-Key": sandbox.api_key}).json()["balance_fen"]


def _paid_order(
    airtime, quantity: int = 2, *, tasks: bool = False, phone: str = "13800138000"
) -> Order:
    """An order paid in points, whose order_paid fact has created the line's delivery."""
    buyer = User.objects.create_user(phone)
    payments.points_grant(user_id=buyer.pk, points=100_000, key=f"f{buyer.pk}", reason="t")
    orders.cart_add(
        owner=CartOwner(user_id=buyer.pk),
        sku_id=airtime.skus.get().pk,
        quantity=quantity,
        recipient=NUMBER,
    )
    with outbox_handled(tasks=tasks):  # the order_paid fact creates the delivery (and runs it)
        view = orders.checkout_submit(
            user_id=buyer.pk, checkout_key=f"f{phone}", points=4980 * quantity
        )
    return Order.objects.get(number=view.number)


def test_paid_airtime_is_delivered_once_and_texted(
    airtime, carrier_sandbox, django_capture_on_commit_callbacks
):
    order = _paid_order(airtime, tasks=True)
    job = Delivery.objects.get()
    assert (job.status, job.units, job.delivered_units, job.amount_fen) == ("delivered", 2, 2, 5000)
    assert _balance(carrier_sandbox) == 1000 + 2 * 5000
    assert OrderLine.objects.get(order=order).fulfilment == "delivered"
    # Running the job again applies nothing more.
    assert services.job_deliver(job_id=job.pk) == "delivered"
    assert _balance(carrier_sandbox) == 11_000
    assert (
        carrier_sandbox.messages(NUMBER, limit=1)[0]["text"]
        == f"【CarrierHub】¥100.00已到账（订单 {order.number}）。"
    )


def test_a_lost_answer_is_checked_before_any_retry(airtime, carrier_sandbox, settings):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    order = _paid_order(airtime, quantity=1)
    job = Delivery.objects.get(order_number=order.number)
    assert (job.status, job.kind, job.line_id) == ("pending", "airtime", order.lines.get().pk)
    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    with pytest.raises(CarrierUnavailable):
        services.job_deliver(job_id=job.pk)  # applied, answer lost, by-key also times out
    carrier_sandbox.set_knobs(lost_response_rate=0.0)
    assert services.job_deliver(job_id=job.pk) == "delivered"
    assert _balance(carrier_sandbox) == 1000 + 5000  # once, not twice


def test_a_refused_delivery_is_refunded_automatically(
    airtime, carrier_sandbox, django_capture_on_commit_callbacks
):
    order = _paid_order(airtime, quantity=1)
    carrier_sandbox.put_subscriber(NUMBER, status="suspended")
    job = Delivery.objects.get(order_number=order.number)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_deliver(job_id=job.pk) == "refunded"
    job.refresh_from_db()
    assert (job.status, job.last_error) == ("refunded", "SUBSCRIBER_NOT_ACTIVE")
    assert OrderLine.objects.get(order=order).fulfilment == "refunded"
    refund = Refund.objects.get()
    assert (refund.automatic, refund.amount_fen, refund.status) == (True, 4980, "succeeded")
    assert payments.points_balance(user_id=order.user_id) == 100_000
    assert _balance(carrier_sandbox) == 1000


def test_jobs_stuck_past_their_attempts_are_failed_and_refunded(airtime, carrier_sandbox):
    from datetime import timedelta

    from django.utils import timezone

    order = _paid_order(airtime, quantity=1)
    job = Delivery.objects.get(order_number=order.number)
    Delivery.objects.filter(pk=job.pk).update(status="delivering", attempts=services.MAX_ATTEMPTS,
                                                   updated_at=timezone.now() - timedelta(minutes=5))  # fmt: skip
    OrderLine.objects.filter(order=order).update(fulfilment="delivering")
    # Given up only when one more run still cannot reach the carrier (a run that reaches it
    # asks by key first: tests/faults/test_carrier_faults.py, the late answer).
    carrier_sandbox.set_knobs(error_rate=1.0)
    assert services.jobs_retry_stuck() == 1
    carrier_sandbox.reset_knobs()
    assert Delivery.objects.get(pk=job.pk).status == "refunded"
    assert _balance(carrier_sandbox) == 1000


def test_a_job_whose_order_was_refunded_first_delivers_nothing_nor_stops_the_sweep(
    airtime, carrier_sandbox
):
    from datetime import timedelta

    from django.utils import timezone

    order = _paid_order(airtime, quantity=1)
    job = Delivery.objects.get(order_number=order.number)
    with outbox_handled(tasks=True):  # the buyer asks, finance approves, the points come back
        [refund_id] = orders.order_refund_request(
            number=order.number, user_id=order.user_id, reason=""
        )
        payments.refund_decide(refund_id=refund_id, approve=True, actor_id=order.user_id)
    job.refresh_from_db()
    assert (job.status, job.last_error) == ("refunded", "REFUND_REQUESTED")
    assert OrderLine.objects.get(order=order).fulfilment == "refunded"
    assert services.job_deliver(job_id=job.pk) == "refunded"
    # The sweep does not pick it up, and a stuck job next to it is still retried.
    other = Delivery.objects.get(order_number=_paid_order(airtime, 1, phone="13900139000").number)
    Delivery.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    assert services.jobs_retry_stuck() == 1
    other.refresh_from_db()
    assert other.status == "delivered"
    assert Refund.objects.get().amount_fen == 4980
    assert _balance(carrier_sandbox) == 1000 + 5000  # only the other job's top-up


def test_one_delivery_costs_a_pinned_number_of_statements(airtime, carrier_sandbox):
    """Delivery throughput is bound by the worker's CPU per statement (docs/performance.md):
    a change that adds statements to the delivery path must show up here."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.carrier.models import SmsMessage
    from apps.carrier.services import sms_submit
    from apps.core.models import AuditEvent

    order = _paid_order(airtime, quantity=1)
    job = Delivery.objects.get(order_number=order.number)
    audit_before = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert services.job_deliver(job_id=job.pk) == "delivered"
    # The test runs inside a transaction, so the service's transactions are savepoints here.
    outer = {"SAVEPOINT": "BEGIN", "RELEASE": "COMMIT"}
    statements = [
        outer.get(word, word)
        for word in (q["sql"].split(" ", 1)[0] for q in queries.captured_queries)
    ]
    # Two transactions (delivering; delivered with the SMS and the outbox events of the line's
    # end and of the SMS), the carrier call between them; each locks the delivery, then the
    # line's summary in orders.
    assert statements == [
        "BEGIN", "SELECT", "SELECT", "UPDATE", "UPDATE", "INSERT", "COMMIT",
        "BEGIN", "SELECT", "SELECT", "UPDATE", "INSERT", "UPDATE", "INSERT", "INSERT", "INSERT", "COMMIT",
    ]  # fmt: skip
    job.refresh_from_db()
    assert (job.status, job.delivered_units, job.attempts) == ("delivered", 1, 1)
    assert job.carrier_request_id
    assert OrderLine.objects.get(order=order).fulfilment == "delivered"
    assert list(
        AuditEvent.objects.order_by("id")[audit_before:].values_list("action", flat=True)
    ) == [
        "delivery.delivering", "order_line.delivering", "delivery.delivered",
        "order_line.delivered",
    ]  # fmt: skip
    assert _balance(carrier_sandbox) == 1000 + 5000
    # Then the SMS task: read the message, the carrier call, one conditional update + audit +
    # the status change's outbox event.
    message = SmsMessage.objects.get(msisdn=NUMBER, status="queued")
    with CaptureQueriesContext(connection) as queries:
        sms_submit(message_id=message.id, text=message.preview)
    assert [outer.get(w, w) for w in (q["sql"].split(" ", 1)[0] for q in queries.captured_queries)] == [
        "SELECT", "BEGIN", "UPDATE", "INSERT", "INSERT", "COMMIT",
    ]  # fmt: skip
    message.refresh_from_db()
    assert (message.status, message.segments) == ("submitted", 1)
    assert message.carrier_message_id
    assert AuditEvent.objects.order_by("-id").values_list("action", "after")[0] == (
        "sms.submitted", {"status": "submitted", "carrier_message_id": message.carrier_message_id},
    )  # fmt: skip
