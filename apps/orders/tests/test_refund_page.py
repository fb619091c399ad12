"""The order page's refund request: offered only while a line can still be refunded as money and
was not asked for yet; once asked, the form gives way to the refund's state; a delivered line says
why it is not refunded as money."""

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.orders.models import OrderLine
from apps.orders.tests.support import paid_order

pytestmark = pytest.mark.django_db
F = OrderLine.Fulfilment
FORM = 'action="/orders/{}/refund/"'


@pytest.fixture
def catalog():
    return small_catalog()


@pytest.fixture
def buyer(client):
    user = User.objects.create_user("13800138000")
    client.force_login(user)
    return user


def _page(client, number: str) -> str:
    return client.get(f"/orders/{number}/").content.decode()


def test_an_undelivered_line_offers_the_form_until_the_refund_is_asked_for(client, catalog, buyer):
    # Given a paid phone not shipped yet
    order = paid_order(buyer, [catalog["iphone"]])
    assert order.lines.get().fulfilment == F.READY
    assert FORM.format(order.number) in _page(client, order.number)
    # When the buyer asks for the refund
    client.post(f"/orders/{order.number}/refund/", {"reason": "不想要了"})
    # Then the form is gone and the refund's state is shown in words
    html = _page(client, order.number)
    assert FORM.format(order.number) not in html
    assert '<ul class="refunds">' in html and "¥5,999.00 · 已申请" in html


def test_a_delivered_digital_line_says_why_it_is_not_refunded_as_money(client, catalog, buyer):
    order = paid_order(buyer, [catalog["vip"]])
    assert order.lines.get().fulfilment == F.DELIVERED
    html = _page(client, order.number)
    assert FORM.format(order.number) not in html
    assert '<ul class="hint refund-notes">' in html
    assert "交付后不能退款" in html and "联系客服" in html


def test_delivered_goods_point_to_a_return_and_a_line_on_its_way_to_waiting(client, catalog, buyer):
    order = paid_order(buyer, [catalog["iphone"], catalog["vip"]])
    phone, vip = sorted(order.lines.all(), key=lambda line: line.kind != "physical")
    OrderLine.objects.filter(pk=phone.pk).update(fulfilment=F.DELIVERED)
    OrderLine.objects.filter(pk=vip.pk).update(fulfilment=F.DELIVERING)
    html = _page(client, order.number)
    assert FORM.format(order.number) not in html
    assert "退货" in html and "正在交付" in html
