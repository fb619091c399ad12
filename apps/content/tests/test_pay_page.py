"""The hosted pay page: the phone bill with the SMS second confirmation, or points."""

from __future__ import annotations

import re

import pytest

from apps.accounts.models import User
from apps.content import selectors, services
from apps.content.models import Charge
from apps.content.tests.support import approved_cp, product_on_sale
from apps.payments.services import points_grant
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)


def _web_charge(sandbox, *, price: int = 500):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=price, kind="game")
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    charge = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                    cp_order_id="W-1", channel="web")  # fmt: skip
    return product, msisdn, charge


def test_the_phone_bill_on_the_pay_page_asks_for_the_texted_code(carrier_sandbox, client):
    product, msisdn, charge = _web_charge(carrier_sandbox)
    assert not carrier_sandbox.messages(msisdn)  # a web charge texts nothing until the buyer picks
    client.force_login(User.objects.get(phone=msisdn))
    page = client.get(f"/pay/content/{charge.pk}/")
    assert page.status_code == 200 and product.title in page.content.decode()
    go = client.post(f"/pay/content/{charge.pk}/", {"method": "carrier_billing"})
    assert go.status_code == 302 and "/payments/" in go["Location"]
    intent = Charge.objects.get(pk=charge.pk).intent_public_id
    wrong = client.post(
        f"/payments/{intent}/carrier-confirm/?back=/pay/content/{charge.pk}/", {"code": "000001"}
    )
    assert wrong.status_code == 302 and Charge.objects.get(pk=charge.pk).status == "pending"
    code = re.search(r"验证码(\d{6})", carrier_sandbox.messages(msisdn)[0]["text"]).group(1)
    done = client.post(
        f"/payments/{intent}/carrier-confirm/?back=/pay/content/{charge.pk}/", {"code": code}
    )
    assert done["Location"] == f"/pay/content/{charge.pk}/"
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    assert 'data-testid="paid"' in client.get(f"/pay/content/{charge.pk}/").content.decode()
    assert selectors.entitled(user_id=charge.user_id, product_id=product.pk)


def test_points_pay_at_once_and_another_subscriber_cannot_open_the_page(carrier_sandbox, client):
    product, msisdn, charge = _web_charge(carrier_sandbox)
    stranger = User.objects.create_user("+8613800138001")
    client.force_login(stranger)
    assert client.get(f"/pay/content/{charge.pk}/").status_code == 404
    buyer = User.objects.get(phone=msisdn)
    points_grant(user_id=buyer.pk, points=500, key="t", reason="test")
    client.force_login(buyer)
    client.post(f"/pay/content/{charge.pk}/", {"method": "points"})
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    assert selectors.entitled(user_id=buyer.pk, product_id=product.pk)


def test_an_in_app_charge_can_be_confirmed_by_the_subscriber_on_the_page(carrier_sandbox, client):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=600, kind="game")
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    charge = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                    cp_order_id="A-1", channel="in_app")  # fmt: skip
    intent = Charge.objects.get(pk=charge.pk).intent_public_id
    assert len(carrier_sandbox.messages(msisdn)) == 1  # the in-app create texted the code

    client.force_login(User.objects.get(phone=msisdn))
    go = client.post(f"/pay/content/{charge.pk}/", {"method": "carrier_billing"})

    assert go.status_code == 302 and f"/payments/{intent}/" in go["Location"]  # the same payment
    assert len(carrier_sandbox.messages(msisdn)) == 1  # and no second code
    code = re.search(r"验证码(\d{6})", carrier_sandbox.messages(msisdn)[0]["text"]).group(1)
    client.post(
        f"/payments/{intent}/carrier-confirm/?back=/pay/content/{charge.pk}/", {"code": code}
    )
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    assert selectors.entitled(user_id=charge.user_id, product_id=product.pk)
