"""A real ``celery -A config worker`` subprocess on Redis delivers paid airtime and a bulk batch.

The worker runs with the production settings (``config.settings.base``) pointed at the test
database, a Redis database as its broker and the test's carrier sandbox, so everything the
tasks enqueue goes through the broker too. Skipped only when Redis does not answer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction

from apps.accounts.models import User
from apps.catalog.tests.factories import category, product, product_type
from apps.core.models import OutboxEvent
from apps.enterprise import services as bulk
from apps.enterprise.models import BulkBatch, BulkRow
from apps.enterprise.tests.bulk_support import data_packs, enterprise, sandbox_packs
from apps.fulfilment.models import Delivery
from apps.orders import services as orders
from apps.orders.services import CartOwner
from apps.payments import services as payments
from config.celery import app
from config.embedded import with_database_name
from tests.fixtures.sandbox import REPO_ROOT, SandboxServer, _sandbox_database_url


def _broker_url() -> str:
    """A Redis database of its own (5, 6, ... per xdist worker): the suite flushes 10 and up."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    parts = urlsplit(django_settings.REDIS_URL or "redis://127.0.0.1:6379/0")
    return urlunsplit(parts._replace(path=f"/{5 + int(worker[2:] or 0)}"))


def _redis_answers() -> bool:
    if not django_settings.REDIS_URL:
        return False
    try:
        return bool(redis.Redis.from_url(_broker_url(), socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.skipif(
        not _redis_answers(), reason="needs a Redis server (REDIS_URL) as the broker"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def worker(
    carrier_sandbox_server: SandboxServer, django_db_setup, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """``celery worker`` (threads, 8) for this module; yields its log file."""
    broker = _broker_url()
    redis.Redis.from_url(broker).flushdb()  # no message left by an earlier session
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": with_database_name(
            django_settings.DATABASE_URL, connection.settings_dict["NAME"]
        ),
        "DATABASE_CONN_MAX_AGE": "0",  # the tests flush tables between them
        "CELERY_BROKER_URL": broker,
        "CARRIER_BASE_URL": carrier_sandbox_server.url,
        "CARRIER_TIMEOUT_SECONDS": "2",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads",
               "--concurrency", "8", "--loglevel", "INFO", "-n", f"test{os.getpid()}@%h", "--without-mingle",
               "--without-gossip", "--without-heartbeat"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"worker did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.2)
        yield log_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def through_broker(worker: Path, carrier_sandbox) -> Iterator[Path]:
    """This process sends tasks to the broker instead of running them itself."""
    previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}

    def use(**conf: object) -> None:
        app.conf.update(**conf)
        app._pool = None  # eager runs opened a producer pool on the default broker
        app.amqp._producer_pool = None

    use(broker_url=_broker_url(), task_always_eager=False)
    try:
        yield worker
        # The worker finishes what the test set going (the SMS's status, the order's settlement)
        # before the teardown empties the tables: a transaction of it racing the flush deadlocked.
        _wait(lambda: not OutboxEvent.objects.filter(status="pending").exists(), worker)
    finally:
        use(**previous)


def _wait(done: Callable[[], bool], log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out; worker log:\n{log.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.1)


def _provisioned(key: str) -> int:
    with psycopg.connect(_sandbox_database_url()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM sandbox_provisioning WHERE idempotency_key = %s", [key]
        ).fetchone()
    return int(row[0]) if row else 0


def test_worker_delivers_a_paid_airtime_order_once(through_broker, carrier_sandbox):
    number = "+8613800138555"
    carrier_sandbox.put_subscriber(number, status="active", balance_fen=0)
    schema = [{"key": "face_value", "label": "面值", "type": "int", "required": True}]
    airtime = product(category("airtime"), product_type("airtime", needs_number=True, schema=schema),
                      "话费 50元", price=4980, attributes={"face_value": 50})  # fmt: skip
    buyer = User.objects.create_user("13800138000")
    payments.points_grant(user_id=buyer.pk, points=10_000, key="w1", reason="t")
    orders.cart_add(
        owner=CartOwner(user_id=buyer.pk),
        sku_id=airtime.skus.get().pk,
        quantity=1,
        recipient=number,
    )
    with transaction.atomic():
        orders.checkout_submit(user_id=buyer.pk, checkout_key="w1", points=4980)  # paid in points
        assert not Delivery.objects.exists()  # the order_paid fact is handled after commit
    # The worker handles the fact (creates the delivery), then delivers it.
    _wait(lambda: Delivery.objects.filter(status="delivered").exists(), through_broker)
    job = Delivery.objects.get()
    assert _provisioned(f"fulfilment:{job.pk}:0") == 1
    assert carrier_sandbox.put_subscriber(number)["balance_fen"] == 5000
    # The delivery SMS went through the broker too.
    _wait(lambda: bool(carrier_sandbox.messages(number)), through_broker)


def test_worker_runs_a_bulk_batch_with_bad_rows_to_completion(through_broker, carrier_sandbox):
    data_packs()
    numbers = [f"+86138001386{i:02d}" for i in range(24)]
    for number in numbers:
        carrier_sandbox.put_subscriber(number, status="active")
    carrier_sandbox.put_subscriber(numbers[-1], status="suspended")
    owner = enterprise(topup_fen=100_000)
    lines = [
        "手机号,流量包",
        *[f"{n[3:]},DATA-500M" for n in numbers],
        "12345,DATA-500M",
        f"{numbers[0][3:]},DATA-500M",
    ]
    created = bulk.bulk_batch_create(
        owner_id=owner.pk, file_name="w.csv", content="\n".join(lines).encode()
    )
    _wait(lambda: BulkBatch.objects.get().status == "completed", through_broker)
    rows = dict(BulkRow.objects.values_list("row_no", "status"))
    assert sum(1 for s in rows.values() if s == "delivered") == 23
    assert (rows[25], rows[26], rows[27]) == ("failed", "invalid", "invalid")
    assert BulkRow.objects.get(row_no=27).error_code == "DUPLICATE_OF_LINE_2"
    assert all(len(sandbox_packs(n, created.batch_no)) == 1 for n in numbers[:-1])
    assert sandbox_packs(numbers[-1], created.batch_no) == []
