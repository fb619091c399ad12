"""The payments workbench's refund list and approval page show each line's delivery state,
supplied by orders through the purpose registry (payments knows no owners)."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.orders.tests.support import paid_order
from apps.payments import services as payments
from apps.payments.handlers import purpose_handler
from apps.payments.models import PaymentIntent, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund() -> Refund:
    catalog = small_catalog()
    buyer = User.objects.create_user("13800138000")
    order = paid_order(buyer, [catalog["vip"], catalog["iphone"]])
    intent = PaymentIntent.objects.get(reference=order.number, status="succeeded")
    view = payments.refund_request(intent_id=intent.pk, amount_fen=intent.amount_fen, reason="t",
                                   request_key="r1", requested_by=buyer.pk)  # fmt: skip
    return Refund.objects.get(pk=view.id)


def test_orders_describes_the_lines_of_its_references(refund):
    describe_lines = purpose_handler("order").describe_lines
    assert describe_lines is not None
    lines = describe_lines([refund.intent.reference, "CH-none"])
    assert sorted(line.state for line in lines[refund.intent.reference]) == ["delivered", "ready"]
    assert "CH-none" not in lines


def test_the_refund_list_and_approval_page_show_each_lines_delivery(refund, client):
    client.force_login(User.objects.create_superuser("13800000009", "pw"))
    listing = client.get("/admin/payments/refund/", HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(f"/admin/payments/refund/{refund.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    for response in (listing, page):
        text = response.content.decode()
        assert response.status_code == 200
        assert "Delivered" in text and "To deliver" in text
    assert "Delivery of the lines" in listing.content.decode()
