"""Payments under real concurrency (threads against PostgreSQL): one lock order, repeats answer alike."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.ledger.selectors import ledger_check
from apps.orders.models import Order
from apps.orders.tests.support import paid_order
from apps.payments import services
from apps.payments.handlers import PurposeHandler, purpose_register
from apps.payments.models import PaymentEvent, PaymentIntent, Refund

pytestmark = pytest.mark.django_db(transaction=True)
purpose_register("race", PurposeHandler(on_succeeded=lambda fact: True))


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once on their own connections; each result or the exception raised."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = calls[n]()
        except Exception as exc:
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _wait_until_a_backend_waits_for_a_lock(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh within a transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("nobody waited for a lock")


def test_refund_completion_locks_the_order_before_the_payment():
    """user → order → stock → payment → ledger: completing a refund waits for the order first,
    holding nothing of payments, so a path that holds the order and then locks the intent
    (a notification, a cancellation) cannot deadlock with it."""
    buyer = User.objects.create_user("13800138000")
    order = paid_order(buyer, [small_catalog()["vip"]])
    intent = PaymentIntent.objects.get()
    finance = User.objects.create_user("13800000001")
    refund = services.refund_request(
        intent_id=intent.pk, amount_fen=intent.amount_fen, reason="t", request_key="r",
        requested_by=buyer.pk,
    )  # fmt: skip
    outcome: list[str] = []

    def approve() -> None:
        # Tests run tasks in-process: the refund is carried out when the approval commits.
        decided = services.refund_decide(refund_id=refund.id, approve=True, actor_id=finance.pk)
        outcome.append(decided.status)
        connection.close()

    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order.pk)
        worker = threading.Thread(target=approve)
        worker.start()
        _wait_until_a_backend_waits_for_a_lock()
        # The refund is waiting for the order and holds neither the intent nor the refund.
        PaymentIntent.objects.select_for_update(nowait=True).get(pk=intent.pk)
        Refund.objects.select_for_update(nowait=True).get(pk=refund.id)
    worker.join()
    assert outcome == ["approved"]
    assert Refund.objects.get().status == "succeeded"
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == ("refunded", intent.amount_fen)
    assert ledger_check() == []


def test_identical_refund_requests_at_once_get_the_same_refund():
    buyer = User.objects.create_user("13800138000")
    paid_order(buyer, [small_catalog()["vip"]])
    intent = PaymentIntent.objects.get()

    def ask() -> int:
        return services.refund_request(
            intent_id=intent.pk, amount_fen=intent.amount_fen, reason="t", request_key="same",
            requested_by=buyer.pk,
        ).id  # fmt: skip

    results = _together([ask] * 6)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert Refund.objects.count() == 1


def test_concurrent_confirms_of_a_phone_bill_charge_all_answer_the_success(carrier_sandbox):
    carrier_sandbox.put_subscriber("+8613800138555", status="active", balance_fen=10_000)
    buyer = User.objects.create_user("13800138555")
    intent = services.intent_start(
        purpose="race", reference="ref-1", user_id=buyer.pk, method="carrier_billing", channel="",
        amount_fen=1500, subject="视频会员", client_ip="127.0.0.1", idempotency_key="k1",
        expires_at=timezone.now() + timedelta(minutes=15), return_url="",
    )  # fmt: skip
    text = carrier_sandbox.messages("+8613800138555", limit=1)[0]["text"]
    found = re.search(r"验证码(\d{6})", text)
    assert found is not None
    code = found.group(1)

    def confirm() -> str:
        return services.carrier_billing_confirm(
            public_id=intent.public_id, user_id=buyer.pk, code=code
        ).status

    results = _together([confirm] * 5)
    assert results == ["succeeded"] * 5
    assert PaymentEvent.objects.filter(intent__public_id=intent.public_id).count() == 1
    assert ledger_check() == []
