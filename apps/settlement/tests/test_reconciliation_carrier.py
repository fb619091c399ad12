"""The carrier's side of T+1: the sandbox carrier's daily file of phone-bill charges and
refunds, downloaded through the carrier adapter and reconciled like a provider's bill."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.carrier import services as carrier
from apps.carrier.errors import CarrierUnavailable
from apps.payments import services as payments
from apps.payments.handlers import PurposeHandler, purpose_register
from apps.payments.models import PaymentIntent, Refund
from apps.settlement import tasks
from apps.settlement.models import ReconBatch, ReconDifference
from apps.settlement.reconciliation import formats
from apps.settlement.reconciliation import services as recon
from apps.settlement.services import today

pytestmark = pytest.mark.django_db

purpose_register("recon-carrier", PurposeHandler(on_succeeded=lambda fact: True))


@pytest.fixture
def subscriber(carrier_sandbox) -> tuple[User, str]:
    msisdn = f"+86138{secrets.randbelow(10**8):08d}"
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=100_000)
    return User.objects.create_user(msisdn.removeprefix("+86")), msisdn


def _pay(sandbox, user: User, msisdn: str, amount: int) -> str:
    key = secrets.token_hex(8)
    intent = payments.intent_start(
        purpose="recon-carrier", reference=f"ref-{key}", user_id=user.pk, method="carrier_billing",
        channel="", amount_fen=amount, subject="视频会员", client_ip="127.0.0.1",
        idempotency_key=key, expires_at=timezone.now() + timedelta(minutes=15), return_url="",
    )  # fmt: skip
    found = re.search(r"验证码(\d{6})", sandbox.messages(msisdn, limit=1)[0]["text"])
    assert found is not None
    paid = payments.carrier_billing_confirm(
        public_id=intent.public_id, user_id=user.pk, code=found.group(1)
    )
    assert paid.status == "succeeded"
    return intent.public_id


def test_the_carrier_file_is_downloaded_and_reconciled_with_its_differences(
    carrier_sandbox, subscriber, django_capture_on_commit_callbacks
) -> None:
    user, msisdn = subscriber
    kept = _pay(carrier_sandbox, user, msisdn, 1_500)
    differs = _pay(carrier_sandbox, user, msisdn, 2_000)
    missing = _pay(carrier_sandbox, user, msisdn, 990)
    refund = payments.refund_request(
        intent_id=PaymentIntent.objects.get(public_id=kept).pk, amount_fen=500, reason="t",
        request_key=secrets.token_hex(4), requested_by=None,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        payments.refund_decide(refund_id=refund.id, approve=True, actor_id=user.pk)
    refund_no = Refund.objects.get(pk=refund.id).public_id
    day = today()
    carrier_sandbox.set_bill_differences(
        "carrier_billing", day.isoformat(), amount={differs: 3}, missing=[missing]
    )

    batch_id = recon.recon_fetch(provider="carrier_billing", bill_date=day)

    batch = ReconBatch.objects.get(pk=batch_id)
    assert batch.status == "done" and batch.merchant_id == recon.merchant_id("carrier_billing")
    ours = {kept, differs, missing, refund_no}
    found = {
        d.key: (d.kind, d.difference_fen)
        for d in ReconDifference.objects.filter(batch_id=batch_id, key__in=ours)
    }
    # The carrier bills one merchant: other tests' charges this session are provider-only here.
    assert found == {differs: ("amount_mismatch", 3), missing: ("platform_only", -990)}
    assert batch.counts["matched"] >= 2  # kept, and its refund

    with pytest.raises(recon.BillDuplicate):
        recon.recon_fetch(provider="carrier_billing", bill_date=day)


def test_the_carrier_file_parses_as_the_record_layout(carrier_sandbox, subscriber) -> None:
    user, msisdn = subscriber
    paid = _pay(carrier_sandbox, user, msisdn, 1_234)
    merchant = recon.merchant_id("carrier_billing")

    data = carrier.billing_statement(day=today(), merchant_id=merchant)

    bill = formats.parse(data, provider="carrier_billing", bill_date=today(), merchant_id=merchant)
    row = next(r for r in bill.rows if r.out_trade_no == paid)
    assert (row.kind, row.amount_fen, row.fee_fen, row.status) == ("payment", 1_234, 0, "success")
    assert row.provider_trade_no == PaymentIntent.objects.get(public_id=paid).provider_trade_no


def test_the_daily_job_includes_the_carrier_and_retries_while_it_is_unreachable(
    monkeypatch,
) -> None:
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(tasks.recon_fetch_task, "delay", lambda *args: queued.append(args))

    tasks.recon_daily_task()

    assert [provider for provider, _day in queued] == [
        "alipay",
        "wechat",
        "unionpay",
        "carrier_billing",
    ]

    def down(**_kwargs: object) -> bytes:
        raise CarrierUnavailable()

    monkeypatch.setattr(carrier, "billing_statement", down)
    retried: list[BaseException] = []

    def retry(*, exc: BaseException, countdown: int) -> BaseException:
        retried.append(exc)
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.recon_fetch_task, "retry", retry)
    with pytest.raises(RuntimeError):
        tasks.recon_fetch_task.run("carrier_billing", today().isoformat())
    assert isinstance(retried[0], CarrierUnavailable)
    assert not ReconBatch.objects.exists()
