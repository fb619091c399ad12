"""Risk outcomes that act: a case closed as "refunds issued" refunds its payments once, "CP
warned" warns the CP (console, SMS, suspension at the threshold), a refund marked fraud in the
workbench and a chargeback label feed the number's score, which the rules read."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.carrier.models import SmsMessage
from apps.content import services as content
from apps.content.models import Charge, ContentProvider
from apps.content.tests.support import approved_cp, product_on_sale
from apps.core import outbox
from apps.core.models import AuditEvent
from apps.payments.models import Refund
from apps.payments.risk_handlers import risk_case_refunds
from apps.payments.services import refunds_issue_for_case
from apps.risk import recorder
from apps.risk import services as risk
from apps.risk.cases import subject_score
from apps.risk.events import Event, Kind, canonical_msisdn
from apps.risk.models import Case, CpWarning, Label, ListEntry
from apps.risk.tests.support import active_rule
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)


def _paid_charge(sandbox, cp: ContentProvider, order_id: str, price_fen: int = 1000) -> Charge:
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=100_000)
    product = product_on_sale(cp, price_fen=price_fen)
    charge = content.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                   cp_order_id=order_id)  # fmt: skip
    code = re.search(r"验证码(\d{6})", sandbox.messages(msisdn)[0]["text"])
    assert code is not None
    return content.charge_confirm(charge_id=charge.pk, code=code.group(1))


def _case(
    subject: str, anomaly: str = "complaint_rate", references: list[str] | None = None
) -> Case:
    return Case.objects.create(anomaly=anomaly, subject=subject, day=timezone.localdate(),
                               title=f"{anomaly} for {subject}", references=references or [])  # fmt: skip


def _close(case: Case, outcome: str) -> None:
    """Closed by a user who may approve refunds (what "refunds issued" needs)."""
    from django.contrib.auth.models import Permission

    finance, _new = User.objects.get_or_create(phone="13900000041", defaults={"is_staff": True})
    finance.user_permissions.add(*Permission.objects.filter(codename="change_refund"))
    risk.case_update(case_id=case.pk, assignee_id=None, notes="", outcome=outcome,
                     actor_id=finance.pk)  # fmt: skip


def test_a_case_closed_as_refunds_issued_refunds_its_paid_charges_once(carrier_sandbox):
    cp = approved_cp()
    paid, other = _paid_charge(carrier_sandbox, cp, "R-1"), _paid_charge(carrier_sandbox, cp, "R-2")
    quiet = _case(f"cp_id:{cp.pk}", anomaly="night_burst", references=[other.pk])
    case = _case(f"cp_id:{cp.pk}", references=[paid.pk, "CC-NEVER-PAID"])

    _close(quiet, "no_action")  # an outcome that refunds nothing
    assert not Refund.objects.exists()

    _close(case, "refunds")

    refund = Refund.objects.get()
    assert (refund.intent.reference, refund.amount_fen, refund.automatic, refund.status) == (
        paid.pk, 1000, True, "succeeded",
    )  # fmt: skip
    paid.refresh_from_db()
    assert paid.status == "refunded"
    # Closed again, the event delivered again, the service run again: nothing more.
    _close(case, "refunds")
    payload = {"case_id": case.pk, "outcome": "refunds", "references": [paid.pk]}
    risk_case_refunds(
        outbox.Event(id=uuid.uuid4(), topic="risk.case.closed", payload=payload, key=None)
    )
    assert [r.public_id for r in refunds_issue_for_case(case_id=case.pk, references=[paid.pk])] == [
        refund.public_id
    ]
    assert Refund.objects.count() == 1
    other.refresh_from_db()
    assert other.status == "succeeded"


def test_a_cp_warning_is_shown_texted_and_the_threshold_suspends(carrier_sandbox, client, settings):
    settings.RISK_CP_WARNINGS_BEFORE_SUSPENSION = 2
    cp = approved_cp()

    _close(_case(f"cp_id:{cp.pk}"), "cp_warned")

    cp.refresh_from_db()
    assert cp.status == "approved"
    warning = CpWarning.objects.get()
    assert (warning.cp_id, warning.suspended) == (str(cp.pk), False)
    assert ListEntry.objects.filter(action="watch", dimension="cp", value=str(cp.pk)).exists()
    notice = SmsMessage.objects.get(purpose="notice", msisdn=cp.contact_phone)
    assert cp.name in notice.preview
    client.force_login(User.objects.get(pk=cp.members.get().user_id))
    page = client.get("/cp/").content.decode()
    assert 'data-testid="cp-warnings"' in page and warning.reason in page

    _close(_case(f"cp_id:{cp.pk}", anomaly="refund_fraud_rate"), "cp_warned")

    cp.refresh_from_db()
    assert cp.status == "suspended"
    assert list(CpWarning.objects.order_by("pk").values_list("suspended", flat=True)) == [
        False,
        True,
    ]
    assert ListEntry.objects.filter(action="block", dimension="cp", value=str(cp.pk)).exists()
    assert AuditEvent.objects.filter(action="risk.cp.warned", object_id=str(cp.pk)).count() == 2


def test_an_operator_marks_a_workbench_refund_as_fraud(carrier_sandbox, client):
    cp = approved_cp()
    charge = _paid_charge(carrier_sandbox, cp, "F-1")
    content.charge_refund(cp_id=cp.pk, charge_id=charge.pk, reason="buyer asked")
    refund = Refund.objects.get()
    risk.decide(event=Event(kind=Kind.REFUND_REQUEST, msisdn=charge.msisdn, device_id="dev-77",
                            reference=charge.pk))  # fmt: skip
    recorder.decisions_flush()
    active_rule("fraud-marked", "score >= 20", kinds=["content_charge"])
    staff = User.objects.create_superuser("13900000009", password="x")
    client.force_login(staff)

    for _ in range(2):  # twice: one label
        page = client.post("/admin/payments/refund/",
                           {"action": "mark_fraud", "_selected_action": [refund.pk]}, follow=True)  # fmt: skip
        assert page.status_code == 200

    label = Label.objects.get()
    assert (label.source, label.reference, label.msisdn, label.user_id, label.device_id) == (
        "refund_fraud", charge.pk, canonical_msisdn(charge.msisdn), charge.user_id, "dev-77",
    )  # fmt: skip
    assert (label.cp_id, label.product) == (str(cp.pk), f"content:{charge.product_id}")
    assert AuditEvent.objects.filter(action="refund.marked_fraud", actor_id=staff.pk).count() == 1
    assert (
        AuditEvent.objects.filter(action="risk.label.refund_fraud", actor_id=staff.pk).count() == 1
    )
    assert subject_score(msisdn=canonical_msisdn(charge.msisdn)) == 20.0
    again = risk.decide(
        event=Event(kind=Kind.CONTENT_CHARGE, msisdn=charge.msisdn, cp_id=str(cp.pk))
    )
    assert (again.outcome, again.reasons) == ("block", ("FRAUD_MARKED",))


def test_a_charged_back_charge_gets_no_refund_when_its_case_closes_as_refunds_issued(
    carrier_sandbox,
):
    cp = approved_cp()
    charge = _paid_charge(carrier_sandbox, cp, "CBR-1")
    content.chargeback_record(charge_id=charge.pk, reason="申诉", source="operator", actor_id=None)
    case = _case(f"cp_id:{cp.pk}", anomaly="chargeback_rate", references=[charge.pk])

    _close(case, "refunds")

    assert not Refund.objects.exists()
    assert refunds_issue_for_case(case_id=case.pk, references=[charge.pk]) == []
    charge.refresh_from_db()
    assert charge.status == "charged_back"
