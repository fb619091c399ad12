"""The UnionPay adapter against the sandbox process: the front form, the cashier, what comes back.

No mocks: the adapter signs under signMethod 01, the sandbox verifies and signs back with its own
key, and back notifications arrive over HTTP at a small server of the test's own.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from apps.core.errors import InvalidArgument
from apps.payments.providers.base import (
    InvalidNotification,
    PaymentAction,
    ProviderRejected,
    ProviderUnavailable,
)
from apps.payments.providers.unionpay import UnionpayProvider
from apps.payments.tests.test_provider_alipay import (
    RETURN_URL,
    SANDBOX_NOTE,
    Received,
    html_forms,
    notification_receiver,
    payment_request,
    silent_server,
    submit,
    unique_order_id,
)
from apps.payments.tests.test_unionpay_certs import issue, self_signed
from config.devkeys import dev_rsa_private_pem, dev_unionpay_cert_pem


@pytest.fixture
def unionpay(carrier_sandbox, settings) -> UnionpayProvider:
    return UnionpayProvider.from_settings()


def open_cashier(browser: httpx.Client, action: PaymentAction) -> httpx.Response:
    """Auto-submit the front form as the browser does, and follow to the cashier."""
    assert action.kind == "form"
    landing = browser.post(action.url, data=action.form_fields)
    assert landing.status_code == 302, landing.text
    cashier = browser.get(urljoin(action.url, landing.headers["location"]))
    assert cashier.status_code == 200
    return cashier


def pay(unionpay: UnionpayProvider, request, notify_mode: str | None = None) -> dict[str, str]:
    """Pay at the cashier; return the signed fields the browser then posts to frontUrl."""
    with httpx.Client(timeout=10.0) as browser:
        cashier = open_cashier(browser, unionpay.start(request))
        assert SANDBOX_NOTE in cashier.text
        changes = {"notify_mode": notify_mode} if notify_mode else {}
        paid = submit(browser, cashier, "pay-form", **changes)
    assert paid.status_code == 200
    front = html_forms(paid.text)["return-form"]
    assert front.action == RETURN_URL
    return front.fields


def verify(unionpay: UnionpayProvider, received: Received):
    return unionpay.verify_notification(
        body=received.body, headers=received.headers, form=received.form
    )


def test_start_builds_the_signed_front_form(unionpay, settings):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="front")

    action = unionpay.start(request)

    fields = action.form_fields
    assert action.url == f"{settings.UNIONPAY_GATEWAY}/frontTransReq.do"
    assert {
        k: fields[k] for k in ("version", "encoding", "signMethod", "txnType", "txnSubType")
    } == {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "txnType": "01",
        "txnSubType": "01",
    }
    assert (fields["bizType"], fields["channelType"], fields["accessType"]) == ("000201", "07", "0")
    # The merchant's certId: the serial number of its signing certificate (the .pfx's).
    merchant_cert = x509.load_pem_x509_certificate(
        dev_unionpay_cert_pem("unionpay-merchant").encode()
    )
    assert (fields["merId"], fields["certId"]) == (
        settings.UNIONPAY_MER_ID,
        str(merchant_cert.serial_number),
    )
    assert (fields["orderId"], fields["txnAmt"], fields["currencyCode"]) == (
        request.out_trade_no,
        "1234",
        "156",
    )
    assert (fields["frontUrl"], fields["backUrl"]) == (RETURN_URL, "http://127.0.0.1:9/n")
    assert len(fields["txnTime"]) == len(fields["payTimeout"]) == 14
    assert fields["signature"]
    assert (
        unionpay.start(payment_request(notify_url="http://x/n", channel="mobile")).form_fields[
            "channelType"
        ]
        == "08"
    )


def test_pay_then_back_and_front_notifications_verify(unionpay, settings):
    with notification_receiver(b"ok") as receiver:
        request = payment_request(notify_url=receiver.url, channel="front")
        front_fields = pay(unionpay, request)
        [received] = receiver.wait_for(1)
        back = verify(unionpay, received)
        # HTTP 200 ends the retries.
        assert len(receiver.after(0.8)) == 1
    front = unionpay.verify_notification(body=b"", headers={}, form=front_fields)

    for notification in (back, front):
        assert notification.status == "succeeded"
        assert notification.amount_fen == 1234
        assert notification.currency == "CNY"
        assert notification.merchant_id == settings.UNIONPAY_MER_ID
        assert notification.out_trade_no == request.out_trade_no
        assert notification.paid_at is not None
        assert abs(notification.paid_at - timezone.now()) < timedelta(minutes=1)
    assert back.provider_trade_no == front.provider_trade_no
    assert len(back.provider_trade_no) == 21
    assert back.event_id == back.provider_trade_no + "00"
    # UnionPay 5.1.0: the signing certificate comes in the message, named by its serial.
    platform_cert = x509.load_pem_x509_certificate(
        dev_unionpay_cert_pem("unionpay-platform").encode()
    )
    assert received.form["certId"] == str(platform_cert.serial_number)
    assert x509.load_pem_x509_certificate(received.form["signPubKeyCert"].encode()) == (
        platform_cert
    )
    assert received.form["signPubKeyCert"] == front_fields["signPubKeyCert"]


def test_cashier_shows_the_trade_in_chinese(unionpay):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="front", amount_fen=5)
    with httpx.Client(timeout=10.0) as browser:
        cashier = open_cashier(browser, unionpay.start(request))

    assert "¥0.05" in cashier.text
    assert "话费充值 12.34元" in cashier.text
    assert "银联" in cashier.text
    assert "确认付款" in cashier.text
    assert html_forms(cashier.text)["pay-form"].fields == {"notify_mode": "normal"}


def test_tampered_notifications_are_refused(unionpay):
    with notification_receiver(b"ok") as receiver:
        pay(unionpay, payment_request(notify_url=receiver.url, channel="front"))
        [received] = receiver.wait_for(1)
    form = received.form
    signature = form["signature"]
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    tampered = [
        {**form, "txnAmt": "1"},
        {**form, "signature": flipped},
        {k: v for k, v in form.items() if k != "accNo"},
        {k: v for k, v in form.items() if k != "signature"},
        {**form, "certId": "69629715588"},
        {**form, "respCode": "05"},
    ]

    for fields in tampered:
        with pytest.raises(InvalidNotification):
            unionpay.verify_notification(body=urlencode(fields).encode(), headers={}, form=fields)
    assert verify(unionpay, received).status == "succeeded"


def test_wrong_amount_mode_is_validly_signed_with_the_wrong_amount(unionpay):
    with notification_receiver(b"ok") as receiver:
        pay(
            unionpay,
            payment_request(notify_url=receiver.url, channel="front"),
            notify_mode="wrong_amount",
        )
        [received] = receiver.wait_for(1)

    notification = verify(unionpay, received)
    assert (notification.status, notification.amount_fen) == ("succeeded", 1235)


def test_duplicate_mode_delivers_the_same_notification_three_times(unionpay):
    with notification_receiver(b"ok") as receiver:
        pay(
            unionpay,
            payment_request(notify_url=receiver.url, channel="front"),
            notify_mode="duplicate",
        )
        receiver.wait_for(3)
        received = receiver.after(0.8)

    assert len(received) == 3
    assert received[0].body == received[1].body == received[2].body
    assert len({verify(unionpay, item).event_id for item in received}) == 1


def test_out_of_order_mode_sends_a_stale_pending_notification_after_the_success(unionpay):
    with notification_receiver(b"ok") as receiver:
        pay(
            unionpay,
            payment_request(notify_url=receiver.url, channel="front"),
            notify_mode="out_of_order",
        )
        first, second = receiver.wait_for(2)

    paid, stale = verify(unionpay, first), verify(unionpay, second)
    assert (paid.status, stale.status) == ("succeeded", "pending")
    assert paid.event_id != stale.event_id
    assert stale.paid_at is None


def test_lost_mode_sends_nothing_but_the_query_reports_the_payment(unionpay, carrier_sandbox):
    carrier_sandbox.set_knobs(pay_notify_mode="lost", pay_notify_delay_ms=0)
    with notification_receiver(b"ok") as receiver:
        request = payment_request(notify_url=receiver.url, channel="front")
        front = pay(unionpay, request)
        assert receiver.after(1.0) == []

    state = unionpay.query(out_trade_no=request.out_trade_no, started_at=request.started_at)
    assert state.status == "succeeded"
    assert state.amount_fen == 1234
    assert state.provider_trade_no == front["queryId"]
    assert state.paid_at is not None


def test_query_of_an_unpaid_a_cancelled_and_an_unknown_order(unionpay):
    pending = payment_request(notify_url="http://127.0.0.1:9/n", channel="front")
    cancelled = payment_request(notify_url="http://127.0.0.1:9/n", channel="front")
    with httpx.Client(timeout=10.0) as browser:
        open_cashier(browser, unionpay.start(pending))
        cashier = open_cashier(browser, unionpay.start(cancelled))
        assert "已取消付款" in submit(browser, cashier, "cancel-form").text

    assert (
        unionpay.query(out_trade_no=pending.out_trade_no, started_at=pending.started_at).status
        == "pending"
    )
    assert (
        unionpay.query(out_trade_no=cancelled.out_trade_no, started_at=cancelled.started_at).status
        == "closed"
    )
    assert unionpay.query(out_trade_no=unique_order_id()).status == "not_found"


def test_refunds_partial_repeated_full_and_over(unionpay):
    with notification_receiver(b"ok") as receiver:
        request = payment_request(notify_url=receiver.url, channel="front")
        pay(unionpay, request)
    trade = request.out_trade_no

    first = unionpay.refund(
        started_at=request.started_at,
        out_trade_no=trade,
        out_request_no="R1" + trade,
        amount_fen=500,
        total_fen=1234,
        reason="",
    )
    again = unionpay.refund(
        started_at=request.started_at,
        out_trade_no=trade,
        out_request_no="R1" + trade,
        amount_fen=500,
        total_fen=1234,
        reason="",
    )
    with pytest.raises(ProviderRejected) as over:
        unionpay.refund(
            out_trade_no=trade,
            started_at=request.started_at,
            out_request_no="R2" + trade,
            amount_fen=735,
            total_fen=1234,
            reason="",
        )
    rest = unionpay.refund(
        started_at=request.started_at,
        out_trade_no=trade,
        out_request_no="R3" + trade,
        amount_fen=734,
        total_fen=1234,
        reason="",
    )
    with pytest.raises(ProviderRejected) as reused:
        unionpay.refund(
            started_at=request.started_at,
            out_trade_no=trade,
            out_request_no="R3" + trade,
            amount_fen=1,
            total_fen=1234,
            reason="",
        )

    assert (first.status, first.amount_fen) == ("succeeded", 500)
    assert len(first.provider_refund_no) == 21
    assert again == first
    assert over.value.details["provider_code"] == "33"
    assert (rest.status, rest.amount_fen) == ("succeeded", 734)
    assert rest.provider_refund_no != first.provider_refund_no
    assert reused.value.details["provider_code"] == "12"
    # A refunded consumption is still a successful consumption at UnionPay.
    assert unionpay.query(out_trade_no=trade, started_at=request.started_at).status == "succeeded"


def test_refund_of_an_unknown_or_unpaid_order_is_refused(unionpay):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="front")
    with httpx.Client(timeout=10.0) as browser:
        open_cashier(browser, unionpay.start(request))

    with pytest.raises(ProviderRejected) as unknown:
        unionpay.refund(
            out_trade_no=unique_order_id(),
            out_request_no=unique_order_id(),
            amount_fen=1,
            total_fen=1,
            reason="",
        )
    with pytest.raises(ProviderRejected) as unpaid:
        unionpay.refund(
            out_trade_no=request.out_trade_no,
            started_at=request.started_at,
            out_request_no=unique_order_id(),
            amount_fen=1,
            total_fen=1234,
            reason="",
        )

    assert unknown.value.details["provider_code"] == "34"
    assert unpaid.value.details["provider_code"] == "35"


def test_a_tampered_front_form_is_refused(unionpay):
    action = unionpay.start(payment_request(notify_url="http://127.0.0.1:9/n", channel="front"))

    refused = httpx.post(action.url, data={**action.form_fields, "txnAmt": "1"}, timeout=10.0)

    assert refused.status_code == 400
    assert "验证签名失败" in refused.text


def test_same_order_id_with_another_amount_is_an_error_page(unionpay):
    request = payment_request(notify_url="http://127.0.0.1:9/n", channel="front")
    changed = payment_request(
        notify_url="http://127.0.0.1:9/n",
        channel="front",
        amount_fen=1,
        out_trade_no=request.out_trade_no,
    )
    with httpx.Client(timeout=10.0) as browser:
        open_cashier(browser, unionpay.start(request))
        action = unionpay.start(changed)
        refused = browser.post(action.url, data=action.form_fields)

    assert refused.status_code == 400
    assert "重复交易" in refused.text


def _key_pem(key: rsa.RSAPrivateKey, *, private: bool) -> str:
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _cert_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _provider(settings, **keys: str) -> UnionpayProvider:
    values: dict[str, Any] = {
        "merchant_private_key": dev_rsa_private_pem("unionpay-merchant"),
        "merchant_cert": dev_unionpay_cert_pem("unionpay-merchant"),
        "root_certs": dev_unionpay_cert_pem("unionpay-root-ca"),
        "middle_certs": dev_unionpay_cert_pem("unionpay-middle-ca"),
    }
    values.update(keys)
    return UnionpayProvider(
        mer_id=settings.UNIONPAY_MER_ID,
        gateway=settings.UNIONPAY_GATEWAY,
        refund_back_url="http://127.0.0.1:9/refund",
        timeout=5.0,
        **values,
    )


def test_answers_signed_by_another_key_are_not_trusted(unionpay, settings):
    """The sandbox's answers bring a certificate of its own root: another root refuses them."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    middle_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = self_signed(root_key, "Another Root CA")
    middle = issue(middle_key, issuer=root, issuer_key=root_key, cn="Another Middle CA", ca=True)
    provider = _provider(settings, root_certs=_cert_pem(root), middle_certs=_cert_pem(middle))

    with pytest.raises(ProviderUnavailable) as raised:
        provider.query(out_trade_no=unique_order_id())

    assert raised.value.details["error"] == "INVALID_ANSWER_SIGNATURE"


def test_requests_signed_by_another_key_are_refused(unionpay, settings):
    """Another key with a certificate of the registered serial: the sandbox checks the key."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    registered = x509.load_pem_x509_certificate(dev_unionpay_cert_pem("unionpay-merchant").encode())
    provider = _provider(
        settings,
        merchant_private_key=_key_pem(other, private=True),
        merchant_cert=_cert_pem(issue(other, serial=registered.serial_number)),
    )
    assert provider.cert_id == str(registered.serial_number)

    with pytest.raises(ProviderRejected) as raised:
        provider.query(out_trade_no=unique_order_id())

    assert raised.value.details["provider_code"] == "11"


def test_sandbox_unreachable_is_provider_unavailable(settings):
    settings.UNIONPAY_GATEWAY = "http://127.0.0.1:9/unionpay/gateway/api"
    provider = UnionpayProvider.from_settings()

    with pytest.raises(ProviderUnavailable):
        provider.query(out_trade_no=unique_order_id())
    with pytest.raises(ProviderUnavailable):
        provider.refund(
            out_trade_no=unique_order_id(),
            out_request_no=unique_order_id(),
            amount_fen=1,
            total_fen=1,
            reason="",
        )


def test_a_hung_gateway_times_out_as_configured(settings):
    settings.PAYMENTS_HTTP_TIMEOUT_SECONDS = 0.5
    with silent_server() as url:
        settings.UNIONPAY_GATEWAY = f"{url}/gateway/api"
        provider = UnionpayProvider.from_settings()
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable):
            provider.query(out_trade_no=unique_order_id())

    assert time.monotonic() - started < 3.0


def test_ids_that_do_not_fit_unionpay_are_refused(unionpay):
    with pytest.raises(InvalidArgument):
        unionpay.start(
            payment_request(notify_url="http://x/n", channel="front", out_trade_no="PI-123_456")
        )
    with pytest.raises(InvalidArgument):
        unionpay.start(
            payment_request(notify_url="http://x/n", channel="front", out_trade_no="PI1234")
        )
    with pytest.raises(InvalidArgument):
        unionpay.start(payment_request(notify_url="http://x/n", channel="qr"))


def test_ack():
    provider = UnionpayProvider.from_settings()

    assert (provider.ack(ok=True).status, provider.ack(ok=True).body) == (200, b"ok")
    assert provider.ack(ok=False).status != 200


def test_the_query_names_the_original_orders_txn_time(unionpay, carrier_sandbox):
    """UnionPay finds a consumption by its own txnTime: the time the intent was opened, sent at
    start and again in every query, not the time of the query."""
    carrier_sandbox.set_knobs(pay_notify_mode="lost", pay_notify_delay_ms=0)
    opened = timezone.now() - timedelta(minutes=3)
    with notification_receiver(b"ok") as receiver:
        request = payment_request(notify_url=receiver.url, channel="front", started_at=opened)
        pay(unionpay, request)
    assert (
        unionpay.query(out_trade_no=request.out_trade_no, started_at=opened).status == "succeeded"
    )
    assert unionpay.query(out_trade_no=request.out_trade_no).status == "not_found"
