"""T+1 reconciliation: each provider's file format, every difference class, bad input,
adjustments, and the tie-out of the bill to the clearing account."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace

import pytest

from apps.core.models import AuditEvent
from apps.ledger import selectors as ledger
from apps.ledger.models import Journal
from apps.ledger.services import LineSpec, journal_post
from apps.payments.models import PaymentIntent, Refund
from apps.settlement import selectors
from apps.settlement.models import ReconBatch, ReconDifference
from apps.settlement.reconciliation import formats
from apps.settlement.reconciliation import services as recon
from apps.settlement.reconciliation.formats import Bill, BillRow
from apps.settlement.services import SHANGHAI
from apps.settlement.tests.support import dated

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 20)
NEXT = DAY + dt.timedelta(days=1)
PROVIDERS = ["alipay", "wechat", "unionpay", "carrier_billing"]


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def paid(method: str, amount: int, when: dt.datetime) -> PaymentIntent:
    """A payment the platform booked: the intent and its ledger journal, dated ``when``."""
    intent = PaymentIntent.objects.create(
        public_id=f"P{secrets.token_hex(8)}", purpose="order", reference="order:1", method=method,
        amount_fen=amount, status="succeeded", provider_trade_no=f"T{secrets.token_hex(8)}",
        idempotency_key=secrets.token_hex(8), expires_at=when, paid_at=when,
    )  # fmt: skip
    with dated(when):
        journal_post(
            idempotency_key=f"pay:{intent.public_id}", kind="payment", reference=intent.public_id,
            lines=[LineSpec(f"clearing:{method}", amount), LineSpec("platform:revenue", -amount)],
        )  # fmt: skip
    return intent


def refunded(intent: PaymentIntent, amount: int, when: dt.datetime) -> Refund:
    refund = Refund.objects.create(
        public_id=f"R{secrets.token_hex(8)}", intent=intent, amount_fen=amount, reason="test",
        status="succeeded", request_key=secrets.token_hex(8),
    )  # fmt: skip
    Refund.objects.filter(pk=refund.pk).update(updated_at=when)
    with dated(when):
        journal_post(
            idempotency_key=f"refund:{refund.public_id}", kind="refund", reference=refund.public_id,
            lines=[LineSpec("refunds:payable", amount), LineSpec(f"clearing:{intent.method}", -amount)],
        )  # fmt: skip
    return refund


def bill_row(intent: PaymentIntent, *, rate: str = "0.006", **changes) -> BillRow:
    from decimal import Decimal

    from apps.core.money import apply_rate

    row = BillRow(
        kind="payment", out_trade_no=intent.public_id, provider_trade_no=intent.provider_trade_no,
        refund_no="", amount_fen=intent.amount_fen,
        fee_fen=apply_rate(intent.amount_fen, Decimal(rate)), status="success",
        at=intent.paid_at or at(DAY, 12),
    )  # fmt: skip
    return replace(row, **changes)


def refund_row(refund: Refund) -> BillRow:
    return BillRow(
        kind="refund", out_trade_no=refund.intent.public_id,
        provider_trade_no=refund.intent.provider_trade_no, refund_no=refund.public_id,
        amount_fen=refund.amount_fen, fee_fen=0, status="success", at=at(DAY, 18),
    )  # fmt: skip


def bill(provider: str, rows: list[BillRow], day: dt.date = DAY) -> bytes:
    return formats.write(Bill(provider, recon.merchant_id(provider), day, rows))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_format_reads_back_what_was_written(provider: str) -> None:
    rows = [
        BillRow("payment", "P1", "T1", "", 10_000, 60, "success", at(DAY, 9)),
        BillRow("payment", "P2", "T2", "", 999, 6, "closed", at(DAY, 10)),
        BillRow("refund", "P1", "T1", "R1", 2_500, 0, "success", at(DAY, 11)),
    ]
    data = bill(provider, rows)
    parsed = formats.parse(data, provider=provider, bill_date=DAY,
                           merchant_id=recon.merchant_id(provider))  # fmt: skip
    assert parsed.rows == rows


def test_the_alipay_file_is_gbk_with_its_preface_and_totals() -> None:
    data = bill("alipay", [BillRow("payment", "P1", "T1", "", 10_000, 60, "success", at(DAY, 9))])
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gbk")
    assert text.startswith("#支付宝业务明细查询\n#账号：[")
    assert "#交易合计：1笔，商家实收共100.00元" in text and "#退款合计：0笔" in text


def test_the_wechat_file_prefixes_every_value_with_a_backtick() -> None:
    data = bill("wechat", [BillRow("payment", "P1", "T1", "", 10_000, 60, "success", at(DAY, 9))])
    lines = data.decode().splitlines()
    assert lines[0].startswith("交易时间,公众账号ID,商户号")
    assert all(value.startswith("`") for value in lines[1].split(","))
    assert (
        lines[2].startswith("总交易单数")
        and lines[3] == "`1,`100.00,`0.00,`0.00,`0.60000,`100.00,`0.00"
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_clean_day_matches_and_ties_out(provider: str) -> None:
    rate = str(recon.fee_rate(provider))
    one = paid(provider, 10_000, at(DAY, 9))
    two = paid(provider, 2_345, at(DAY, 10))
    back = refunded(one, 1_000, at(DAY, 18))

    batch_id = recon.recon_run(provider=provider, bill_date=DAY, data=bill(provider, [
        bill_row(one, rate=rate), bill_row(two, rate=rate), refund_row(back),
    ]))  # fmt: skip

    batch = ReconBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.rows, batch.counts["matched"]) == ("done", 3, 3)
    assert (batch.bill_net_fen, batch.ledger_net_fen, batch.tie_out_ok) == (11_345, 11_345, True)
    assert not ReconDifference.objects.exists()


def test_each_injected_difference_gets_its_class() -> None:
    kept = paid("alipay", 10_000, at(DAY, 9))
    missing = paid("alipay", 1_100, at(DAY, 10))
    amount = paid("alipay", 1_200, at(DAY, 11))
    status = paid("alipay", 1_300, at(DAY, 12))
    late = paid("alipay", 1_400, at(DAY, 23, 59))  # the provider books it the next day
    fee = paid("alipay", 10_000, at(DAY, 13))
    extra = BillRow("payment", "PUNKNOWN", "TUNKNOWN", "", 500, 3, "success", at(DAY, 14))

    batch_id = recon.recon_run(provider="alipay", bill_date=DAY, data=bill("alipay", [
        bill_row(kept), bill_row(amount, amount_fen=1_210), bill_row(status, status="closed"),
        bill_row(fee, fee_fen=90), extra,
    ]))  # fmt: skip

    found = {d.key: d for d in ReconDifference.objects.filter(batch_id=batch_id)}
    assert {key: d.kind for key, d in found.items()} == {
        missing.public_id: "platform_only", amount.public_id: "amount_mismatch",
        status.public_id: "status_mismatch", late.public_id: "platform_only",
        fee.public_id: "fee_mismatch", "PUNKNOWN": "provider_only",
    }  # fmt: skip
    assert found[amount.public_id].difference_fen == 10
    assert found[status.public_id].difference_fen == -1_300
    assert found[fee.public_id].difference_fen == 30
    assert found[missing.public_id].bill_row is None
    assert (found[missing.public_id].platform_row or {}).get("amount_fen") == 1_100
    batch = ReconBatch.objects.get(pk=batch_id)
    assert batch.counts["matched"] == 2  # kept, and fee (matched, then its fee differs)
    assert (
        batch.tie_out_ok is False
        and batch.ledger_net_fen - batch.bill_net_fen == 1_100 + 1_400 + 1_300 - 10 - 500
    )

    # The next day's bill lists the late payment: cross-day, and the day before is cleared.
    next_id = recon.recon_run(provider="alipay", bill_date=NEXT, data=bill(
        "alipay", [bill_row(late, at=at(NEXT, 0, 1))], NEXT))  # fmt: skip
    assert ReconDifference.objects.get(batch_id=next_id).kind == "cross_day"
    cleared = ReconDifference.objects.get(pk=found[late.public_id].pk)
    assert cleared.status == "resolved" and str(NEXT) in cleared.resolution
    assert ReconDifference.objects.get(pk=found[missing.public_id].pk).status == "open"


def test_a_row_whose_out_trade_no_we_do_not_know_matches_by_the_provider_trade_no() -> None:
    same = paid("wechat", 10_000, at(DAY, 9))
    differs = paid("wechat", 2_000, at(DAY, 10))
    earlier = paid("wechat", 3_000, at(DAY - dt.timedelta(days=1), 23, 59))
    recon.recon_run(provider="wechat", bill_date=DAY - dt.timedelta(days=1), data=bill(
        "wechat", [], DAY - dt.timedelta(days=1)))  # fmt: skip
    assert ReconDifference.objects.get().kind == "platform_only"  # earlier: not on its day

    batch_id = recon.recon_run(provider="wechat", bill_date=DAY, data=bill("wechat", [
        bill_row(same, out_trade_no="MERCHANT-OTHER-1"),
        bill_row(differs, out_trade_no="", amount_fen=2_100),
        bill_row(earlier, out_trade_no="MERCHANT-OTHER-3", at=at(DAY, 0, 1)),
    ]))  # fmt: skip

    batch = ReconBatch.objects.get(pk=batch_id)
    found = {d.key: d.kind for d in ReconDifference.objects.filter(batch_id=batch_id)}
    assert batch.counts["matched"] == 1
    assert found == {differs.public_id: "amount_mismatch", earlier.public_id: "cross_day"}
    assert ReconDifference.objects.get(key=earlier.public_id, batch__bill_date=DAY - dt.timedelta(
        days=1)).status == "resolved"  # fmt: skip


def test_a_truncated_bill_fails_the_batch_and_writes_nothing_else() -> None:
    intent = paid("alipay", 10_000, at(DAY, 9))
    data = bill("alipay", [bill_row(intent)])
    truncated = data[
        : data.index("#-----------------------------------------业务明细列表结束".encode("gbk"))
    ]

    with pytest.raises(formats.BillMalformed):
        recon.recon_run(provider="alipay", bill_date=DAY, data=truncated)

    batch = ReconBatch.objects.get()
    assert batch.status == "failed" and "RECON_BILL_MALFORMED" in batch.error
    assert not ReconDifference.objects.exists()
    # The corrected file then reconciles the same day.
    recon.recon_run(provider="alipay", bill_date=DAY, data=data)
    assert ReconBatch.objects.get().status == "done"


@pytest.mark.parametrize("provider", ["wechat", "unionpay"])
def test_malformed_rows_and_totals_are_refused(provider: str) -> None:
    intent = paid(provider, 10_000, at(DAY, 9))
    data = bill(provider, [bill_row(intent)]).decode()
    broken = (
        data.replace("100.00", "100.01", 1)
        if provider == "wechat"
        else data.replace("|01|", "|07|")
    )
    with pytest.raises(formats.BillMalformed):
        recon.recon_run(provider=provider, bill_date=DAY, data=broken.encode())
    assert ReconBatch.objects.get().status == "failed"
    assert not ReconDifference.objects.exists()


def test_a_bill_for_another_merchant_is_refused() -> None:
    data = formats.write(Bill("unionpay", "999999999999999", DAY, []))
    with pytest.raises(formats.BillForeignMerchant):
        recon.recon_run(provider="unionpay", bill_date=DAY, data=data)
    assert "RECON_BILL_UNKNOWN_MERCHANT" in ReconBatch.objects.get().error


def test_a_duplicated_download_is_refused_and_changes_nothing() -> None:
    intent = paid("wechat", 10_000, at(DAY, 9))
    data = bill("wechat", [bill_row(intent, amount_fen=9_000)])
    recon.recon_run(provider="wechat", bill_date=DAY, data=data)

    with pytest.raises(recon.BillDuplicate) as refused:
        recon.recon_run(provider="wechat", bill_date=DAY, data=data)

    assert refused.value.details["same_file"] is True
    assert ReconBatch.objects.count() == 1 and ReconDifference.objects.count() == 1
    assert ReconBatch.objects.get().status == "done"
    trail = AuditEvent.objects.get(action="settlement.recon_duplicate_refused")
    assert trail.object_id == str(ReconBatch.objects.get().pk)


def test_a_resolution_that_moves_money_is_a_balanced_adjustment_journal() -> None:
    intent = paid("alipay", 1_200, at(DAY, 11))
    recon.recon_run(provider="alipay", bill_date=DAY, data=bill("alipay", [
        bill_row(intent, amount_fen=1_210)]))  # fmt: skip
    difference = ReconDifference.objects.get()
    before = ledger.account_balance(code="clearing:alipay")

    recon.difference_investigate(difference_id=difference.pk, actor_id=None)
    recon.difference_resolve(difference_id=difference.pk, actor_id=None,
                             note="银行流水确认多收 0.10 元", adjust=True)  # fmt: skip

    difference.refresh_from_db()
    assert difference.status == "resolved" and difference.journal_id is not None
    journal = Journal.objects.get(pk=difference.journal_id)
    lines = dict(journal.lines.values_list("account__code", "amount_fen"))
    assert lines == {"clearing:alipay": 10, "platform:recon_adjustments": -10}
    assert sum(lines.values()) == 0
    assert ledger.account_balance(code="clearing:alipay") == before + 10
    with pytest.raises(recon.DifferenceStateConflict):
        recon.difference_resolve(
            difference_id=difference.pk, actor_id=None, note="again", adjust=True
        )
    assert Journal.objects.filter(kind="recon_adjustment").count() == 1
    actions = AuditEvent.objects.filter(object_type="settlement.recon_difference")
    assert sorted(actions.values_list("action", flat=True)) == [
        "settlement.recon_difference.investigating", "settlement.recon_difference.resolved",
    ]  # fmt: skip


def test_open_differences_are_counted_for_the_workbench_home() -> None:
    intent = paid("alipay", 1_200, at(DAY, 11))
    recon.recon_run(provider="alipay", bill_date=DAY, data=bill("alipay", []))
    assert selectors.work_counts().reconciliation_differences_open == 1
    difference = ReconDifference.objects.get(key=intent.public_id)
    recon.difference_resolve(difference_id=difference.pk, actor_id=None, note="ok", adjust=False)
    assert selectors.work_counts().reconciliation_differences_open == 0


def test_the_workbench_queue_shows_both_sides_and_the_report_lists_them(client) -> None:
    from apps.accounts.models import User
    from apps.settlement.reports.sources import REPORTS, Params

    intent = paid("alipay", 1_200, at(DAY, 11))
    recon.recon_run(provider="alipay", bill_date=DAY, data=bill("alipay", [
        bill_row(intent, amount_fen=1_210)]))  # fmt: skip
    difference = ReconDifference.objects.get()
    client.force_login(User.objects.create_superuser("13800138099"))

    page = client.get(f"/admin/settlement/recondifference/{difference.pk}/change/")

    assert page.status_code == 200
    assert "<td>1210</td><td>1200</td>" in page.text  # amount_fen: the provider's, then ours
    client.post("/admin/settlement/recondifference/", {
        "action": "resolve", "_selected_action": [difference.pk], "note": "多收", "adjust": "on",
    })  # fmt: skip
    difference.refresh_from_db()
    assert (difference.status, difference.resolution) == ("resolved", "多收")
    rows = list(REPORTS["reconciliation"].rows(Params(DAY, NEXT)))
    assert rows[0][:4] == ["2026-11-20", "alipay", "batch", "done"]
    assert rows[1][:6] == [
        "2026-11-20",
        "alipay",
        "amount_mismatch",
        "resolved",
        intent.public_id,
        "0.10",
    ]
