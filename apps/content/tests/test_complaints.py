"""Complaints about content charges ("I did not order this"): an operator refunds the charge
(entitlement revoked, share reversed, a refund-marked-fraud label for risk) or rejects the
complaint with an answer the subscriber reads; one answer per complaint."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers

from apps.accounts.models import User
from apps.content import selectors, services
from apps.content.errors import ComplaintStateConflict
from apps.content.models import Charge, Complaint
from apps.content.tests.support import approved_cp, operator, product_on_sale
from apps.content.tests.test_risk import _code, _subscriber
from apps.core.models import AuditEvent
from apps.ledger.selectors import account_balance
from apps.payments.services import refund_execute
from apps.risk.models import Label

pytestmark = pytest.mark.django_db(transaction=True)


def _paid(sandbox, cp, product, order_id: str) -> Charge:
    msisdn = _subscriber(sandbox)
    charge = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                    cp_order_id=order_id)  # fmt: skip
    services.charge_confirm(charge_id=charge.pk, code=_code(sandbox, msisdn))
    return Charge.objects.get(pk=charge.pk)


def test_an_operator_refunds_a_complained_charge_once_and_risk_gets_a_fraud_label(
    carrier_sandbox, client
):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=2000, kind="video")
    charge = _paid(carrier_sandbox, cp, product, "K-1")
    subscriber = User.objects.get(pk=charge.user_id)
    client.force_login(subscriber)
    client.post(f"/my/content/{product.pk}/complain/")
    client.post(f"/my/content/{product.pk}/complain/")  # twice: one complaint
    complaint = Complaint.objects.get()
    assert (complaint.charge_id, complaint.status, selectors.complaints_open()) == (
        charge.pk,
        "open",
        1,
    )

    services.complaint_handle(complaint_id=complaint.pk, refund=True, actor_id=operator().pk)
    with pytest.raises(ComplaintStateConflict):
        services.complaint_handle(complaint_id=complaint.pk, refund=True, actor_id=operator().pk)
    refund = services.charge_refund(
        cp_id=cp.pk, charge_id=charge.pk, reason="again"
    )  # the same one
    assert refund is not None
    refund_execute(refund_id=refund.id)

    assert Complaint.objects.get().status == "refunded" and selectors.complaints_open() == 0
    assert Charge.objects.get(pk=charge.pk).status == "refunded"
    assert not selectors.entitled(user_id=charge.user_id, product_id=product.pk)
    assert account_balance(code=f"cp:{cp.pk}:payable") == 0
    assert sorted(Label.objects.values_list("source", "reference", "cp_id")) == [
        ("complaint", charge.pk, str(cp.pk)),
        ("refund_fraud", charge.pk, str(cp.pk)),
    ]
    assert "content_complaint.refunded" in AuditEvent.objects.values_list("action", flat=True)
    page = client.get(f"/my/content/{product.pk}/").content.decode()
    assert 'data-testid="complaint"' in page and 'data-testid="complain"' not in page


def test_a_rejected_complaint_needs_an_answer_the_subscriber_reads_and_refunds_nothing(
    carrier_sandbox, client
):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    charge = _paid(carrier_sandbox, cp, product, "K-2")
    services.charge_complain(user_id=charge.user_id, product_id=product.pk)
    complaint = Complaint.objects.get()
    staff = User.objects.create_superuser("+8613900009997", password="x")
    client.force_login(staff)
    url = "/admin/content/complaint/"

    ask = client.post(url, {"action": "reject", helpers.ACTION_CHECKBOX_NAME: [complaint.pk]})
    assert ask.status_code == 200 and Complaint.objects.get().status == "open"
    client.post(url, {"action": "reject", "apply": "1", "reason": "订购记录显示本人确认",
                      helpers.ACTION_CHECKBOX_NAME: [complaint.pk]})  # fmt: skip

    assert Complaint.objects.values_list("status", "answer", "handled_by_id").get() == (
        "rejected", "订购记录显示本人确认", staff.pk,
    )  # fmt: skip
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    assert selectors.entitled(user_id=charge.user_id, product_id=product.pk)
    assert not Label.objects.filter(source="refund_fraud").exists()
    client.force_login(User.objects.get(pk=charge.user_id))
    assert "订购记录显示本人确认" in client.get(f"/my/content/{product.pk}/").content.decode()
