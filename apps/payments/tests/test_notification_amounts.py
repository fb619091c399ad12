"""Validly signed notifications with amounts that are not money are refused, never a 500."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.utils import timezone

from apps.payments.models import PaymentEvent, PaymentIntent
from config.devkeys import dev_rsa_private_pem

pytestmark = pytest.mark.django_db


def _alipay_signed(fields: dict[str, str]) -> dict[str, str]:
    """Sign as Alipay does (RSA2 over the sorted ``k=v`` pairs), with the sandbox's key."""
    message = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
    key = serialization.load_pem_private_key(
        dev_rsa_private_pem("alipay-platform").encode(), password=None
    )
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]
    return {**fields, "sign": base64.b64encode(signature).decode(), "sign_type": "RSA2"}


@pytest.mark.parametrize("amount", ["1E+999999", "-1E+999999", "1E+20", "-12.00", "Infinity"])
def test_an_alipay_notification_with_an_absurd_amount_is_refused(client, amount):
    intent = PaymentIntent.objects.create(
        public_id="PI26120700000000000001", purpose="order", reference="CH1", method="alipay",
        channel="page", amount_fen=1200, idempotency_key="k", status="pending",
        expires_at=timezone.now() + timedelta(minutes=15),
    )  # fmt: skip
    form = _alipay_signed(
        {
            "notify_id": "n1", "app_id": settings.ALIPAY_APP_ID, "out_trade_no": intent.public_id,
            "trade_no": "2026120722001", "trade_status": "TRADE_SUCCESS", "total_amount": amount,
            "gmt_payment": "2026-12-07 10:00:00", "notify_time": "2026-12-07 10:00:01",
        }
    )  # fmt: skip
    response = client.post("/payments/notify/alipay/", form)
    assert (response.status_code, response.content) == (200, b"fail")
    event = PaymentEvent.objects.get()
    assert (event.verified, event.outcome.startswith("invalid:")) == (False, True)
    intent.refresh_from_db()
    assert intent.status == "pending"
