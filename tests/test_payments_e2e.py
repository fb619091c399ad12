"""Buying for real: checkout, pay at each provider's sandbox cashier, the signed notification
comes back over HTTP to the platform, the order is paid and booked. Then the bad cases:
replays, tampering, lost notifications, wrong amounts, money after cancellation, refunds."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.ledger.selectors import account_balance, ledger_check
from apps.orders import services as orders
from apps.orders.models import Order
from apps.orders.services import CartOwner
from apps.payments import services as payments
from apps.payments.models import PaymentEvent, PaymentIntent, Refund
from apps.payments.tests.test_provider_alipay import html_forms, submit
from apps.payments.tests.test_provider_wechat import click

pytestmark = pytest.mark.django_db(transaction=True)
CHANNEL = {"alipay": "page", "wechat": "native", "unionpay": "front"}


@pytest.fixture
def shop(carrier_sandbox, live_server, settings):
    """A catalog, a buyer with a video membership in the cart, the platform reachable over HTTP."""
    settings.PAYMENTS_PUBLIC_BASE_URL = live_server.url
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    return {"catalog": catalog, "buyer": buyer, "live": live_server.url, "sandbox": carrier_sandbox}


def _order(shop, key: str = "k") -> str:
    sku = shop["catalog"]["vip"].skus.get().pk
    orders.cart_add(owner=CartOwner(user_id=shop["buyer"].pk), sku_id=sku, quantity=2)
    return orders.checkout_submit(user_id=shop["buyer"].pk, checkout_key=key).number


def _start(shop, number: str, method: str, attempt: str = "a1") -> payments.IntentView:
    return orders.order_pay(
        number=number, user_id=shop["buyer"].pk, method=method, channel=CHANNEL[method], client_ip="127.0.0.1",
        attempt_key=attempt, return_url=f"{shop['live']}/orders/{number}/result/",
    )  # fmt: skip


def _pay_at_cashier(intent: payments.IntentView, *, mode: str = "normal") -> None:
    """What the buyer does in the browser at the provider's (sandbox) cashier."""
    action = intent.action
    with httpx.Client(timeout=10.0) as browser:
        if action["kind"] == "qr":
            assert click(action["qr_text"], notify_mode=mode).status_code == 200
            return
        if action["kind"] == "redirect":
            landing = browser.get(action["url"])
        else:
            landing = browser.post(action["url"], data=action["form_fields"])
        cashier = browser.get(httpx.URL(action["url"]).join(landing.headers["location"]))
        paid = submit(browser, cashier, "pay-form", notify_mode=mode)
        assert paid.status_code in (200, 302)


def _wait(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _status(number: str) -> str:
    return Order.objects.get(number=number).status


def _lost_note(shop, intent) -> dict:
    """The notification the sandbox made but, in "lost" mode, never sent."""
    assert _wait(lambda: bool(shop["sandbox"].pay_notifications(intent.public_id)))
    return shop["sandbox"].pay_notifications(intent.public_id)[0]


def _replay(shop, note: dict, body: str | None = None) -> httpx.Response:
    headers = {
        k: v for k, v in note["headers"].items() if k.lower() not in ("content-length", "host")
    }
    return httpx.post(
        note["url"],
        content=(body if body is not None else note["body"]).encode(),
        headers=headers,
        timeout=10,
    )


@pytest.mark.parametrize("method", ["alipay", "wechat", "unionpay"])
def test_paid_once_through_the_signed_notification_and_replays_change_nothing(shop, method):
    number = _order(shop)
    intent = _start(shop, number, method)
    _pay_at_cashier(intent)
    assert _wait(lambda: _status(number) == "completed"), PaymentEvent.objects.values_list(
        "outcome", flat=True
    )
    assert PaymentIntent.objects.get(public_id=intent.public_id).status == "succeeded"
    assert account_balance(code=f"clearing:{method}") == 3000
    # The digital line is delivered once paid (its entitlement handed on): the order completes.
    assert list(Order.objects.get(number=number).lines.values_list("fulfilment", flat=True)) == [
        "delivered"
    ]

    notes = shop["sandbox"].pay_notifications(intent.public_id)
    for _ in range(10):
        answer = _replay(shop, notes[0])
        assert answer.status_code in (200, 204), (
            answer.text,
            list(PaymentEvent.objects.values_list("outcome", "dedupe_key", "created_at")),
            notes[0]["headers"],
        )
    assert PaymentEvent.objects.filter(verified=True, kind="notification").count() == 1
    assert account_balance(code=f"clearing:{method}") == 3000
    assert ledger_check() == []


@pytest.mark.parametrize("method", ["alipay", "unionpay"])
def test_tampered_notifications_are_refused_with_nothing_changed(shop, method):
    number = _order(shop)
    intent = _start(shop, number, method)
    _pay_at_cashier(intent, mode="lost")  # the sandbox keeps it; we send the forgeries
    note = _lost_note(shop, intent)
    fields = dict(parse_qsl(note["body"], keep_blank_values=True))
    amount_field = "total_amount" if method == "alipay" else "txnAmt"
    merchant_field = "app_id" if method == "alipay" else "merId"
    signature_field = "sign" if method == "alipay" else "signature"
    forgeries = [
        {**fields, amount_field: "0.01" if method == "alipay" else "1"},
        {**fields, merchant_field: "2088000000000000"},
        {**fields, signature_field: fields[signature_field][:-8] + "AAAAAAA="},
    ]
    for forged in forgeries:
        response = _replay(shop, note, body=urlencode(forged))
        assert response.status_code == 200 or response.status_code >= 400
        assert response.text.strip() in ("fail", "") or response.status_code >= 400
    assert _status(number) == "pending_payment"
    assert PaymentEvent.objects.filter(verified=True).count() == 0
    assert PaymentEvent.objects.filter(verified=False).count() == 3
    assert account_balance(code=f"clearing:{method}") == 0


def test_tampered_wechat_notification_is_refused(shop):
    number = _order(shop)
    intent = _start(shop, number, "wechat")
    _pay_at_cashier(intent, mode="lost")
    note = _lost_note(shop, intent)
    forged = (
        note["body"]
        .replace('"ciphertext": "', '"ciphertext": "AAAA')
        .replace('"ciphertext":"', '"ciphertext":"AAAA')
    )
    assert forged != note["body"]
    assert _replay(shop, note, body=forged).status_code >= 400
    assert _status(number) == "pending_payment"
    assert not PaymentEvent.objects.filter(verified=True).exists()


@pytest.mark.parametrize("method", ["alipay", "wechat", "unionpay"])
def test_a_lost_notification_is_recovered_by_the_poller(shop, method):
    number = _order(shop)
    intent = _start(shop, number, method)
    _pay_at_cashier(intent, mode="lost")
    time.sleep(0.5)
    assert _status(number) == "pending_payment"
    assert payments.intents_sync_pending(older_than_seconds=0) == 1
    assert _status(number) == "completed"
    assert payments.intents_sync_pending(older_than_seconds=0) == 0
    assert account_balance(code=f"clearing:{method}") == 3000


def test_a_wrong_amount_puts_the_payment_under_review_and_does_not_pay(shop):
    number = _order(shop)
    intent = _start(shop, number, "alipay")
    _pay_at_cashier(intent, mode="wrong_amount")
    assert _wait(lambda: PaymentIntent.objects.get(public_id=intent.public_id).status == "review")
    assert _status(number) == "pending_payment"
    assert account_balance(code="clearing:alipay") == 0


def test_money_after_cancellation_is_refunded_automatically(shop):
    number = _order(shop)
    intent = _start(shop, number, "wechat")
    orders.order_cancel(number=number, user_id=shop["buyer"].pk)
    _pay_at_cashier(intent)
    assert _wait(lambda: Refund.objects.filter(status="succeeded").exists())
    refund = Refund.objects.get()
    assert (refund.automatic, refund.amount_fen) == (True, 3000)
    assert PaymentIntent.objects.get(public_id=intent.public_id).status == "refunded"
    assert _status(number) == "cancelled"
    assert account_balance(code="clearing:wechat") == 0
    assert ledger_check() == []


def test_partial_and_repeated_refunds_approved_by_finance(shop):
    number = _order(shop)
    intent = _start(shop, number, "alipay")
    _pay_at_cashier(intent)
    assert _wait(lambda: _status(number) == "completed")
    finance = User.objects.create_user("13800000001", "pw", is_staff=True)
    checker = User.objects.create_user("13800000002", "pw", is_staff=True)
    first = payments.refund_request(
        intent_id=intent.id,
        amount_fen=1000,
        reason="部分退款",
        request_key="r1",
        requested_by=finance.pk,
    )
    again = payments.refund_request(
        intent_id=intent.id,
        amount_fen=1000,
        reason="部分退款",
        request_key="r1",
        requested_by=finance.pk,
    )
    assert first.id == again.id
    payments.refund_decide(refund_id=first.id, approve=True, actor_id=checker.pk)
    assert Refund.objects.get(pk=first.id).status == "succeeded"
    with pytest.raises(payments.RefundNotAllowed):
        payments.refund_request(
            intent_id=intent.id,
            amount_fen=2001,
            reason="太多",
            request_key="r2",
            requested_by=finance.pk,
        )
    rest = payments.refund_request(
        intent_id=intent.id,
        amount_fen=2000,
        reason="余款",
        request_key="r3",
        requested_by=finance.pk,
    )
    payments.refund_decide(refund_id=rest.id, approve=True, actor_id=checker.pk)
    assert PaymentIntent.objects.get(public_id=intent.public_id).status == "refunded"
    assert _status(number) == "refunded"
    assert account_balance(code="clearing:alipay") == 0
    assert account_balance(code="refunds:payable") == 0
    assert ledger_check() == []


def test_the_pay_page_shows_the_provider_step(shop, client):
    number = _order(shop)
    client.force_login(shop["buyer"])
    page = client.post(f"/orders/{number}/pay/", {"choice": "wechat:native", "attempt": "x1"})
    assert page.status_code == 302
    go = client.get(page["Location"])
    assert go.status_code == 200
    assert "<svg" in go.content.decode()
    unionpay = client.post(f"/orders/{number}/pay/", {"choice": "unionpay:front", "attempt": "x2"})
    form_page = client.get(unionpay["Location"]).content.decode()
    assert "frontTransReq.do" in form_page
    assert html_forms(form_page)["provider-form"].fields["orderId"].startswith("PI")


def test_paying_twice_keeps_the_first_and_refunds_the_second(shop):
    number = _order(shop)
    first = _start(shop, number, "alipay", attempt="a1")
    second = _start(shop, number, "wechat", attempt="a2")
    _pay_at_cashier(first)
    assert _wait(lambda: _status(number) == "completed")
    _pay_at_cashier(second)
    assert _wait(lambda: Refund.objects.filter(status="succeeded").exists())
    assert Refund.objects.get().intent.public_id == second.public_id
    order = Order.objects.get(number=number)
    assert (order.status, order.refunded_fen) == ("completed", 0)
    assert account_balance(code="clearing:alipay") == 3000
    assert account_balance(code="clearing:wechat") == 0
    assert ledger_check() == []


def test_unionpay_brings_the_buyer_back_with_a_post(shop, client):
    number = _order(shop)
    client.force_login(shop["buyer"])
    back = client.post(f"/orders/{number}/result/", {"orderId": "x", "respCode": "00"})
    assert back.status_code == 302
    assert back["Location"] == f"/orders/{number}/result/"


@pytest.mark.django_db(transaction=True)
def test_the_wechat_qr_page_moves_on_to_the_result_once_paid(shop, client):
    """The QR page polls the payment's state (htmx); once paid it sends the buyer on."""
    number = _order(shop, "qr")
    intent = _start(shop, number, "wechat")
    client.force_login(shop["buyer"])
    back = f"/orders/{number}/result/"
    page = client.get(f"/payments/{intent.public_id}/go/", {"back": back}).content.decode()
    assert f'hx-get="/payments/{intent.public_id}/state/?back=' in page
    assert 'hx-trigger="every 2s"' in page
    waiting = client.get(
        f"/payments/{intent.public_id}/state/", {"back": back}, HTTP_HX_REQUEST="true"
    )
    assert waiting.status_code == 200 and "HX-Redirect" not in waiting
    _pay_at_cashier(intent)
    assert _wait(lambda: _status(number) == "completed")  # a digital line: delivered when paid
    moved = client.get(
        f"/payments/{intent.public_id}/state/", {"back": back}, HTTP_HX_REQUEST="true"
    )
    assert (moved.status_code, moved["HX-Redirect"]) == (204, back)
    elsewhere = client.get(
        f"/payments/{intent.public_id}/state/", {"back": "https://evil.example/"}
    )
    assert elsewhere["HX-Redirect"] == "/"
    result = client.get(back).content.decode()
    assert f'href="/orders/{number}/"' in result
