"""WeChat Pay JSAPI is offered once the buyer's openid is known (bound), and refused before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User, WechatBinding
from apps.payments import services as payments
from apps.payments.errors import MethodUnavailable
from apps.payments.models import PaymentIntent

pytestmark = pytest.mark.django_db


def _start(user_id: int, key: str):
    return payments.intent_start(
        purpose="wechat-test", reference=key, user_id=user_id, method="wechat", channel="jsapi",
        amount_fen=4980, subject="话费充值 50元", client_ip="127.0.0.1", idempotency_key=key,
        expires_at=timezone.now() + timedelta(minutes=15), return_url="",
    )  # fmt: skip


def test_a_bound_buyer_gets_signed_jsapi_params(carrier_sandbox):
    user = User.objects.create_user("13800138000")
    WechatBinding.objects.create(user=user, openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")

    intent = _start(user.pk, "jsapi-1")

    assert intent.status == "pending"
    assert intent.action["kind"] == "jsapi"
    params = intent.action["jsapi_params"]
    assert params["package"].startswith("prepay_id=") and params["paySign"]


def test_jsapi_without_an_openid_is_refused_before_anything_is_written(carrier_sandbox):
    user = User.objects.create_user("13900139000")

    with pytest.raises(MethodUnavailable) as refused:
        _start(user.pk, "jsapi-2")

    assert refused.value.details["reason"] == "no_openid"
    assert not PaymentIntent.objects.filter(idempotency_key="jsapi-2").exists()


def test_the_pay_page_offers_jsapi_only_once_the_openid_is_bound(carrier_sandbox, client):
    from apps.catalog.tests.factories import small_catalog
    from apps.orders import services as orders
    from apps.orders.services import CartOwner

    buyer = User.objects.create_user("13800138000")
    sku = small_catalog()["vip"].skus.get().pk
    orders.cart_add(owner=CartOwner(user_id=buyer.pk), sku_id=sku, quantity=1)
    number = orders.checkout_submit(user_id=buyer.pk, checkout_key="k").number
    client.force_login(buyer)

    assert "wechat:jsapi" not in client.get(f"/orders/{number}/pay/").content.decode()
    refused = client.post(f"/orders/{number}/pay/", {"choice": "wechat:jsapi", "attempt": "a0"})
    assert refused.status_code == 400

    WechatBinding.objects.create(user=buyer, openid="o-payer")
    assert "wechat:jsapi" in client.get(f"/orders/{number}/pay/").content.decode()
    page = client.post(f"/orders/{number}/pay/", {"choice": "wechat:jsapi", "attempt": "a1"})
    assert page.status_code == 302
    go = client.get(page["Location"]).content.decode()
    assert "getBrandWCPayRequest" in go and "/wechat/jsapi-bridge?" in go
    assert PaymentIntent.objects.get(channel="jsapi").status == "pending"
