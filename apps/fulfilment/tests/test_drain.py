"""Deliveries by the chunk (``drain.jobs_drain``) keep every guarantee of the single path:
exactly once at the carrier under concurrent drainers and after a crash, refusals refunded,
unknown outcomes retried, the ledger balanced, the same states and events."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import User
from apps.carrier.models import SmsMessage
from apps.carrier.provinces import _segments
from apps.carrier.services import sms_submit_many
from apps.core.models import AuditEvent, OutboxEvent
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment import drain, services
from apps.fulfilment.models import Delivery
from apps.fulfilment.tasks import job_deliver_task
from apps.fulfilment.tests.support import airtime_product
from apps.ledger.selectors import ledger_check
from apps.orders import services as orders
from apps.orders.models import Order, OrderLine
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund
from tests.fixtures.concurrency import together


def _number_in(code: str) -> str:
    firsts, _, codes = _segments()
    first = next(f for f, c in zip(firsts, codes, strict=True) if c == code)
    return f"+86{first}{random.randrange(10**4):04d}"


@pytest.fixture
def airtime(carrier_sandbox, settings):
    settings.CARRIER_TIMEOUT_SECONDS = 1.0
    settings.CARRIER_MAX_ATTEMPTS = 1
    return airtime_product()


def _balance(sandbox, msisdn: str) -> int:
    url = f"{sandbox.url}/carrier/v1/subscribers/{msisdn.replace('+', '%2B')}"
    return httpx.get(url, headers={"X-Api-Key": sandbox.api_key}).json()["balance_fen"]


def _paid_jobs(sandbox, airtime, count: int, *, province: str = "bj") -> list[Delivery]:
    """``count`` orders paid in points, one 50 yuan top-up each to its own new number; their
    deliveries are created (pending), not run."""
    jobs = []
    for _ in range(count):
        number = _number_in(province)
        sandbox.put_subscriber(number, status="active", balance_fen=0)
        buyer = User.objects.create_user(f"139{random.randrange(10**8):08d}")
        payments.points_grant(user_id=buyer.pk, points=10_000, key=f"d{buyer.pk}", reason="t")
        orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=airtime.skus.get().pk,
                        quantity=1, recipient=number)  # fmt: skip
        with outbox_handled(tasks=False):
            view = orders.checkout_submit(user_id=buyer.pk, checkout_key=f"d{buyer.pk}",
                                          points=4980)  # fmt: skip
        jobs.append(Delivery.objects.get(order_number=view.number))
    return jobs


def _mixed_chunk(sandbox, airtime) -> tuple[Delivery, Delivery, Delivery]:
    """Three pending jobs: one the carrier applies, one it refuses (a suspended line), one
    whose province does not answer."""
    good, refused = _paid_jobs(sandbox, airtime, 2)
    (unknown,) = _paid_jobs(sandbox, airtime, 1, province="gd")
    sandbox.put_subscriber(refused.msisdn, status="suspended")
    sandbox.set_province_knobs("gd", error_rate=1.0)
    return good, refused, unknown


def _actions(job: Delivery) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="delivery", object_id=str(job.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.mark.django_db
def test_a_chunk_delivers_each_job_once_with_its_line_events_and_sms(carrier_sandbox, airtime):
    jobs = _paid_jobs(carrier_sandbox, airtime, 4)
    assert drain.jobs_drain() == {job.pk: "delivered" for job in jobs}
    for job in jobs:
        job.refresh_from_db()
        assert (job.status, job.delivered_units, job.attempts) == ("delivered", 1, 1)
        assert job.carrier_request_id.startswith("BO") and job.delivered_at is not None
        assert _balance(carrier_sandbox, job.msisdn) == 5000
        assert OrderLine.objects.get(pk=job.line_id).fulfilment == "delivered"
        assert _actions(job) == ["delivery.delivering", "delivery.delivered"]
        line_actions = AuditEvent.objects.filter(
            object_type="order_line", object_id=str(job.line_id)
        )
        assert {"order_line.delivering", "order_line.delivered"} <= set(
            line_actions.values_list("action", flat=True)
        )
    ended = OutboxEvent.objects.filter(topic="fulfilment.delivery_ended")
    assert sorted(e.payload["line_id"] for e in ended) == sorted(job.line_id for job in jobs)
    # Nothing left to claim; the single path finds them delivered and sends nothing.
    assert drain.jobs_drain() == {}
    assert services.job_deliver(job_id=jobs[0].pk) == "delivered"
    assert _balance(carrier_sandbox, jobs[0].msisdn) == 5000
    # The recipients' SMS: queued in one batch, sent concurrently.
    messages = list(SmsMessage.objects.filter(msisdn__in=[job.msisdn for job in jobs]))
    assert len(messages) == 4 and {m.status for m in messages} == {"queued"}
    assert sms_submit_many(items=[(m.id, m.preview) for m in messages]) == []
    assert set(SmsMessage.objects.filter(pk__in=[m.pk for m in messages])
               .values_list("status", flat=True)) == {"submitted"}  # fmt: skip
    assert AuditEvent.objects.filter(action="sms.submitted").count() == 4
    changed = OutboxEvent.objects.filter(topic="carrier.sms_status_changed")
    assert sorted(e.payload["message_id"] for e in changed) == sorted(str(m.pk) for m in messages)
    assert {e.payload["status"] for e in changed} == {"submitted"}
    assert sms_submit_many(items=[(m.id, m.preview) for m in messages]) == []  # sends nothing
    assert changed.count() == 4
    assert "¥50.00" in carrier_sandbox.messages(jobs[0].msisdn, limit=1)[0]["text"]


@pytest.mark.django_db
def test_a_chunk_costs_the_same_statements_whatever_its_size(carrier_sandbox, airtime):
    """One statement per state change for the whole chunk: 2 jobs and 6 cost the same."""
    counts = []
    for size in (2, 6):
        _paid_jobs(carrier_sandbox, airtime, size)
        with CaptureQueriesContext(connection) as queries:
            assert len(drain.jobs_drain()) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Claim: UPDATE jobs, UPDATE lines, INSERT audit; finish: UPDATE jobs, UPDATE lines, INSERT
    # events, INSERT SMS rows, INSERT the SMS task's event, INSERT audit; 2 transactions.
    assert counts[1] == 13, [q["sql"][:80] for q in queries.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_two_drainers_at_once_take_disjoint_chunks_and_apply_each_job_once(
    carrier_sandbox, airtime, monkeypatch
):
    # Every transaction commits here: hold the jobs' tasks back, as if no worker took them yet.
    monkeypatch.setattr(services, "delivery_enqueue", lambda delivery: None)
    jobs = _paid_jobs(carrier_sandbox, airtime, 8)
    assert {job.status for job in jobs} == {"pending"}
    first, second = together(lambda: drain.jobs_drain(limit=5), lambda: drain.jobs_drain(limit=5))
    assert not isinstance(first, Exception) and not isinstance(second, Exception)
    assert not set(first) & set(second)
    assert set(first) | set(second) == {job.pk for job in jobs}
    for job in jobs:
        job.refresh_from_db()
        assert (job.status, job.attempts) == ("delivered", 1)
        assert _balance(carrier_sandbox, job.msisdn) == 5000
        assert _actions(job) == ["delivery.delivering", "delivery.delivered"]


@pytest.mark.django_db
def test_a_crash_after_the_carrier_calls_leaves_jobs_the_sweep_finishes_without_a_second_top_up(
    carrier_sandbox, airtime
):
    jobs = _paid_jobs(carrier_sandbox, airtime, 3)
    claimed = drain.jobs_claim()
    for job in claimed:
        assert drain._send(job).last["delivered_units"] == 1  # applied at the carrier...
    # ...and the worker dies before recording anything: the jobs stay delivering.
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivering"}
    assert drain.jobs_drain() == {}  # not claimable again by a drain
    old = timezone.now() - timedelta(minutes=5)
    Delivery.objects.update(updated_at=old)
    assert services.jobs_retry_stuck() == 3
    for job in jobs:
        job.refresh_from_db()
        assert job.status == "delivered"
        assert _balance(carrier_sandbox, job.msisdn) == 5000  # once, not twice


@pytest.mark.django_db
def test_a_job_in_another_drains_chunk_is_left_to_it(carrier_sandbox, airtime):
    """The per-job task of a job another drain has under way sends nothing."""
    job, other = _paid_jobs(carrier_sandbox, airtime, 2)
    assert [j.pk for j in drain.jobs_claim(first=job.pk, limit=1)] == [job.pk]
    assert services.job_deliver_chunked(job_id=job.pk) == services.IN_ANOTHER_CHUNK
    assert _balance(carrier_sandbox, job.msisdn) == 0
    # Its task takes the chunk path for its own job (and any other ready one).
    assert job_deliver_task.apply(args=[other.pk]).get() == "delivered"
    assert _balance(carrier_sandbox, other.msisdn) == 5000


@pytest.mark.django_db
def test_refusals_in_a_chunk_are_refunded_and_unknown_outcomes_retried_alone(
    carrier_sandbox, airtime, django_capture_on_commit_callbacks
):
    good, refused, unknown = _mixed_chunk(carrier_sandbox, airtime)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = drain.jobs_drain()
    assert result == {good.pk: "delivered", refused.pk: "refunded", unknown.pk: "delivering"}
    # After commit: the refund, the events, the SMS batch, and the unknown one's single retry
    # (which, run at once here, still finds the province down and waits).
    assert callbacks
    refused.refresh_from_db()
    assert (refused.status, refused.last_error) == ("refunded", "SUBSCRIBER_NOT_ACTIVE")
    assert OrderLine.objects.get(pk=refused.line_id).fulfilment == "refunded"
    refund = Refund.objects.get()
    assert (refund.automatic, refund.amount_fen, refund.status) == (True, 4980, "succeeded")
    assert (
        payments.points_balance(user_id=Order.objects.get(number=refused.order_number).user_id)
        == 10_000
    )
    unknown.refresh_from_db()
    assert (unknown.status, unknown.last_error) == ("delivering", "CARRIER_UNAVAILABLE")
    assert _balance(carrier_sandbox, unknown.msisdn) == 0
    # The retry, as the single task runs it once the province answers again.
    carrier_sandbox.set_province_knobs("gd")
    from apps.carrier.breaker import breaker_half_open

    breaker_half_open(province="gd")
    assert job_deliver_task.apply(args=[unknown.pk], kwargs={"chunk": False}).get() == "delivered"
    assert _balance(carrier_sandbox, unknown.msisdn) == 5000
    assert _balance(carrier_sandbox, good.msisdn) == 5000
    assert ledger_check() == []


@pytest.mark.django_db
def test_a_claimed_job_counts_as_maybe_applied_until_its_outcome_is_recorded(
    carrier_sandbox, airtime
):
    """A drain that dies (or fails recording) after its calls went out leaves jobs the sweep
    must not refund blind: from the claim on they may have been applied at the carrier."""
    jobs = _paid_jobs(carrier_sandbox, airtime, 2)
    claimed = drain.jobs_claim()
    assert {job.pk for job in claimed} == {job.pk for job in jobs}
    assert set(Delivery.objects.values_list("maybe_applied", flat=True)) == {True}
    # Given up on while the carrier cannot say: unconfirmed (asked by key), not refunded.
    assert services.job_give_up(job_id=jobs[0].pk) == "unconfirmed"
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_a_refusal_that_fails_to_record_stops_nothing_else_of_the_chunk(
    carrier_sandbox, airtime, monkeypatch
):
    good, refused, unknown = _mixed_chunk(carrier_sandbox, airtime)

    def broken_fail(**_kwargs):
        raise RuntimeError("refund failed")

    monkeypatch.setattr(services, "job_fail", broken_fail)
    result = drain.jobs_drain()

    assert result == {good.pk: "delivered", refused.pk: "delivering", unknown.pk: "delivering"}
    unknown.refresh_from_db()
    assert (unknown.status, unknown.last_error) == ("delivering", "CARRIER_UNAVAILABLE")
    refused.refresh_from_db()
    assert (refused.status, refused.maybe_applied) == ("delivering", True)  # for the sweep
    assert _balance(carrier_sandbox, good.msisdn) == 5000
