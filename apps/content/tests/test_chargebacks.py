"""Chargebacks of paid content charges: the charge's transitions, the money back through the
ledger once (the CP's share off its payable), the entitlement revoked, the CP told, a
``chargeback`` label for risk; recorded by an operator or from the carrier's dispute file."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin import helpers
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import User
from apps.content import selectors, services
from apps.content.errors import (
    ChargebackAmountMismatch,
    ChargebackNotApplicable,
    ChargeStateConflict,
    DisputeReferenceConflict,
    ReasonRequired,
)
from apps.content.models import Charge, Chargeback, Notification
from apps.content.tests.support import approved_cp, operator, product_on_sale
from apps.content.tests.test_notifications import CpServer
from apps.content.tests.test_risk import _code, _subscriber
from apps.ledger.selectors import account_balance, journals_for_reference
from apps.payments.services import points_grant, refund_execute
from apps.risk.events import canonical_msisdn
from apps.risk.models import Label

S = Charge.Status


def test_a_paid_charge_goes_back_once_by_refund_or_chargeback_never_both():
    assert Charge.TRANSITIONS[S.SUCCEEDED] == {S.REFUNDED, S.CHARGED_BACK}
    assert Charge.TRANSITIONS[S.CHARGED_BACK] == frozenset()
    assert S.CHARGED_BACK not in Charge.TRANSITIONS[S.REFUNDED]
    assert S.CHARGED_BACK not in Charge.TRANSITIONS[S.PENDING]


def _paid(sandbox, cp, product, order_id: str) -> Charge:
    msisdn = _subscriber(sandbox)
    charge = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                    cp_order_id=order_id)  # fmt: skip
    services.charge_confirm(charge_id=charge.pk, code=_code(sandbox, msisdn))
    return Charge.objects.get(pk=charge.pk)


@pytest.mark.django_db(transaction=True)
def test_an_operator_records_a_chargeback_and_everything_follows_once(carrier_sandbox, client):
    cp = approved_cp(share_bp=7000)
    server = CpServer(fail_first=0)
    product = product_on_sale(cp, price_fen=2000, kind="video", notify_url=server.url)
    charge = _paid(carrier_sandbox, cp, product, "CB-1")
    payable = f"cp:{cp.pk}:payable"
    assert account_balance(code=payable) == -1400  # the CP is owed its 70 %
    staff = User.objects.create_superuser("+8613900009996", password="x")
    client.force_login(staff)
    url = "/admin/content/charge/"

    ask = client.post(url, {"action": "charge_back", helpers.ACTION_CHECKBOX_NAME: [charge.pk]})
    assert ask.status_code == 200 and Charge.objects.get(pk=charge.pk).status == "succeeded"
    for _twice in range(2):
        client.post(url, {"action": "charge_back", "apply": "1", "reason": "用户向运营商申诉未订购",
                          helpers.ACTION_CHECKBOX_NAME: [charge.pk]})  # fmt: skip

    chargeback = Chargeback.objects.get()
    assert (chargeback.charge_id, chargeback.amount_fen, chargeback.share_fen, chargeback.source,
            chargeback.recorded_by_id) == (charge.pk, 2000, 1400, "operator", staff.pk)  # fmt: skip
    assert Charge.objects.get(pk=charge.pk).status == "charged_back"
    journals = [
        j
        for j in journals_for_reference(reference=f"content:{charge.pk}")
        if j.kind == "content.chargeback"
    ]
    assert len(journals) == 1
    assert {line.account_code: line.amount_fen for line in journals[0].lines} == {
        "clearing:carrier_billing": -2000, payable: 1400, "platform:revenue": 600,
    }  # fmt: skip
    assert account_balance(code=payable) == 0  # the CP is owed nothing for it now
    assert not selectors.entitled(user_id=charge.user_id, product_id=product.pk)
    told = Notification.objects.get(event="charge.charged_back")
    assert (told.payload["charge_id"], told.payload["status"], told.payload["reason"]) == (
        charge.pk, "charged_back", "用户向运营商申诉未订购",
    )  # fmt: skip
    received = [json.loads(body) for _headers, body in server.received]
    server.close()
    assert [b["event_id"] for b in received if b["event"] == "charge.charged_back"] == [
        told.payload["event_id"]
    ]  # the CP's server got it, once
    assert list(Label.objects.values_list("source", "reference", "msisdn", "cp_id", "product")) == [
        (
            "chargeback",
            charge.pk,
            canonical_msisdn(charge.msisdn),
            str(cp.pk),
            f"content:{product.pk}",
        )
    ]
    with pytest.raises(ChargeStateConflict):  # and no refund after it
        services.charge_refund(cp_id=cp.pk, charge_id=charge.pk, reason="again")


@pytest.mark.django_db(transaction=True)
def test_a_chargeback_that_does_not_apply_is_refused_and_changes_nothing(carrier_sandbox):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    refunded = _paid(carrier_sandbox, cp, product, "CB-R")
    refund = services.charge_refund(cp_id=cp.pk, charge_id=refunded.pk, reason="退款")
    assert refund is not None
    refund_execute(refund_id=refund.id)
    assert Charge.objects.get(pk=refunded.pk).status == "refunded"
    paid = _paid(carrier_sandbox, cp, product, "CB-P")
    pending = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=_subscriber(carrier_sandbox),
                                     cp_order_id="CB-W", channel="web")  # fmt: skip
    refusals = [
        (ReasonRequired, {"charge_id": paid.pk, "reason": " "}),
        (ChargebackAmountMismatch, {"charge_id": paid.pk, "reason": "r", "amount_fen": 999}),
        (ChargeStateConflict, {"charge_id": refunded.pk, "reason": "r"}),
        (ChargeStateConflict, {"charge_id": pending.pk, "reason": "r"}),
    ]
    for error, kwargs in refusals:
        with pytest.raises(error):
            services.chargeback_record(source="operator", actor_id=operator().pk, **kwargs)
    # Paid with points: no carrier or provider takes that back.
    buyer = _subscriber(carrier_sandbox)
    web = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=buyer, cp_order_id="CB-PT",
                                 channel="web")  # fmt: skip
    points_grant(user_id=web.user_id, points=1000, key="cb", reason="test")
    services.charge_pay_start(charge_id=web.pk, method="points", channel="")
    assert Charge.objects.get(pk=web.pk).status == "succeeded"
    with pytest.raises(ChargebackNotApplicable):
        services.chargeback_record(charge_id=web.pk, reason="r", source="operator", actor_id=None)
    assert (
        Chargeback.objects.count() == 0 and not Label.objects.filter(source="chargeback").exists()
    )
    assert Charge.objects.get(pk=paid.pk).status == "succeeded"
    assert not [
        j
        for j in journals_for_reference(reference=f"content:{paid.pk}")
        if j.kind == "content.chargeback"
    ]


@pytest.mark.django_db(transaction=True)
def test_the_carriers_dispute_file_records_each_row_once(carrier_sandbox, tmp_path, capsys):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    first, second = (_paid(carrier_sandbox, cp, product, f"CB-F{n}") for n in (1, 2))
    dispute = tmp_path / "disputes.csv"
    dispute.write_text(
        "dispute_id,charge_id,amount_fen,reason\n"
        f"D-1,{first.pk},1000,未授权扣费\n"
        f"D-2,{second.pk},500,部分金额\n"
        "D-3,CCNOSUCH,1000,未知\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError):  # two rows refused: a non-zero exit, the good row kept
        call_command("content_import_disputes", str(dispute))
    err = capsys.readouterr().err
    assert (
        "line 3: refused, CHARGEBACK_AMOUNT_MISMATCH" in err
        and "line 4: refused, CHARGE_NOT_FOUND" in err
    )
    assert list(Chargeback.objects.values_list("charge_id", "source", "dispute_reference")) == [
        (first.pk, "dispute_file", "D-1")
    ]
    again = services.chargebacks_import(text=dispute.read_text(encoding="utf-8"), actor_id=None)
    assert (again.recorded, again.repeated, [code for _line, code in again.refused]) == (
        0, 1, ["CHARGEBACK_AMOUNT_MISMATCH", "CHARGE_NOT_FOUND"],
    )  # fmt: skip
    with pytest.raises(DisputeReferenceConflict):  # one dispute case, one charge
        services.chargeback_record(charge_id=second.pk, reason="r", source="dispute_file", actor_id=None,
                                   dispute_reference="D-1")  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text("charge,amount\nx,1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="INVALID_ARGUMENT"):
        call_command("content_import_disputes", str(bad))
    assert Chargeback.objects.count() == 1


def _intent(charge: Charge):
    from apps.payments.models import PaymentIntent

    return PaymentIntent.objects.get(purpose="content", reference=charge.pk, settles=True)


@pytest.mark.django_db(transaction=True)
def test_a_charged_back_payment_is_not_refundable_in_payments(carrier_sandbox):
    from apps.payments.errors import PaymentChargedBack
    from apps.payments.models import Refund
    from apps.payments.services import refund_automatic, refund_request

    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    charge = _paid(carrier_sandbox, cp, product, "CB-X1")
    services.chargeback_record(charge_id=charge.pk, reason="申诉", source="operator", actor_id=None)
    intent = _intent(charge)
    assert intent.charged_back_fen == 1000 and intent.status == "succeeded"
    with pytest.raises(PaymentChargedBack):  # finance's refund request
        refund_request(intent_id=intent.pk, amount_fen=1000, reason="r", request_key="cbx1",
                       requested_by=None)  # fmt: skip
    with pytest.raises(PaymentChargedBack):  # an automatic refund (a CP's, past its status check)
        refund_automatic(purpose="content", reference=charge.pk, amount_fen=1000, reason="r",
                         key="cbx1-auto")  # fmt: skip
    with pytest.raises(ChargeStateConflict):
        services.charge_refund(cp_id=cp.pk, charge_id=charge.pk, reason="r")
    assert not Refund.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_refund_open_or_failed_and_retryable_refuses_the_chargeback(carrier_sandbox):
    from apps.payments.models import Refund
    from apps.payments.services import refund_request

    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    requested, failed = (_paid(carrier_sandbox, cp, product, f"CB-O{n}") for n in (1, 2))
    refund_request(intent_id=_intent(requested).pk, amount_fen=400, reason="r", request_key="cbo1",
                   requested_by=None)  # fmt: skip
    refund = refund_request(intent_id=_intent(failed).pk, amount_fen=1000, reason="r",
                            request_key="cbo2", requested_by=None)  # fmt: skip
    Refund.objects.filter(pk=refund.id).update(
        status="failed"
    )  # the provider said no; retried later
    for charge in (requested, failed):
        with pytest.raises(ChargebackNotApplicable):
            services.chargeback_record(
                charge_id=charge.pk, reason="r", source="operator", actor_id=None
            )
        assert Charge.objects.get(pk=charge.pk).status == "succeeded"
        assert _intent(charge).charged_back_fen == 0
    assert not Chargeback.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_chargeback_racing_a_refund_lets_exactly_one_through(carrier_sandbox):
    import threading

    from django.db import connection, transaction

    from apps.payments.models import PaymentIntent, Refund

    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    charge = _paid(carrier_sandbox, cp, product, "CB-RACE")
    outcomes: list[str] = []

    def run(name, call):
        try:
            call()
            outcomes.append(name)
        except Exception as exc:
            outcomes.append(f"refused:{type(exc).__name__}")
        finally:
            connection.close()

    chargeback = threading.Thread(target=run, args=("chargeback", lambda: services.chargeback_record(
        charge_id=charge.pk, reason="r", source="operator", actor_id=None)))  # fmt: skip
    refund = threading.Thread(target=run, args=("refund", lambda: services.charge_refund(
        cp_id=cp.pk, charge_id=charge.pk, reason="r")))  # fmt: skip
    # Hold the payment so both reach their checks before either writes.
    with transaction.atomic():
        PaymentIntent.objects.select_for_update().get(pk=_intent(charge).pk)
        refund.start()
        chargeback.start()
        chargeback.join(timeout=2)  # blocks on the payment (with the fix) or records (without)
    refund.join(timeout=30)
    chargeback.join(timeout=30)
    assert sorted(o for o in outcomes if not o.startswith("refused")) in (
        ["chargeback"],
        ["refund"],
    )
    assert Chargeback.objects.count() + Refund.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_charges_racing_for_one_dispute_reference_get_the_domain_error(carrier_sandbox):
    import threading
    import time

    from django.db import connection, transaction

    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    first, second = (_paid(carrier_sandbox, cp, product, f"CB-D{n}") for n in (1, 2))
    raised: list[BaseException] = []

    def record_second():
        try:
            services.chargeback_record(charge_id=second.pk, reason="r", source="dispute_file",
                                       actor_id=None, dispute_reference="D-RACE")  # fmt: skip
        except BaseException as exc:
            raised.append(exc)
        finally:
            connection.close()

    racer = threading.Thread(target=record_second)
    with transaction.atomic():  # the first is written but not committed when the second checks
        services.chargeback_record(charge_id=first.pk, reason="r", source="dispute_file",
                                   actor_id=None, dispute_reference="D-RACE")  # fmt: skip
        racer.start()
        time.sleep(1.5)
    racer.join(timeout=30)
    assert [type(exc) for exc in raised] == [DisputeReferenceConflict]
    assert list(Chargeback.objects.values_list("charge_id", flat=True)) == [first.pk]
    assert Charge.objects.get(pk=second.pk).status == "succeeded"
    assert _intent(second).charged_back_fen == 0
