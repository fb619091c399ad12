"""A delivery given up while the carrier cannot answer, after a request that may have reached
it, is not refunded blind: it waits ``unconfirmed`` until the carrier says, by key, whether it
applied the request — delivered if it did, refunded once if it did not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.workbench import todos
from apps.fulfilment import services
from apps.fulfilment.models import Delivery
from apps.fulfilment.tests.test_fulfilment import _balance, _paid_order, airtime  # noqa: F401
from apps.orders.models import OrderLine
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db


def _sweep() -> None:
    """Beat's sweep, as if a minute had passed since the delivery last moved."""
    Delivery.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    services.jobs_retry_stuck()


def _past_its_attempts(job: Delivery) -> None:
    Delivery.objects.filter(pk=job.pk).update(attempts=services.MAX_ATTEMPTS)


def _unconfirmed_todo() -> int:
    [todo] = [t for t in todos() if t.key == "fulfilment.deliveries_unconfirmed"]
    return todo.count()


@pytest.fixture
def short_timeout(settings):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5


def test_applied_then_timed_out_is_delivered_not_refunded(airtime, carrier_sandbox, short_timeout):  # noqa: F811
    order = _paid_order(airtime, quantity=1)
    job = Delivery.objects.get(order_number=order.number)
    # The carrier applies the top-up but answers after we gave up; asking by key times out too.
    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    _past_its_attempts(job)
    _sweep()
    job.refresh_from_db()
    assert job.status == "unconfirmed"
    assert not Refund.objects.exists()
    assert OrderLine.objects.get(order=order).fulfilment == "delivering"  # a refund waits
    # The carrier is still down when the sweep asks: the delivery waits, shown as a to-do.
    carrier_sandbox.set_knobs(lost_response_rate=0.0, error_rate=1.0)
    _sweep()
    assert Delivery.objects.get(pk=job.pk).status == "unconfirmed"
    assert _unconfirmed_todo() == 1
    assert not Refund.objects.exists()
    # Back: the carrier says it applied the key.
    carrier_sandbox.reset_knobs()
    _sweep()
    job.refresh_from_db()
    assert (job.status, job.delivered_units) == ("delivered", 1)
    assert job.carrier_request_id
    assert OrderLine.objects.get(order=order).fulfilment == "delivered"
    assert not Refund.objects.exists()
    assert _balance(carrier_sandbox) == 1000 + 5000  # applied once
    assert _unconfirmed_todo() == 0


def test_never_applied_is_refunded_once_when_the_carrier_says_so(
    airtime,  # noqa: F811
    carrier_sandbox,
    short_timeout,
    django_capture_on_commit_callbacks,
):
    order = _paid_order(airtime, quantity=2)
    job = Delivery.objects.get(order_number=order.number)
    # Requests time out at the carrier without being applied; we cannot tell from here.
    carrier_sandbox.set_knobs(timeout_rate=1.0, hang_ms=1500)
    _past_its_attempts(job)
    _sweep()
    assert Delivery.objects.get(pk=job.pk).status == "unconfirmed"
    assert not Refund.objects.exists()
    carrier_sandbox.reset_knobs()
    with django_capture_on_commit_callbacks(execute=True):
        _sweep()
    job.refresh_from_db()
    assert (job.status, job.delivered_units, job.last_error) == (
        "refunded",
        0,
        "CARRIER_NOT_APPLIED",
    )
    refund = Refund.objects.get()
    assert (refund.automatic, refund.amount_fen) == (True, 2 * 4980)
    _sweep()  # nothing more
    assert Refund.objects.count() == 1
    assert Delivery.objects.get(pk=job.pk).status == "refunded"
    assert _balance(carrier_sandbox) == 1000


def test_a_request_refused_before_it_was_sent_is_refunded_at_once(airtime, carrier_sandbox):  # noqa: F811
    order = _paid_order(airtime, quantity=1)
    job = Delivery.objects.get(order_number=order.number)
    carrier_sandbox.set_knobs(error_rate=1.0)  # 503: refused, nothing applied
    _past_its_attempts(job)
    _sweep()
    carrier_sandbox.reset_knobs()
    assert Delivery.objects.get(pk=job.pk).status == "refunded"
    assert Refund.objects.get().amount_fen == 4980


def test_only_the_units_the_carrier_did_not_apply_are_refunded(airtime, carrier_sandbox):  # noqa: F811
    order = _paid_order(airtime, quantity=2)
    job = Delivery.objects.get(order_number=order.number)
    Delivery.objects.filter(pk=job.pk).update(status="delivering")
    OrderLine.objects.filter(order=order).update(fulfilment="delivering")
    # Unit 0 was applied (its answer lost before it was recorded); unit 1 never was sent.
    from apps.fulfilment.delivery import unit_deliver

    unit_deliver(job, 0)
    Delivery.objects.filter(pk=job.pk).update(status="unconfirmed", maybe_applied=True)
    _sweep()
    job.refresh_from_db()
    assert (job.status, job.delivered_units) == ("refunded", 1)
    assert Refund.objects.get().amount_fen == 4980
    assert _balance(carrier_sandbox) == 1000 + 5000


def test_the_workers_last_retry_asks_too(airtime, carrier_sandbox, short_timeout):  # noqa: F811
    from apps.fulfilment.tasks import job_deliver_task

    order = _paid_order(airtime, quantity=1)
    job = Delivery.objects.get(order_number=order.number)
    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    job_deliver_task.push_request(retries=services.MAX_ATTEMPTS - 1, is_eager=False)
    try:
        assert job_deliver_task.run(job.pk) == "unconfirmed"
    finally:
        job_deliver_task.pop_request()
    assert not Refund.objects.exists()
    carrier_sandbox.reset_knobs()
    _sweep()
    assert Delivery.objects.get(pk=job.pk).status == "delivered"
    assert _balance(carrier_sandbox) == 1000 + 5000
