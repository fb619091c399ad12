"""The carrier answers slowly, fails, or applies a top-up and answers after the platform gave
up waiting (the sandbox's knobs, over real HTTP; deliveries run in this process as the test
settings' eager tasks). Then the carrier recovers and the beat's sweep runs: every paid line
ends delivered once (the carrier applied it once, the subscriber's balance shows it once) or
refunded once (never applied), and the ledger balances.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import transaction

from apps.accounts.models import User
from apps.catalog.tests.factories import category, product, product_type
from apps.core.models import DeadLetter
from apps.fulfilment.models import Delivery
from apps.fulfilment.services import jobs_retry_stuck
from apps.ledger.selectors import ledger_check
from apps.orders import services as orders
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import Refund
from tests.faults.harness import Figures
from tests.fixtures.sandbox import _sandbox_database_url

pytestmark = pytest.mark.django_db(transaction=True)
PRICE = 4980
FACES = {"slow": {"latency_ms": 1200},  # under the platform's timeout (2 s in the tests)
         "failing": {"error_rate": 0.6},  # 503 before anything is applied
         "late": {"lost_response_rate": 1.0, "hang_ms": 2500}}  # applied, answered too late  # fmt: skip
ORDERS_PER_FAULT = 2


def _applied(key: str) -> int:
    with psycopg.connect(_sandbox_database_url()) as conn:
        row = conn.execute("SELECT count(*) FROM sandbox_provisioning WHERE idempotency_key = %s",
                           [key]).fetchone()  # fmt: skip
    return int(row[0]) if row else 0


@pytest.mark.parametrize("fault", list(FACES))
def test_a_slow_failing_or_late_carrier_delivers_each_line_once(carrier_sandbox, settings, fault):
    settings.CARRIER_BREAKER_COOLDOWN_SECONDS = 2.0
    figures = Figures(f"carrier_{fault}", f"carrier knobs {FACES[fault]}")
    schema = [{"key": "face_value", "label": "面值", "type": "int", "required": True}]
    airtime = product(category("airtime"), product_type("airtime", needs_number=True, schema=schema),
                      "话费 50元", price=PRICE, attributes={"face_value": 50})  # fmt: skip
    buyers = []
    for i in range(ORDERS_PER_FAULT):  # carts filled while the carrier still answers
        buyer = User.objects.create_user(f"138001380{i:02d}")
        payments.points_grant(user_id=buyer.pk, points=100_000, key=f"k{i}", reason="t")
        number = f"+86138001386{i:02d}"
        carrier_sandbox.put_subscriber(number, status="active", balance_fen=0)
        orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=airtime.skus.get().pk,
                        quantity=1, recipient=number)  # fmt: skip
        buyers.append(buyer)
    carrier_sandbox.set_knobs(**FACES[fault])
    started = time.monotonic()
    with figures.during_fault():
        for buyer in buyers:
            with transaction.atomic():  # paid with points: delivered after the commit
                orders.checkout_submit(user_id=buyer.pk, checkout_key=f"k{buyer.pk}", points=PRICE)
        for job in Delivery.objects.all():
            figures.record(200 if job.status == "delivered" else job.status)
    figures.notes["seconds_under_fault"] = round(time.monotonic() - started, 1)
    figures.notes["open_after_fault"] = Delivery.objects.exclude(status__in=Delivery.ENDED).count()

    carrier_sandbox.reset_knobs()
    recovered = time.monotonic()
    while Delivery.objects.exclude(status__in=Delivery.ENDED).exists():
        assert time.monotonic() - recovered < 60, list(
            Delivery.objects.values_list("status", "attempts")
        )
        jobs_retry_stuck(older_than_seconds=0)  # the beat's sweep, every minute in production
        time.sleep(0.5)
    figures.recovery_seconds = round(time.monotonic() - recovered, 2)
    jobs = list(Delivery.objects.order_by("pk"))
    figures.notes["carrier_attempts"] = sum(job.attempts for job in jobs)
    figures.notes["ended"] = {
        s: sum(j.status == s for j in jobs) for s in ("delivered", "refunded")
    }
    figures.write()

    assert len(jobs) == ORDERS_PER_FAULT
    for job in jobs:
        assert job.status in Delivery.ENDED
        assert _applied(f"fulfilment:{job.pk}:0") == (1 if job.status == "delivered" else 0), (
            job.status
        )
        balance = carrier_sandbox.put_subscriber(job.msisdn)["balance_fen"]
        assert balance == (5000 if job.status == "delivered" else 0)
    refunded = [job for job in jobs if job.status == "refunded"]
    assert Refund.objects.filter(status="succeeded").count() == len(refunded)
    if fault != "failing":  # slow and late answers lose nothing: each top-up is delivered
        assert not refunded
    assert not DeadLetter.objects.exists()
    assert ledger_check() == []
