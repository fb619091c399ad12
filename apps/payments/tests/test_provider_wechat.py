"""WeChat Pay through wechatpayv3 against the sandbox: start, cashier, signed notifications, query, refund.

Everything crosses real HTTP: the adapter calls the sandbox process, a person's browser is
played with httpx on the cashier page, and notifications land on a small HTTP server here.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings as django_settings
from django.utils import timezone

from apps.payments.providers import get_provider
from apps.payments.providers.base import (
    InvalidNotification,
    PaymentRequest,
    ProviderRejected,
    ProviderUnavailable,
)
from apps.payments.providers.wechat import WechatConfig, WechatProvider, make_client
from config.devkeys import dev_rsa_private_pem, dev_rsa_public_pem, dev_secret

RETURN_URL = "http://127.0.0.1:8000/pay/return?intent=42&from=wechat"


# --- a merchant's notify endpoint, a browser, and WeChat Pay's signing hand --------------------


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class NotifyReceiver:
    """A loopback HTTP server standing in for the platform's notify URL; records every POST."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.answers: list[int] = []  # statuses to answer first; 200 after them
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.deliveries.append(Delivery(body, dict(self.headers.items())))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/payments/notify/wechat/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.deliveries) < count:
            time.sleep(0.05)
        return list(self.deliveries)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[NotifyReceiver]:
    server = NotifyReceiver()
    yield server
    server.close()


@pytest.fixture
def provider(carrier_sandbox) -> WechatProvider:
    adapter = get_provider("wechat")
    assert isinstance(adapter, WechatProvider)
    return adapter


class _CashierForm(HTMLParser):
    """The cashier page's form as a browser sees it: action, hidden inputs, selects, buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, tuple[str, str]] = {}  # button text -> (name, value)
        self.options: list[str] = []
        self._select = ""
        self._button: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attr.get("action", "")
        elif tag == "input":
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "select":
            self._select = attr["name"]
        elif tag == "option":
            self.options.append(attr["value"])
            if "selected" in attr:
                self.fields[self._select] = attr["value"]
        elif tag == "button":
            self._button = (attr["name"], attr["value"])

    def handle_data(self, data: str) -> None:
        if self._button and data.strip():
            self.buttons[data.strip()] = self._button
            self._button = None


def open_cashier(url: str) -> tuple[httpx.Response, _CashierForm]:
    page = httpx.get(url, follow_redirects=True, timeout=10.0)
    form = _CashierForm()
    form.feed(page.text)
    return page, form


def click(url: str, button: str = "确认支付", notify_mode: str | None = None) -> httpx.Response:
    """Open the cashier page and submit its form with ``button``, as a person would."""
    page, form = open_cashier(url)
    assert page.status_code == 200, page.text
    fields = dict(form.fields)
    if notify_mode is not None:
        fields["notify_mode"] = notify_mode
    name, value = form.buttons[button]
    fields[name] = value
    return httpx.post(urljoin(str(page.url), form.action), data=fields, timeout=10.0)


def payment(notify_url: str, channel: str = "native", **overrides: Any) -> PaymentRequest:
    values: dict[str, Any] = {
        "out_trade_no": f"PI{uuid.uuid4().hex[:24]}",
        "amount_fen": 1234,
        "subject": "咪咕视频 VIP 月卡",
        "channel": channel,
        "notify_url": notify_url,
        "return_url": RETURN_URL,
        "client_ip": "203.0.113.7",
        "expires_at": timezone.now() + timedelta(minutes=30),
    }
    values.update(overrides)
    return PaymentRequest(**values)


def pay_native(provider: WechatProvider, receiver: NotifyReceiver, **overrides) -> PaymentRequest:
    request = payment(receiver.url, **overrides)
    action = provider.start(request)
    assert "支付成功" in click(action.qr_text).text
    return request


def platform_headers(body: bytes, *, timestamp: int | None = None, serial: str = "") -> dict:
    """Sign ``body`` as WeChat Pay does, with the dev platform private key."""
    key = serialization.load_pem_private_key(
        dev_rsa_private_pem("wechat-platform").encode(), password=None
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = secrets.token_hex(16)
    message = f"{stamp}\n{nonce}\n{body.decode()}\n".encode()
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": base64.b64encode(signature).decode(),
        "Wechatpay-Serial": serial or django_settings.WECHAT_PLATFORM_PUBLIC_KEY_ID,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


def fresh_rsa_pems() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


# --- native: pay at the cashier, the notification, query ----------------------------------------


def test_native_payment_is_notified_and_verified(provider, receiver, carrier_sandbox):
    request = payment(receiver.url)

    action = provider.start(request)

    assert action.kind == "qr"
    assert action.qr_text.startswith(f"{carrier_sandbox.url}/wechat/cashier/")
    page, form = open_cashier(action.qr_text)
    for text in (
        "沙箱收银台 — 不会产生真实扣款",
        "商户号 1900000001",
        "咪咕视频 VIP 月卡",
        "¥12.34",
    ):
        assert text in page.text
    assert form.options == ["normal", "duplicate", "out_of_order", "lost", "wrong_amount"]
    assert form.fields["notify_mode"] == "normal"
    assert set(form.buttons) == {"确认支付", "取消"}
    assert provider.query(out_trade_no=request.out_trade_no).status == "pending"

    result = click(action.qr_text)

    assert result.status_code == 200
    assert "支付成功" in result.text
    [delivery] = receiver.wait_for(1)
    assert delivery.headers["Wechatpay-Serial"] == django_settings.WECHAT_PLATFORM_PUBLIC_KEY_ID
    assert delivery.event["event_type"] == "TRANSACTION.SUCCESS"
    assert delivery.event["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert len(delivery.event["resource"]["nonce"]) == 12
    note = provider.verify_notification(body=delivery.body, headers=delivery.headers, form={})
    assert note.status == "succeeded"
    assert note.out_trade_no == request.out_trade_no
    assert note.amount_fen == 1234
    assert note.currency == "CNY"
    assert note.merchant_id == "1900000001"
    assert note.event_id == delivery.event["id"]
    assert len(note.provider_trade_no) == 28
    assert note.paid_at is not None
    assert note.paid_at.utcoffset() == timedelta(hours=8)
    assert note.raw["resource"]["trade_type"] == "NATIVE"
    state = provider.query(out_trade_no=request.out_trade_no)
    assert (state.status, state.provider_trade_no, state.amount_fen, state.paid_at) == (
        "succeeded",
        note.provider_trade_no,
        1234,
        note.paid_at,
    )
    # Confirming again does not pay twice or notify again.
    assert "该订单已支付" in httpx.get(action.qr_text).text
    time.sleep(0.5)
    assert len(receiver.deliveries) == 1


def test_ack_answers_as_apiv3_expects(provider):
    ok = provider.ack(ok=True)
    assert (ok.status, ok.body) == (200, b"")
    refused = provider.ack(ok=False)
    assert refused.status == 500
    assert refused.content_type.startswith("application/json")
    assert json.loads(refused.body)["code"] == "FAIL"


def test_forged_stale_or_tampered_notifications_are_invalid(provider, receiver):
    pay_native(provider, receiver)
    [delivery] = receiver.wait_for(1)
    body = delivery.body
    event = delivery.event
    # Re-signed by the platform key just now, and under other header spellings: valid.
    for headers in (
        platform_headers(body),
        {k.lower(): v for k, v in platform_headers(body).items()},
        {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in platform_headers(body).items()},
    ):
        assert (
            provider.verify_notification(body=body, headers=headers, form={}).status == "succeeded"
        )

    tampered = body.replace(b'"summary":"', b'"summary":"x')
    stale = platform_headers(body, timestamp=int(time.time()) - 301)
    future = platform_headers(body, timestamp=int(time.time()) + 330)
    wrong_serial = platform_headers(body, serial="PUB_KEY_ID_0119000000000000OTHER")
    other_key = {
        **delivery.headers,
        "Wechatpay-Signature": platform_headers(b"{}")["Wechatpay-Signature"],
    }
    # Correctly signed, but encrypted with a key other than our APIv3 key.
    nonce = "abcdefghijkl"
    foreign = AESGCM(secrets.token_urlsafe(24)[:32].encode()).encrypt(
        nonce.encode(), b'{"trade_state":"SUCCESS"}', b"transaction"
    )
    event["resource"].update(nonce=nonce, ciphertext=base64.b64encode(foreign).decode())
    foreign_body = json.dumps(event).encode()
    # Correctly signed and encrypted, but not a notification's shape.
    not_json = b"not json"
    cases = [
        (tampered, delivery.headers),
        (body, stale),
        (body, future),
        (body, wrong_serial),
        (body, other_key),
        (body, {}),
        (foreign_body, platform_headers(foreign_body)),
        (not_json, platform_headers(not_json)),
    ]
    for case_body, headers in cases:
        with pytest.raises(InvalidNotification):
            provider.verify_notification(body=case_body, headers=headers, form={})


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("duplicate", [("succeeded", 1234, 0)] * 3),
        ("out_of_order", [("succeeded", 1234, 0), ("pending", 1234, 1)]),
        ("wrong_amount", [("succeeded", 1235, 0)]),
    ],
)
def test_notification_modes(provider, receiver, mode, expected):
    request = payment(receiver.url)
    action = provider.start(request)

    click(action.qr_text, notify_mode=mode)

    deliveries = receiver.wait_for(len(expected))
    time.sleep(0.6)  # nothing more arrives
    assert len(receiver.deliveries) == len(expected)
    notes = [
        provider.verify_notification(body=d.body, headers=d.headers, form={}) for d in deliveries
    ]
    event_ids = [note.event_id for note in notes]
    assert [
        (note.status, note.amount_fen, event_ids.index(note.event_id)) for note in notes
    ] == expected
    assert {note.out_trade_no for note in notes} == {request.out_trade_no}


def test_out_of_order_keeps_its_order_when_the_first_notification_is_retried(provider, receiver):
    """The stale notification waits until the real outcome was accepted: a refused first
    delivery is retried before the stale one goes out (an explicit order, not two timers)."""
    receiver.answers = [500]
    request = payment(receiver.url)
    click(provider.start(request).qr_text, notify_mode="out_of_order")

    deliveries = receiver.wait_for(3)
    statuses = [
        provider.verify_notification(body=d.body, headers=d.headers, form={}).status
        for d in deliveries
    ]
    assert statuses == ["succeeded", "succeeded", "pending"]


def test_a_lost_notification_is_never_sent_but_the_query_knows(provider, receiver, carrier_sandbox):
    carrier_sandbox.set_knobs(pay_notify_mode="lost", pay_notify_delay_ms=100)
    request = payment(receiver.url)
    action = provider.start(request)
    _, form = open_cashier(action.qr_text)
    assert form.fields["notify_mode"] == "lost"  # the cashier's default comes from the knob

    click(action.qr_text)

    time.sleep(1.0)
    assert receiver.deliveries == []
    state = provider.query(out_trade_no=request.out_trade_no)
    assert (state.status, state.amount_fen) == ("succeeded", 1234)
    assert state.provider_trade_no


def test_notifications_are_retried_until_answered_2xx(provider, receiver):
    receiver.answers = [500, 503]

    pay_native(provider, receiver)

    deliveries = receiver.wait_for(3)
    assert len(deliveries) == 3
    assert len({d.body for d in deliveries}) == 1
    assert len({d.headers["Wechatpay-Nonce"] for d in deliveries}) == 3  # signed afresh each time
    time.sleep(1.2)
    assert len(receiver.deliveries) == 3
    last = deliveries[-1]
    assert provider.verify_notification(body=last.body, headers=last.headers, form={}).status == (
        "succeeded"
    )


def test_cancelling_at_the_cashier_leaves_the_trade_unpaid(provider, receiver):
    request = payment(receiver.url)
    action = provider.start(request)

    result = click(action.qr_text, button="取消")

    assert "已取消支付" in result.text
    time.sleep(0.5)
    assert receiver.deliveries == []
    assert provider.query(out_trade_no=request.out_trade_no).status == "pending"


# --- h5 and jsapi --------------------------------------------------------------------------------


def test_h5_redirects_to_the_cashier_and_back(provider, receiver, carrier_sandbox):
    request = payment(receiver.url, channel="h5", amount_fen=500)

    action = provider.start(request)

    assert action.kind == "redirect"
    parts = urlsplit(action.url)
    assert f"{parts.scheme}://{parts.netloc}" == carrier_sandbox.url
    assert parts.path.startswith("/wechat/cashier/")
    query = parse_qs(parts.query)
    assert query["prepay_id"][0].startswith("wx")
    assert query["redirect_url"] == [RETURN_URL]
    assert f"redirect_url={quote(RETURN_URL, safe='')}" in action.url

    back = click(action.url)

    assert back.status_code == 302
    assert back.headers["Location"] == RETURN_URL
    [delivery] = receiver.wait_for(1)
    note = provider.verify_notification(body=delivery.body, headers=delivery.headers, form={})
    assert (note.status, note.amount_fen) == ("succeeded", 500)
    assert note.raw["resource"]["trade_type"] == "MWEB"


def test_jsapi_returns_signed_invoke_params_that_open_the_cashier(
    provider, receiver, carrier_sandbox
):
    request = payment(receiver.url, channel="jsapi", openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")

    action = provider.start(request)

    params = action.jsapi_params
    assert action.kind == "jsapi"
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["appId"] == "wx0000000000000001"
    assert params["signType"] == "RSA"
    assert params["package"].startswith("prepay_id=wx")
    assert abs(int(params["timeStamp"]) - time.time()) < 60
    merchant_public = serialization.load_pem_public_key(
        dev_rsa_public_pem("wechat-merchant").encode()
    )
    signed = "".join(f"{params[k]}\n" for k in ("appId", "timeStamp", "nonceStr", "package"))
    merchant_public.verify(
        base64.b64decode(params["paySign"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    bridge = f"{carrier_sandbox.url}/wechat/jsapi-bridge"
    forged = httpx.get(bridge, params={**params, "paySign": params["paySign"][::-1]})
    assert forged.status_code == 400
    assert "签名错误" in forged.text

    result = click(str(httpx.get(bridge, params=params).next_request.url))

    assert "支付成功" in result.text
    [delivery] = receiver.wait_for(1)
    note = provider.verify_notification(body=delivery.body, headers=delivery.headers, form={})
    assert note.status == "succeeded"
    assert note.raw["resource"]["payer"]["openid"] == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


# --- opening the same trade again, closing ------------------------------------------------------


def test_the_same_out_trade_no_reuses_the_trade_and_refuses_other_terms(provider, receiver):
    request = payment(receiver.url)
    first = provider.start(request)

    assert provider.start(request).qr_text == first.qr_text
    with pytest.raises(ProviderRejected) as refused:
        provider.start(dataclasses.replace(request, amount_fen=999))
    assert refused.value.details["provider_code"] == "OUT_TRADE_NO_USED"
    assert provider.query(out_trade_no=request.out_trade_no).amount_fen == 1234


def test_a_closed_trade_cannot_be_paid_or_reopened(provider, receiver):
    request = payment(receiver.url)
    action = provider.start(request)
    client = make_client(WechatConfig.from_settings())

    assert client.close(out_trade_no=request.out_trade_no)[0] == 204
    assert client.close(out_trade_no=request.out_trade_no)[0] == 204

    assert provider.query(out_trade_no=request.out_trade_no).status == "closed"
    page, form = open_cashier(action.qr_text)
    assert "该订单已关闭" in page.text
    assert form.buttons == {}
    with pytest.raises(ProviderRejected) as refused:
        provider.start(request)
    assert refused.value.details["provider_code"] == "ORDER_CLOSED"


def test_query_of_an_unknown_trade_is_not_found(provider):
    state = provider.query(out_trade_no=f"PI{uuid.uuid4().hex[:24]}")
    assert state.status == "not_found"
    assert (state.provider_trade_no, state.amount_fen, state.paid_at) == ("", 0, None)


# --- refunds -------------------------------------------------------------------------------------


def test_full_refund_once_per_out_request_no(provider, receiver):
    request = pay_native(provider, receiver)

    first = provider.refund(
        out_trade_no=request.out_trade_no,
        out_request_no="RF-full-" + uuid.uuid4().hex[:12],
        amount_fen=1234,
        total_fen=1234,
        reason="用户申请退款",
    )
    again = provider.refund(
        out_trade_no=request.out_trade_no,
        out_request_no=first.out_request_no,
        amount_fen=1234,
        total_fen=1234,
        reason="用户申请退款",
    )

    assert (first.status, first.amount_fen, first.error_code) == ("succeeded", 1234, "")
    assert first.provider_refund_no.startswith("50")
    assert again == first
    # A refunded trade still reads as paid; the refund is its own record.
    assert provider.query(out_trade_no=request.out_trade_no).status == "succeeded"


def test_partial_refunds_up_to_the_amount_paid_and_no_further(provider, receiver):
    request = pay_native(provider, receiver, amount_fen=1000)
    refunds = [
        provider.refund(
            out_trade_no=request.out_trade_no,
            out_request_no=f"RF{n}-{uuid.uuid4().hex[:12]}",
            amount_fen=amount,
            total_fen=1000,
            reason="",
        )
        for n, amount in enumerate((300, 700))
    ]
    assert [(r.status, r.amount_fen) for r in refunds] == [("succeeded", 300), ("succeeded", 700)]
    assert refunds[0].provider_refund_no != refunds[1].provider_refund_no

    with pytest.raises(ProviderRejected) as refused:
        provider.refund(
            out_trade_no=request.out_trade_no,
            out_request_no=f"RF-over-{uuid.uuid4().hex[:12]}",
            amount_fen=1,
            total_fen=1000,
            reason="",
        )

    assert refused.value.details["provider_code"] == "INVALID_REQUEST"
    assert refused.value.details["http_status"] == 400
    client = make_client(WechatConfig.from_settings())
    status, _ = client.query_refund(out_refund_no=refunds[0].out_request_no)
    assert status == 200


def test_refund_of_an_unpaid_or_unknown_trade_is_refused(provider, receiver):
    request = payment(receiver.url)
    provider.start(request)
    for out_trade_no, code in (
        (request.out_trade_no, "INVALID_REQUEST"),
        ("PInothere0001", "RESOURCE_NOT_EXISTS"),
    ):
        with pytest.raises(ProviderRejected) as refused:
            provider.refund(
                out_trade_no=out_trade_no,
                out_request_no=f"RF-{uuid.uuid4().hex[:12]}",
                amount_fen=100,
                total_fen=1234,
                reason="",
            )
        assert refused.value.details["provider_code"] == code


# --- signatures and failures on the API ---------------------------------------------------------


def test_a_request_signed_with_another_merchant_key_is_refused(carrier_sandbox, receiver):
    other_private, _ = fresh_rsa_pems()
    impostor = WechatProvider(
        dataclasses.replace(WechatConfig.from_settings(), merchant_private_key=other_private)
    )
    request = payment(receiver.url)

    with pytest.raises(ProviderRejected) as refused:
        impostor.start(request)

    assert refused.value.details["provider_code"] == "SIGN_ERROR"
    assert refused.value.details["http_status"] == 401
    assert get_provider("wechat").query(out_trade_no=request.out_trade_no).status == "not_found"


def test_an_answer_not_signed_by_the_platform_key_is_not_trusted(carrier_sandbox, receiver):
    _, other_public = fresh_rsa_pems()
    fooled = WechatProvider(
        dataclasses.replace(WechatConfig.from_settings(), platform_public_key=other_public)
    )

    with pytest.raises(ProviderUnavailable) as unavailable:
        fooled.start(payment(receiver.url))

    assert unavailable.value.details == {"error": "UNVERIFIED_ANSWER"}


def test_an_unreachable_provider_is_unavailable(settings, receiver):
    settings.WECHAT_API_BASE = "http://127.0.0.1:9/wechat"
    provider = get_provider("wechat")

    with pytest.raises(ProviderUnavailable):
        provider.start(payment(receiver.url))
    with pytest.raises(ProviderUnavailable):
        provider.query(out_trade_no="PI0000000001")
    with pytest.raises(ProviderUnavailable):
        provider.refund(
            out_trade_no="PI0000000001",
            out_request_no="RF0000000001",
            amount_fen=1,
            total_fen=1,
            reason="",
        )


def test_provider_errors_and_slow_answers_are_unavailable(carrier_sandbox, settings, receiver):
    provider = get_provider("wechat")
    carrier_sandbox.set_knobs(error_rate=1.0)
    with pytest.raises(ProviderUnavailable) as failed:
        provider.start(payment(receiver.url))
    assert failed.value.details["provider_code"] == "SYSTEM_ERROR"

    carrier_sandbox.set_knobs(error_rate=0.0, latency_ms=3000)
    settings.PAYMENTS_HTTP_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        get_provider("wechat").query(out_trade_no="PI0000000001")
    assert time.monotonic() - started < 2.0


def test_dev_keys_are_the_fallback_for_empty_settings(settings):
    config = WechatConfig.from_settings()
    assert config.merchant_private_key == dev_rsa_private_pem("wechat-merchant")
    assert config.platform_public_key == dev_rsa_public_pem("wechat-platform")
    assert config.apiv3_key == dev_secret("wechat-apiv3", 32)
    settings.WECHAT_APIV3_KEY = "k" * 32
    assert WechatConfig.from_settings().apiv3_key == "k" * 32


def test_a_trade_past_its_time_expire_cannot_be_paid(provider, receiver):
    request = payment(receiver.url, expires_at=timezone.now() + timedelta(seconds=1))
    action = provider.start(request)
    time.sleep(1.5)

    refused = click(action.qr_text)

    assert refused.status_code == 400
    assert "订单已关闭" in refused.text
    assert provider.query(out_trade_no=request.out_trade_no).status == "closed"
    time.sleep(0.5)
    assert receiver.deliveries == []
