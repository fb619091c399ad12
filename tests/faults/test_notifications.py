"""Provider notifications duplicated (at once), out of order and 25 hours late.

The sandbox plays the providers over HTTP and keeps each signed notification (``lost`` mode);
the test then sends it to the live platform as a provider would: many copies at once, in the
wrong order, or a day late (Alipay repeats an unanswered notification for 25 hours). Each
payment counts once, money for an order that was cancelled or expired meanwhile is taken and
refunded once (never delivered), and the ledger balances.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.ledger.selectors import account_balance, ledger_check
from apps.orders import services as orders
from apps.orders.models import Order
from apps.payments.models import PaymentEvent, PaymentIntent, Refund
from apps.payments.services import intent_sync
from apps.payments.tests.test_provider_wechat import platform_headers
from tests import test_payments_e2e as e2e
from tests.faults.harness import Figures
from tests.test_payments_e2e import _lost_note, _order, _pay_at_cashier, _start

pytestmark = pytest.mark.django_db(transaction=True)
COPIES = 8
shop = e2e.shop  # the fixture: a catalog, a buyer, the live platform, the sandbox


def _replay(shop, note: dict) -> httpx.Response:
    """Send a kept notification as its provider does; WeChat Pay signs each attempt afresh
    (the sandbox keeps the body of a notification it did not send, not its headers)."""
    headers = {
        k: v for k, v in note["headers"].items() if k.lower() not in ("content-length", "host")
    }
    if "/notify/wechat/" in note["url"]:
        headers = {"Content-Type": "application/json", **platform_headers(note["body"].encode())}
    return httpx.post(note["url"], content=note["body"].encode(), headers=headers, timeout=10)


def _send_at_once(shop, note: dict, figures: Figures, copies: int = COPIES) -> list[int | str]:
    """``copies`` threads post the same notification together (a barrier, not a timer)."""
    barrier = threading.Barrier(copies)
    answers: list[int | str] = []

    def post() -> None:
        barrier.wait()
        try:
            status: int | str = _replay(shop, note).status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        figures.record(status)
        answers.append(status)

    threads = [threading.Thread(target=post) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def _delivered_lines(number: str) -> list[str]:
    return list(Order.objects.get(number=number).lines.values_list("fulfilment", flat=True))


@pytest.mark.parametrize("method", ["alipay", "wechat", "unionpay"])
def test_a_notification_sent_many_times_at_once_counts_once(shop, method):
    figures = Figures(
        f"notifications_duplicated_{method}",
        f"{COPIES} copies of one {method} notification at once",
    )
    number = _order(shop)
    intent = _start(shop, number, method)
    _pay_at_cashier(intent, mode="lost")
    note = _lost_note(shop, intent)
    with figures.during_fault():
        answers = _send_at_once(shop, note, figures)
    figures.write()
    assert all(isinstance(a, int) and a < 500 for a in answers), answers
    assert Order.objects.get(number=number).status == "completed"
    assert _delivered_lines(number) == ["delivered"]
    assert PaymentEvent.objects.filter(kind="notification", verified=True).count() == 1
    assert account_balance(code=f"clearing:{method}") == 3000
    assert not Refund.objects.exists()
    assert ledger_check() == []


def test_notifications_out_of_order_pay_once_and_refund_the_other(shop):
    """The buyer paid at Alipay and at WeChat Pay; WeChat's notification arrives first, then
    the poller learns of Alipay's by a query, then Alipay's notification arrives, then both again."""
    figures = Figures(
        "notifications_out_of_order",
        "two providers' notifications for one order, reversed and repeated",
    )
    number = _order(shop)
    first = _start(shop, number, "alipay", attempt="a1")
    _pay_at_cashier(first, mode="lost")
    second = _start(shop, number, "wechat", attempt="a2")
    _pay_at_cashier(second, mode="lost")
    alipay_note, wechat_note = _lost_note(shop, first), _lost_note(shop, second)
    with figures.during_fault():
        figures.record(_replay(shop, wechat_note).status_code)
        # The poller learns of Alipay's payment by a query before its notification arrives.
        assert intent_sync(public_id=first.public_id) == "refunding"
        for note in (alipay_note, wechat_note, alipay_note):
            figures.record(_replay(shop, note).status_code)
    figures.write()
    assert figures.server_errors_during_fault == 0
    order = Order.objects.get(number=number)
    assert order.status == "completed"
    assert _delivered_lines(number) == ["delivered"]
    paid = PaymentIntent.objects.get(public_id=second.public_id)
    late = PaymentIntent.objects.get(public_id=first.public_id)
    assert (paid.status, paid.settles) == ("succeeded", True)
    assert (late.status, late.settles) == ("refunded", False)
    [refund] = Refund.objects.all()
    assert (refund.intent_id, refund.amount_fen, refund.automatic, refund.status) == (
        late.pk,
        3000,
        True,
        "succeeded",
    )
    assert account_balance(code="clearing:wechat") == 3000
    assert account_balance(code="clearing:alipay") == 0
    assert ledger_check() == []


@pytest.mark.parametrize("meanwhile", ["expired", "cancelled"])
def test_a_success_notified_25_hours_late_is_refunded_not_delivered(shop, meanwhile):
    """Alipay repeats an unanswered notification for 25 hours: the order expired (or its buyer
    cancelled it) long before the money is reported. The money is taken and refunded once; the
    order stays closed and nothing is delivered."""
    figures = Figures(
        f"notification_25h_late_{meanwhile}",
        f"success notified 25 h late, order {meanwhile} meanwhile",
    )
    number = _order(shop)
    intent = _start(shop, number, "alipay")
    _pay_at_cashier(intent, mode="lost")
    note = _lost_note(shop, intent)
    day_ago = timezone.now() - timedelta(hours=25)
    if meanwhile == "expired":
        Order.objects.filter(number=number).update(
            created_at=day_ago, expires_at=day_ago + timedelta(minutes=15)
        )
        assert orders.orders_expire() == 1
    else:
        orders.order_cancel(number=number, user_id=shop["buyer"].pk)
    PaymentIntent.objects.filter(public_id=intent.public_id).update(created_at=day_ago)
    assert PaymentIntent.objects.get(public_id=intent.public_id).status in ("expired", "cancelled")
    with figures.during_fault():
        for _ in range(3):  # the provider is not sure it was heard
            figures.record(_replay(shop, note).status_code)
    figures.write()
    assert figures.server_errors_during_fault == 0
    assert Order.objects.get(number=number).status == meanwhile
    assert set(_delivered_lines(number)) <= {"none", "cancelled", ""}, _delivered_lines(number)
    late = PaymentIntent.objects.get(public_id=intent.public_id)
    assert (late.status, late.settles) == ("refunded", False)
    [refund] = Refund.objects.all()
    assert (refund.amount_fen, refund.automatic, refund.status) == (3000, True, "succeeded")
    assert PaymentEvent.objects.filter(kind="notification", verified=True).count() == 1
    assert account_balance(code="clearing:alipay") == 0
    assert ledger_check() == []
