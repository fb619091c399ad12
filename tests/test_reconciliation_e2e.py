"""Reconciliation for real: pay at the sandbox's cashiers, let the sandbox's bill file carry
injected differences, download it through the payments adapter and reconcile it (T+1)."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from apps.payments.models import PaymentIntent
from apps.settlement.models import ReconBatch, ReconDifference
from apps.settlement.reconciliation import services as recon
from apps.settlement.services import today
from tests.test_payments_e2e import _order, _pay_at_cashier, _start, _wait, shop  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_merchant(settings) -> None:
    """The session's sandbox keeps every test's trades: a merchant id of this test's own keeps
    its bills to its own payments (WeChat Pay's sandbox knows one mchid: see its test)."""
    settings.ALIPAY_APP_ID = f"2021{secrets.randbelow(10**12):012d}"
    settings.UNIONPAY_MER_ID = f"777{secrets.randbelow(10**12):012d}"


def _paid(shop, method: str, count: int, *, lost: bool = False) -> list[str]:  # noqa: F811
    ids = []
    for index in range(count):
        number = _order(shop, key=f"{method}-{lost}-{index}")
        intent = _start(shop, number, method, attempt=f"a{index}")
        _pay_at_cashier(intent, mode="lost" if lost else "normal")
        ids.append(intent.public_id)
    if not lost:
        assert _wait(
            lambda: (
                PaymentIntent.objects.filter(public_id__in=ids, status="succeeded").count() == count
            )
        )
    return ids


def test_each_difference_the_sandbox_injects_is_classified(shop) -> None:  # noqa: F811
    kept, missing, amount, status, late = _paid(shop, "alipay", 5)
    (lost,) = _paid(shop, "alipay", 1, lost=True)
    day = today()
    shop["sandbox"].set_bill_differences(
        "alipay", day.isoformat(), missing=[missing], amount={amount: 7}, status=[status],
        extra=[{"out_trade_no": "PEXTRA0001", "amount_fen": 990}], next_day=[late],
    )  # fmt: skip
    assert PaymentIntent.objects.get(public_id=lost).status != "succeeded"

    batch_id = recon.recon_fetch(provider="alipay", bill_date=day)

    differences = {d.key: d for d in ReconDifference.objects.filter(batch_id=batch_id)}
    assert {key: d.kind for key, d in differences.items()} == {
        missing: "platform_only", amount: "amount_mismatch", status: "status_mismatch",
        late: "platform_only", "PEXTRA0001": "provider_only", lost: "provider_only",
    }  # fmt: skip
    assert differences[amount].difference_fen == 7
    # Our notification was lost: the provider was queried and the payment applied.
    assert PaymentIntent.objects.get(public_id=lost).status == "succeeded"
    assert differences[lost].status == "resolved"
    assert differences["PEXTRA0001"].status == "open"
    assert ReconBatch.objects.get(pk=batch_id).counts["matched"] == 1 and kept not in differences

    # The next day's bill carries the late row: cross-day, the first day's difference cleared.
    following = recon.recon_fetch(provider="alipay", bill_date=day + dt.timedelta(days=1))
    assert ReconDifference.objects.get(batch_id=following, key=late).kind == "cross_day"
    assert ReconDifference.objects.get(batch_id=batch_id, key=late).status == "resolved"
    # Downloading the same day again is refused and changes nothing.
    with pytest.raises(recon.BillDuplicate):
        recon.recon_fetch(provider="alipay", bill_date=day)
    assert ReconDifference.objects.filter(batch_id=batch_id).count() == 6


def test_a_clean_unionpay_day_matches_and_ties_out(shop) -> None:  # noqa: F811
    _paid(shop, "unionpay", 2)

    batch = ReconBatch.objects.get(pk=recon.recon_fetch(provider="unionpay", bill_date=today()))

    assert (batch.status, batch.rows, batch.counts["matched"]) == ("done", 2, 2)
    assert batch.tie_out_ok and batch.bill_net_fen == batch.ledger_net_fen > 0
    assert not ReconDifference.objects.exists()


def test_wechat_pay_rows_match(shop) -> None:  # noqa: F811
    """WeChat Pay's sandbox has one merchant, so its bill also lists other tests' trades
    (provider-only here): only this test's rows are checked."""
    ours = _paid(shop, "wechat", 2)

    batch = ReconBatch.objects.get(pk=recon.recon_fetch(provider="wechat", bill_date=today()))

    assert batch.status == "done" and batch.counts["matched"] == 2
    assert not ReconDifference.objects.filter(key__in=ours).exists()
