"""The Alipay adapter against the sandbox process: pay in a browser, verify what Alipay sends back.

No mocks: the adapter signs with python-alipay-sdk, the sandbox verifies and signs back, and
the notifications arrive over HTTP at a small server of the test's own.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import pytest
from alipay import AliPay
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from apps.core.errors import InvalidArgument
from apps.payments.providers.alipay import AlipayProvider
from apps.payments.providers.base import (
    InvalidNotification,
    PaymentAction,
    PaymentRequest,
    ProviderRejected,
    ProviderUnavailable,
)
from config.devkeys import dev_rsa_private_pem, dev_rsa_public_pem

RETURN_URL = "http://127.0.0.1:9/shop/pay/return"
SANDBOX_NOTE = "沙箱收银台 — 不会产生真实扣款"


# --- helpers shared with the UnionPay tests ----------------------------------------------------


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass
class Receiver:
    """Records every POST it gets and answers each with ``reply``."""

    reply: bytes
    url: str = ""
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} notifications, got {len(self.received)}")

    def after(self, seconds: float) -> list[Received]:
        """Everything received once ``seconds`` have passed (to show nothing more came)."""
        time.sleep(seconds)
        with self._lock:
            return list(self.received)


@contextmanager
def notification_receiver(reply: bytes) -> Iterator[Receiver]:
    """A loopback HTTP server standing in for the platform's notify_url."""
    receiver = Receiver(reply=reply)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.record(Received(body=raw, headers=dict(self.headers.items())))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(receiver.reply)))
            self.end_headers()
            self.wfile.write(receiver.reply)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/payments/notify"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections and never answers: a hung provider."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@dataclass
class Form:
    action: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    """Forms by id: their action and what a browser would submit (inputs, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, Form] = {}
        self._current: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(action=a.get("action", ""), fields={})
            self.forms[a.get("id", str(len(self.forms)))] = self._current
        elif self._current is not None and tag == "input" and a.get("name"):
            self._current.fields[a["name"]] = a.get("value", "")
        elif self._current is not None and tag == "select":
            self._select = a.get("name")
        elif (
            self._current is not None
            and tag == "option"
            and self._select
            # A browser submits the selected option, else the first.
            and ("selected" in a or self._select not in self._current.fields)
        ):
            self._current.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def html_forms(html: str) -> dict[str, Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def submit(
    browser: httpx.Client, page: httpx.Response, form_id: str, **changes: str
) -> httpx.Response:
    """Submit a form of ``page`` as a browser would, with some fields changed."""
    form = html_forms(page.text)[form_id]
    return browser.post(urljoin(str(page.url), form.action), data={**form.fields, **changes})


def unique_order_id() -> str:
    """8 to 40 letters and digits, as Alipay and UnionPay both accept."""
    return "PI" + uuid.uuid4().hex[:24]


def payment_request(
    *, notify_url: str, channel: str, amount_fen: int = 1234, **kw: Any
) -> PaymentRequest:
    values: dict[str, Any] = {
        "out_trade_no": unique_order_id(),
        "amount_fen": amount_fen,
        "subject": "话费充值 12.34元",
        "channel": channel,
        "notify_url": notify_url,
        "return_url": RETURN_URL,
        "client_ip": "127.0.0.1",
        "expires_at": timezone.now() + timedelta(minutes=15),
        # Opened a while ago, as an intent is before its buyer pays: UnionPay's txnTime.
        "started_at": timezone.now() - timedelta(seconds=90),
    }
    values.update(kw)
    return PaymentRequest(**values)


# --- Alipay ------------------------------------------------------------------------------------


@pytest.fixture
def alipay(carrier_sandbox, settings) -> AlipayProvider:
    return AlipayProvider.from_settings()


def open_cashier(browser: httpx.Client, action: PaymentAction) -> httpx.Response:
    assert action.kind == "redirect"
    landing = browser.get(action.url)
    assert landing.status_code == 302, landing.text
    cashier = browser.get(urljoin(action.url, landing.headers["location"]))
    assert cashier.status_code == 200
    return cashier


def pay(
    alipay: AlipayProvider, request: PaymentRequest, notify_mode: str | None = None
) -> dict[str, str]:
    """Open the cashier from ``start``'s redirect and pay; return the sync-return parameters."""
    with httpx.Client(timeout=10.0) as browser:
        cashier = open_cashier(browser, alipay.start(request))
        assert SANDBOX_NOTE in cashier.text
        changes = {"notify_mode": notify_mode} if notify_mode else {}
        paid = submit(browser, cashier, "pay-form", **changes)
    assert paid.status_code == 302
    location = paid.headers["location"]
    assert location.startswith(RETURN_URL + "?")
    return dict(parse_qsl(urlsplit(location).query))


def verify(alipay: AlipayProvider, received: Received):
    return alipay.verify_notification(
        body=received.body, headers=received.headers, form=received.form
    )


def _sdk_as_merchant() -> AliPay:
    return AliPay(
        appid="x",
        app_private_key_string=dev_rsa_private_pem("alipay-app"),
        alipay_public_key_string=dev_rsa_public_pem("alipay-platform"),
    )


@pytest.mark.parametrize("channel", ["page", "wap"])
def test_pay_then_the_notification_verifies(alipay, settings, channel):
    with notification_receiver(b"success") as receiver:
        request = payment_request(notify_url=receiver.url, channel=channel)
        returned = pay(alipay, request)
        [received] = receiver.wait_for(1)
        notification = verify(alipay, received)
        # The merchant answered "success": no retry follows.
        assert len(receiver.after(0.8)) == 1

    assert notification.status == "succeeded"
    assert notification.amount_fen == 1234
    assert notification.currency == "CNY"
    assert notification.merchant_id == settings.ALIPAY_APP_ID
    assert notification.out_trade_no == request.out_trade_no
    assert notification.provider_trade_no == returned["trade_no"]
    assert notification.event_id == received.form["notify_id"]
    assert notification.paid_at is not None
    assert abs(notification.paid_at - timezone.now()) < timedelta(minutes=1)
    assert received.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert received.form["notify_type"] == "trade_status_sync"
    assert received.form["sign_type"] == "RSA2"
    # The browser's return parameters are signed by Alipay's key too.
    signature = returned.pop("sign")
    assert _sdk_as_merchant().verify(dict(returned), signature)
    assert returned["total_amount"] == "12.34"
    assert returned["method"] == f"alipay.trade.{channel}.pay.return"


def test_cashier_shows_the_trade_in_chinese(alipay):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="page", amount_fen=123456)
    with httpx.Client(timeout=10.0) as browser:
        cashier = open_cashier(browser, alipay.start(request))

    assert "¥1234.56" in cashier.text
    assert "话费充值 12.34元" in cashier.text
    assert alipay.merchant_id in cashier.text
    assert "确认付款" in cashier.text
    assert "取消" in cashier.text
    modes = ["正常推送", "重复推送三次", "乱序（先推送旧状态）", "丢失（不推送）", "金额错误"]
    assert all(mode in cashier.text for mode in modes)
    assert html_forms(cashier.text)["pay-form"].fields == {"notify_mode": "normal"}


def test_tampered_notifications_are_refused(alipay):
    with notification_receiver(b"success") as receiver:
        pay(alipay, payment_request(notify_url=receiver.url, channel="page"))
        [received] = receiver.wait_for(1)
    form = received.form
    flipped = ("A" if form["sign"][10] != "A" else "B").join((form["sign"][:10], form["sign"][11:]))
    tampered = [
        {**form, "total_amount": "0.01"},
        {**form, "sign": flipped},
        {k: v for k, v in form.items() if k != "buyer_id"},
        {k: v for k, v in form.items() if k != "sign"},
        {**form, "trade_status": "TRADE_FINISHED"},
    ]

    for fields in tampered:
        body = urlencode(fields).encode()
        with pytest.raises(InvalidNotification):
            alipay.verify_notification(body=body, headers={}, form=fields)
    # The body alone (no parsed form) is read the same way.
    assert verify(alipay, received).status == "succeeded"
    with pytest.raises(InvalidNotification):
        alipay.verify_notification(body=urlencode(tampered[0]).encode(), headers={}, form={})


def test_wrong_amount_mode_is_validly_signed_with_the_wrong_amount(alipay):
    with notification_receiver(b"success") as receiver:
        request = payment_request(notify_url=receiver.url, channel="page")
        pay(alipay, request, notify_mode="wrong_amount")
        [received] = receiver.wait_for(1)

    notification = verify(alipay, received)
    assert notification.status == "succeeded"
    assert notification.amount_fen == 1235
    assert notification.out_trade_no == request.out_trade_no


def test_duplicate_mode_delivers_the_same_notification_three_times(alipay):
    with notification_receiver(b"success") as receiver:
        pay(
            alipay,
            payment_request(notify_url=receiver.url, channel="page"),
            notify_mode="duplicate",
        )
        receiver.wait_for(3)
        received = receiver.after(0.8)

    assert len(received) == 3
    assert received[0].body == received[1].body == received[2].body
    notifications = [verify(alipay, item) for item in received]
    assert {n.event_id for n in notifications} == {notifications[0].event_id}
    assert all(n.status == "succeeded" for n in notifications)


def test_out_of_order_mode_sends_a_stale_pending_notification_after_the_success(alipay):
    with notification_receiver(b"success") as receiver:
        pay(
            alipay,
            payment_request(notify_url=receiver.url, channel="page"),
            notify_mode="out_of_order",
        )
        first, second = receiver.wait_for(2)

    paid, stale = verify(alipay, first), verify(alipay, second)
    assert (paid.status, stale.status) == ("succeeded", "pending")
    assert stale.paid_at is None
    assert paid.event_id != stale.event_id
    assert paid.provider_trade_no == stale.provider_trade_no


def test_lost_mode_sends_nothing_but_the_query_reports_the_payment(alipay, carrier_sandbox):
    carrier_sandbox.set_knobs(pay_notify_mode="lost", pay_notify_delay_ms=0)
    with notification_receiver(b"success") as receiver:
        request = payment_request(notify_url=receiver.url, channel="page")
        # The cashier's select defaults to the knob, and the browser submits that.
        returned = pay(alipay, request)
        assert receiver.after(1.0) == []

    state = alipay.query(out_trade_no=request.out_trade_no)
    assert state.status == "succeeded"
    assert state.amount_fen == 1234
    assert state.provider_trade_no == returned["trade_no"]
    assert state.paid_at is not None


def test_query_of_an_unpaid_and_of_an_unknown_trade(alipay):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="page")
    with httpx.Client(timeout=10.0) as browser:
        open_cashier(browser, alipay.start(request))

    pending = alipay.query(out_trade_no=request.out_trade_no)
    unknown = alipay.query(out_trade_no=unique_order_id())

    assert (pending.status, pending.amount_fen, pending.paid_at) == ("pending", 1234, None)
    assert unknown.status == "not_found"
    assert unknown.provider_trade_no == ""


def test_cancelled_trade_is_closed(alipay):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="page")
    with httpx.Client(timeout=10.0) as browser:
        cashier = open_cashier(browser, alipay.start(request))
        cancelled = submit(browser, cashier, "cancel-form")

    assert cancelled.status_code == 200
    assert "已取消付款" in cancelled.text
    assert alipay.query(out_trade_no=request.out_trade_no).status == "closed"


def test_refunds_partial_repeated_full_and_over(alipay):
    with notification_receiver(b"success") as receiver:
        request = payment_request(notify_url=receiver.url, channel="page")
        pay(alipay, request)
    trade = request.out_trade_no

    first = alipay.refund(
        out_trade_no=trade,
        out_request_no="R1" + trade,
        amount_fen=500,
        total_fen=1234,
        reason="部分退款",
    )
    again = alipay.refund(
        out_trade_no=trade,
        out_request_no="R1" + trade,
        amount_fen=500,
        total_fen=1234,
        reason="部分退款",
    )
    with pytest.raises(ProviderRejected) as over:
        alipay.refund(
            out_trade_no=trade,
            out_request_no="R2" + trade,
            amount_fen=735,
            total_fen=1234,
            reason="",
        )
    rest = alipay.refund(
        out_trade_no=trade, out_request_no="R3" + trade, amount_fen=734, total_fen=1234, reason=""
    )

    assert first.status == "succeeded"
    assert first.amount_fen == 500
    assert again == first
    assert over.value.details["provider_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert over.value.details["code"] == "40004"
    assert rest.status == "succeeded"
    assert rest.amount_fen == 734
    # Refunded in full, an Alipay trade reads TRADE_CLOSED.
    assert alipay.query(out_trade_no=trade).status == "closed"
    with pytest.raises(ProviderRejected):
        alipay.refund(
            out_trade_no=trade, out_request_no="R4" + trade, amount_fen=1, total_fen=1234, reason=""
        )


def test_refund_of_an_unknown_or_unpaid_trade_is_refused(alipay):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="page")
    with httpx.Client(timeout=10.0) as browser:
        open_cashier(browser, alipay.start(request))

    with pytest.raises(ProviderRejected) as unknown:
        alipay.refund(
            out_trade_no=unique_order_id(),
            out_request_no="R1",
            amount_fen=1,
            total_fen=1,
            reason="",
        )
    with pytest.raises(ProviderRejected) as unpaid:
        alipay.refund(
            out_trade_no=request.out_trade_no,
            out_request_no="R1",
            amount_fen=1,
            total_fen=1234,
            reason="",
        )

    assert unknown.value.details["provider_code"] == "ACQ.TRADE_NOT_EXIST"
    assert unpaid.value.details["provider_code"] == "ACQ.TRADE_STATUS_ERROR"


def test_same_out_trade_no_with_another_amount_is_an_error_page(alipay):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="page")
    changed = payment_request(
        notify_url="http://127.0.0.1:9/n",
        channel="page",
        amount_fen=1,
        out_trade_no=request.out_trade_no,
    )
    with httpx.Client(timeout=10.0) as browser:
        open_cashier(browser, alipay.start(request))
        refused = browser.get(alipay.start(changed).url)
        reopened = browser.get(alipay.start(request).url)

    assert refused.status_code == 400
    assert "ACQ.CONTEXT_INCONSISTENT" in refused.text
    assert reopened.status_code == 302
    assert alipay.query(out_trade_no=request.out_trade_no).amount_fen == 1234


def test_a_tampered_pay_request_is_refused(alipay):
    action = alipay.start(payment_request(notify_url="http://127.0.0.1:9/n", channel="page"))
    tampered = action.url.replace("12.34", "0.01")
    assert tampered != action.url

    refused = httpx.get(tampered, timeout=10.0)

    assert refused.status_code == 400
    assert "isv.invalid-signature" in refused.text


def _other_public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_answers_signed_by_another_key_are_not_trusted(alipay, settings):
    provider = AlipayProvider(
        app_id=settings.ALIPAY_APP_ID,
        gateway=settings.ALIPAY_GATEWAY,
        app_private_key=dev_rsa_private_pem("alipay-app"),
        alipay_public_key=_other_public_pem(),
        timeout=5.0,
    )

    with pytest.raises(ProviderUnavailable) as raised:
        provider.query(out_trade_no=unique_order_id())

    assert raised.value.details["error"] == "INVALID_ANSWER_SIGNATURE"


def test_requests_signed_by_another_key_are_refused(alipay, settings):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider = AlipayProvider(
        app_id=settings.ALIPAY_APP_ID,
        gateway=settings.ALIPAY_GATEWAY,
        app_private_key=other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        alipay_public_key=dev_rsa_public_pem("alipay-platform"),
        timeout=5.0,
    )

    with pytest.raises(ProviderRejected) as raised:
        provider.query(out_trade_no=unique_order_id())

    assert raised.value.details["provider_code"] == "isv.invalid-signature"


def test_sandbox_unreachable_is_provider_unavailable(settings):
    settings.ALIPAY_GATEWAY = "http://127.0.0.1:9/alipay/gateway.do"
    provider = AlipayProvider.from_settings()

    with pytest.raises(ProviderUnavailable):
        provider.query(out_trade_no=unique_order_id())
    with pytest.raises(ProviderUnavailable):
        provider.refund(
            out_trade_no=unique_order_id(),
            out_request_no="R1",
            amount_fen=1,
            total_fen=1,
            reason="",
        )


def test_a_hung_gateway_times_out_as_configured(settings):
    settings.PAYMENTS_HTTP_TIMEOUT_SECONDS = 0.5
    with silent_server() as url:
        settings.ALIPAY_GATEWAY = f"{url}/gateway.do"
        provider = AlipayProvider.from_settings()
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable):
            provider.query(out_trade_no=unique_order_id())

    assert time.monotonic() - started < 3.0


def test_unknown_channel_is_refused(alipay):
    with pytest.raises(InvalidArgument):
        alipay.start(payment_request(notify_url="http://127.0.0.1:9/n", channel="qr"))


def test_ack_bodies():
    provider = AlipayProvider.from_settings()

    assert provider.ack(ok=True).body == b"success"
    assert provider.ack(ok=False).body == b"fail"
    assert provider.ack(ok=True).status == 200
