"""A real worker killed (SIGKILL) in the middle of a delivery and of a batch: nothing is lost and
nothing is done twice once a new worker takes over.

The kill point is a known state, not a timer: the sandbox applies each carrier request and then
holds its answer back (``lost_response_rate`` 1, ``hang_ms`` one minute), so the test waits until
the sandbox's database shows the request applied and the platform's shows it in flight, then
kills the worker. The broker keeps the killed worker's unacknowledged message until its
visibility timeout (an hour); the outbox sweeper, run here at once, sends the event again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction

from apps.accounts.models import User
from apps.catalog.tests.factories import category, product, product_type
from apps.core import outbox
from apps.core.models import DeadLetter, OutboxEvent, TaskRun
from apps.enterprise import billing
from apps.enterprise import services as bulk
from apps.enterprise.models import BulkBatch, BulkRow
from apps.enterprise.tests.bulk_support import data_packs, enterprise, sandbox_packs
from apps.fulfilment.models import Delivery
from apps.fulfilment.tasks import job_deliver_task
from apps.orders import services as orders
from apps.orders.services import CartOwner
from apps.payments import services as payments
from config.celery import app
from config.embedded import with_database_name
from tests.faults.harness import Figures
from tests.fixtures.sandbox import REPO_ROOT, SandboxServer, _sandbox_database_url
from tests.test_worker_fulfilment import _broker_url, _provisioned, _redis_answers

pytestmark = [
    pytest.mark.skipif(
        not _redis_answers(), reason="needs a Redis server (REDIS_URL) as the broker"
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.faults,  # a worker killed mid-delivery: the fault suite's (docs/reliability.md)
]
HOLD = {"lost_response_rate": 1.0, "hang_ms": 60_000}


class Worker:
    """One ``celery worker`` subprocess (threads pool) on the test database and broker."""

    def __init__(self, sandbox: SandboxServer, log_dir: Path, concurrency: int) -> None:
        self.sandbox, self.log_dir, self.concurrency = sandbox, log_dir, concurrency
        self.process: subprocess.Popen[bytes] | None = None
        self.log = log_dir / "none.log"

    def start(self, name: str) -> None:
        self.log = self.log_dir / f"{name}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": with_database_name(
                django_settings.DATABASE_URL, connection.settings_dict["NAME"]
            ),
            "DATABASE_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": _broker_url(),
            "CARRIER_BASE_URL": self.sandbox.url,
            # Longer than the sandbox holds an answer back: the worker is still waiting when
            # it is killed.
            "CARRIER_TIMEOUT_SECONDS": "90",
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads",
                   "--concurrency", str(self.concurrency), "--loglevel", "INFO",
                   "-n", f"{name}{os.getpid()}@%h", "--without-mingle", "--without-gossip",
                   "--without-heartbeat"]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.wait(lambda: b" ready." in self.log.read_bytes(), "the worker to start", 60)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wait(self, done: Callable[[], bool], what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; worker log:\n"
                    f"{self.log.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.1)


@pytest.fixture
def worker(
    carrier_sandbox: SandboxServer, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Worker]:
    """A worker to start, kill and start again; this process sends tasks through the broker."""
    broker = _broker_url()
    redis.Redis.from_url(broker).flushdb()
    previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}

    def use(**conf: object) -> None:
        app.conf.update(**conf)
        app._pool = None  # eager runs opened a producer pool on the default broker
        app.amqp._producer_pool = None

    use(broker_url=broker, task_always_eager=False)
    one = Worker(carrier_sandbox, tmp_path, concurrency=2)
    try:
        yield one
    finally:
        one.stop()
        carrier_sandbox.reset_knobs()
        use(**previous)


def _in_flight_at_carrier(key_prefix: str) -> int:
    """Requests the sandbox applied under keys starting with ``key_prefix``."""
    with psycopg.connect(_sandbox_database_url()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM sandbox_provisioning WHERE idempotency_key LIKE %s",
            [f"{key_prefix}%"],
        ).fetchone()
    return int(row[0]) if row else 0


def _take_over(worker: Worker, carrier_sandbox: SandboxServer) -> int:
    """Kill the worker, let the carrier answer again, sweep the outbox, start a new worker."""
    worker.kill()
    carrier_sandbox.reset_knobs()
    swept = outbox.events_sweep(older_than_seconds=0)
    worker.start("second")
    return swept


def _figures(name: str, fault: str, in_flight: dict[str, int]) -> Figures:
    """The fault suite's figures for a kill: a "request" is one delivery (or bulk row) and its
    state when the worker was killed; nobody is waiting on an answer, so nobody sees an error."""
    figures = Figures(name, fault)
    figures.requests_during_fault = figures.requests_total = sum(in_flight.values())
    figures.statuses_during_fault = dict(in_flight)
    return figures


def _recovered(figures: Figures, started: float) -> None:
    """From the new worker being ready until everything in flight has ended."""
    figures.recovery_seconds = round(time.monotonic() - started, 2)


def _ledger_balanced() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT journal_id FROM ledger_journalline"
            " GROUP BY journal_id HAVING sum(amount_fen) <> 0) AS unbalanced"
        )
        return cursor.fetchone()[0] == 0


def test_a_delivery_whose_worker_is_killed_is_finished_once_by_the_next(
    worker: Worker, carrier_sandbox: SandboxServer
):
    number = "+8613800138666"
    carrier_sandbox.put_subscriber(number, status="active", balance_fen=0)
    schema = [{"key": "face_value", "label": "面值", "type": "int", "required": True}]
    airtime = product(category("airtime"), product_type("airtime", needs_number=True, schema=schema),
                      "话费 50元", price=4980, attributes={"face_value": 50})  # fmt: skip
    buyer = User.objects.create_user("13800138000")
    payments.points_grant(user_id=buyer.pk, points=10_000, key="k1", reason="t")
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=airtime.skus.get().pk,
                    quantity=1, recipient=number)  # fmt: skip
    worker.start("first")
    carrier_sandbox.set_knobs(**HOLD)
    with transaction.atomic():
        orders.checkout_submit(user_id=buyer.pk, checkout_key="k1", points=4980)
    # The worker handles the order_paid fact (the delivery), then delivers it.
    worker.wait(lambda: Delivery.objects.exists(), "the order_paid fact")
    job = Delivery.objects.get()
    key = f"fulfilment:{job.pk}:0"

    # Applied at the carrier, its answer held back, the job in flight: kill the worker here.
    worker.wait(lambda: _provisioned(key) == 1, "the carrier to apply the airtime")
    assert Delivery.objects.get().status == "delivering"
    event = OutboxEvent.objects.get(topic="core.task", payload__task=job_deliver_task.name)
    assert (event.status, TaskRun.objects.get(pk=str(event.id)).started) == ("pending", 1)
    figures = _figures("worker_killed_mid_delivery", "Celery worker killed (SIGKILL) mid-delivery, "
                       "its top-up applied at the carrier, answer held back", {"delivering": 1})  # fmt: skip
    try:
        assert _take_over(worker, carrier_sandbox) >= 1
        started = time.monotonic()
        worker.wait(lambda: Delivery.objects.get().status == "delivered", "the delivery")
        _recovered(figures, started)
        figures.notes["ended"] = {"delivered": 1, "refunded": 0}
        figures.notes["carrier_applied"] = _provisioned(key)
        figures.notes["task_runs"] = Delivery.objects.get().attempts
    finally:
        figures.write()
    assert _provisioned(key) == 1
    assert carrier_sandbox.put_subscriber(number)["balance_fen"] == 5000
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("done", 2)
    assert Delivery.objects.get().attempts == 2
    # The killed worker's own message, should the broker hand it out again, changes nothing.
    job_deliver_task.apply_async(args=[job.pk], task_id=str(event.id))
    worker.wait(lambda: OutboxEvent.objects.get(pk=event.id).attempts == 3, "the repeat")
    worker.wait(lambda: not TaskRun.objects.filter(pk=str(event.id)).exists(), "the skip")
    assert _provisioned(key) == 1
    assert carrier_sandbox.put_subscriber(number)["balance_fen"] == 5000
    assert not DeadLetter.objects.exists()
    assert _ledger_balanced()


def test_a_batch_whose_worker_is_killed_is_finished_once_by_the_next(
    worker: Worker, carrier_sandbox: SandboxServer
):
    data_packs()
    numbers = [f"+86138001387{i:02d}" for i in range(30)]  # two chunks: 25 and 5 rows
    for number in numbers:
        carrier_sandbox.put_subscriber(number, status="active")
    owner = enterprise(topup_fen=100_000)
    content = "\n".join(["手机号,流量包", *[f"{n[3:]},DATA-500M" for n in numbers]]).encode()
    worker.start("first")
    carrier_sandbox.set_knobs(**HOLD)
    created = bulk.bulk_batch_create(owner_id=owner.pk, file_name="k.csv", content=content)

    # Both worker threads hold one row each, applied at the carrier and not yet recorded.
    prefix = f"bulk:{created.batch_no}:"
    worker.wait(lambda: _in_flight_at_carrier(prefix) == 2, "two rows applied at the carrier")
    assert BulkRow.objects.filter(status="delivering").count() == 2
    assert BulkRow.objects.filter(status="delivered").count() == 0
    states = {s: BulkRow.objects.filter(status=s).count() for s in ("delivering", "pending")}
    figures = _figures("worker_killed_mid_batch", "Celery worker killed (SIGKILL) mid-batch of 30 "
                       "data packs, two rows applied at the carrier, answers held back", states)  # fmt: skip
    try:
        assert _take_over(worker, carrier_sandbox) >= 2
        started = time.monotonic()
        worker.wait(lambda: BulkBatch.objects.get().status == "completed", "the batch", 90)
        _recovered(figures, started)
        figures.notes["ended"] = {
            s: BulkRow.objects.filter(status=s).count() for s in ("delivered", "failed")
        }
        figures.notes["carrier_applied"] = _in_flight_at_carrier(prefix)
    finally:
        figures.write()
    assert set(BulkRow.objects.values_list("status", flat=True)) == {"delivered"}
    assert [len(sandbox_packs(n, created.batch_no)) for n in numbers] == [1] * 30
    balance = billing.prepaid_balance(enterprise_id=owner.pk)
    assert (balance.available_fen, balance.held_fen) == (100_000 - 30 * 300, 0)
    assert not OutboxEvent.objects.filter(status="pending").exists()
    assert not DeadLetter.objects.exists()
    assert _ledger_balanced()
