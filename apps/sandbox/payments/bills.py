"""The providers' daily bill files (T+1), as each provider writes them, with differences to
inject: ``GET /sandbox/bills/<provider>/<YYYY-MM-DD>?merchant_id=...`` serves the merchant's file of the day's
paid trades and refunds; ``PUT /sandbox/bills/<provider>/<YYYY-MM-DD>/differences`` (API key)
sets what the file gets wrong:

``{"missing": [out_trade_no], "amount": {out_trade_no: delta_fen}, "status": [out_trade_no],
"extra": [{"out_trade_no": ..., "amount_fen": ...}], "next_day": [out_trade_no]}``

- missing: the row is left out; amount: its amount differs by ``delta_fen``; status: it shows
  as closed; extra: a paid row the merchant never had; next_day: the row moves to the next
  day's file.

Formats: Alipay's business detail CSV in GBK (``#`` preface, ``#交易合计``/``#退款合计``
footer); WeChat Pay's trade bill (back-tick before every value, summary line); UnionPay's
record file (``H``/``D``/``T`` records separated by ``|``); the carrier's daily file of
phone-bill charges (``carrier_billing``, the same record layout), also served to the platform
under the carrier's API at ``/carrier/v1/billing-statements/<YYYY-MM-DD>``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse

from apps.sandbox.errors import invalid_argument
from apps.sandbox.faults import carrier_endpoint, knobs_get
from apps.sandbox.jsonapi import json_endpoint, json_response, read_json_object, require_api_key
from apps.sandbox.models import CarrierPayment, Knobs, PayRefund, PayTrade

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CARRIER = "carrier_billing"  # the carrier's own daily file of phone-bill charges
FEE_RATES = {
    "alipay": Decimal("0.006"),
    "wechat": Decimal("0.006"),
    "unionpay": Decimal("0.005"),
    CARRIER: Decimal(0),
}


@dataclass
class Row:
    refund: bool
    out_trade_no: str
    trade_no: str
    refund_no: str
    amount_fen: int
    fee_fen: int
    closed: bool
    at: dt.datetime


def _fee(amount_fen: int, provider: str) -> int:
    return int((Decimal(amount_fen) * FEE_RATES[provider]).quantize(Decimal(1), ROUND_HALF_UP))


def _day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=1)


def _rows(provider: str, merchant_id: str, day: dt.date) -> list[Row]:
    """The day's rows with the injected differences (and the day before's next-day rows)."""
    start, end = _day(day)
    if provider == CARRIER:
        payments, refunds = _carrier_rows(start, end)
    else:
        trades = PayTrade.objects.filter(
            provider=provider, merchant_id=merchant_id, status=PayTrade.Status.SUCCEEDED,
            paid_at__gte=start - dt.timedelta(days=1), paid_at__lt=end,
        )  # fmt: skip
        payments = [
            Row(False, t.out_trade_no, t.trade_no, "", t.amount_fen, 0, False, t.paid_at)
            for t in trades
            if t.paid_at is not None
        ]
        refunds = [
            Row(True, r.trade.out_trade_no, r.trade.trade_no, r.out_request_no, r.amount_fen, 0,
                False, r.created_at)
            for r in PayRefund.objects.filter(
                trade__provider=provider, trade__merchant_id=merchant_id,
                created_at__gte=start, created_at__lt=end,
            ).select_related("trade")
        ]  # fmt: skip
    return _differ(provider, day, payments, refunds)


def _carrier_rows(start: dt.datetime, end: dt.datetime) -> tuple[list[Row], list[Row]]:
    """The carrier's phone-bill charges paid from the day before (for next-day rows) and the
    refunds credited in the day. The carrier bills for one merchant (the platform)."""
    payments: list[Row] = []
    refunds: list[Row] = []
    charged = CarrierPayment.objects.filter(
        status=CarrierPayment.Status.SUCCEEDED,
        charged_at__gte=start - dt.timedelta(days=1), charged_at__lt=end,
    )  # fmt: skip
    for p in charged:
        assert p.charged_at is not None
        payments.append(Row(False, p.merchant_reference, p.payment_id, "", p.amount_fen, 0,
                            False, p.charged_at))  # fmt: skip
    for p in CarrierPayment.objects.exclude(refunded_at={}).filter(
        charged_at__gte=start - dt.timedelta(days=400)
    ):
        for reference, when in p.refunded_at.items():
            at = dt.datetime.fromisoformat(when)
            if start <= at < end:
                refunds.append(Row(True, p.merchant_reference, p.payment_id, reference,
                                   int(p.refunds[reference]), 0, False, at))  # fmt: skip
    return payments, refunds


def _differ(provider: str, day: dt.date, payments: list[Row], refunds: list[Row]) -> list[Row]:
    """The file's rows: the day's payments (and the day before's moved to this day) with the
    injected differences, the day's refunds, the extra rows; fees at the provider's rate."""
    diffs = knobs_get().bill_differences
    today = diffs.get(f"{provider}:{day}", {})
    before = diffs.get(f"{provider}:{day - dt.timedelta(days=1)}", {})
    start, _end = _day(day)
    moved_in = set(before.get("next_day", []))
    rows: list[Row] = []
    for trade in payments:
        if trade.at < start and trade.out_trade_no not in moved_in:
            continue
        if trade.at >= start and trade.out_trade_no in today.get("next_day", []):
            continue
        if trade.out_trade_no in today.get("missing", []):
            continue
        amount = trade.amount_fen + int(today.get("amount", {}).get(trade.out_trade_no, 0))
        rows.append(Row(False, trade.out_trade_no, trade.trade_no, "", amount,
                        _fee(amount, provider), trade.out_trade_no in today.get("status", []),
                        max(trade.at, start)))  # fmt: skip
    rows.extend(refunds)
    for number, extra in enumerate(today.get("extra", []), start=1):
        amount = int(extra["amount_fen"])
        rows.append(Row(False, str(extra["out_trade_no"]), f"X{day:%Y%m%d}{number:08d}", "",
                        amount, _fee(amount, provider), False, start + dt.timedelta(hours=12)))  # fmt: skip
    return sorted(rows, key=lambda r: r.at)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _stamp(at: dt.datetime) -> str:
    return f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"


def alipay_file(rows: list[Row], merchant_id: str, day: dt.date) -> bytes:
    following = day + dt.timedelta(days=1)
    out = io.StringIO()
    out.write(f"#支付宝业务明细查询\n#账号：[{merchant_id}]\n")
    out.write(
        f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{following:%Y年%m月%d日} 00:00:00]\n"
    )
    out.write(
        "#-----------------------------------------业务明细列表----------------------------------------\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间",
                     "门店编号", "门店名称", "操作员", "终端号", "对方账户", "订单金额（元）",
                     "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）",
                     "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）",
                     "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注"])  # fmt: skip
    totals: dict[bool, list[int]] = {False: [0, 0, 0], True: [0, 0, 0]}
    for row in rows:
        signed = -row.amount_fen if row.refund else row.amount_fen
        writer.writerow([f"{row.trade_no}\t", f"{row.out_trade_no}\t", "退款" if row.refund else "交易",
                         "商品", _stamp(row.at), _stamp(row.at), "", "", "", "", "buyer@example.com",
                         _yuan(signed), _yuan(signed), "0.00", "0.00", "0.00", "0.00", "0.00", "",
                         "0.00", "0.00", f"{row.refund_no}\t", _yuan(row.fee_fen), "0.00",
                         "关闭" if row.closed else ""])  # fmt: skip
        totals[row.refund][0] += 1
        totals[row.refund][1] += signed
        totals[row.refund][2] += row.fee_fen
    out.write(
        "#-----------------------------------------业务明细列表结束------------------------------------\n"
    )
    for refund, label in ((False, "交易"), (True, "退款")):
        count, amount, fee = totals[refund]
        out.write(
            f"#{label}合计：{count}笔，商家实收共{_yuan(amount)}元，商家优惠共0.00元，服务费共{_yuan(fee)}元\n"
        )
    out.write(f"#导出时间：[{following:%Y年%m月%d日} 09:00:00]\n")
    return out.getvalue().encode("gbk")


def wechat_file(rows: list[Row], merchant_id: str) -> bytes:
    lines = ["交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
             "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
             "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
             "费率备注"]  # fmt: skip
    paid = refunded = fee = 0
    for row in rows:
        state = "REFUND" if row.refund else ("REVOKED" if row.closed else "SUCCESS")
        amount = _yuan(row.amount_fen)
        values = [_stamp(row.at), "wx8888888888888888", merchant_id, "0", "", row.trade_no,
                  row.out_trade_no, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "NATIVE", state, "OTHERS", "CNY",
                  "0.00" if row.refund else amount, "0.00",
                  f"50{row.trade_no[-20:]}" if row.refund else "0", row.refund_no or "0",
                  amount if row.refund else "0.00", "0.00", "ORIGINAL" if row.refund else "",
                  "SUCCESS" if row.refund else "", "商品", "", f"{Decimal(row.fee_fen) / 100:.5f}",
                  "0.60%", "0.00" if row.refund else amount, amount if row.refund else "0.00", ""]  # fmt: skip
        lines.append(",".join(f"`{value}" for value in values))
        paid += 0 if row.refund else row.amount_fen
        refunded += row.amount_fen if row.refund else 0
        fee += row.fee_fen
    lines.append(
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    )
    summary = [str(len(rows)), _yuan(paid), _yuan(refunded), "0.00", f"{Decimal(fee) / 100:.5f}",
               _yuan(paid), _yuan(refunded)]  # fmt: skip
    lines.append(",".join(f"`{value}" for value in summary))
    return ("\n".join(lines) + "\n").encode("utf-8")


def unionpay_file(rows: list[Row], merchant_id: str, day: dt.date) -> bytes:
    lines = [f"H|{merchant_id}|{day:%Y%m%d}"]
    net = 0
    for row in rows:
        lines.append("|".join(["D", f"{row.at.astimezone(SHANGHAI):%Y%m%d%H%M%S}", row.out_trade_no,
                               row.trade_no, row.refund_no, "04" if row.refund else "01",
                               f"{row.amount_fen:012d}", f"{row.fee_fen:+d}",
                               "99" if row.closed else "00"]))  # fmt: skip
        net += 0 if row.closed else (-row.amount_fen if row.refund else row.amount_fen)
    lines.append(f"T|{len(rows)}|{net}")
    return ("\n".join(lines) + "\n").encode("ascii")


def _parse_day(provider: str, day: str) -> dt.date:
    if provider not in FEE_RATES:
        raise invalid_argument(f"No bills for {provider!r}.")
    try:
        return dt.date.fromisoformat(day)
    except ValueError as exc:
        raise invalid_argument("The day is YYYY-MM-DD.") from exc


@json_endpoint("GET")
def bill(request: HttpRequest, provider: str, day: str) -> HttpResponse:
    bill_date = _parse_day(provider, day)
    merchant_id = request.GET.get("merchant_id", "")
    if not merchant_id:
        raise invalid_argument("merchant_id is required.")
    rows = _rows(provider, merchant_id, bill_date)
    if provider == "alipay":
        body, kind = alipay_file(rows, merchant_id, bill_date), "text/csv; charset=GBK"
    elif provider == "wechat":
        body, kind = wechat_file(rows, merchant_id), "text/csv; charset=utf-8"
    else:
        body, kind = unionpay_file(rows, merchant_id, bill_date), "text/plain; charset=us-ascii"
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{provider}-{bill_date:%Y%m%d}.csv"'
    return response


@json_endpoint("GET")
@carrier_endpoint
def carrier_statement(request: HttpRequest, knobs: Knobs, day: str) -> HttpResponse:
    """``GET /carrier/v1/billing-statements/<YYYY-MM-DD>?merchant_id=`` (the carrier's API key):
    the day's phone-bill charges and refunds in the record layout (``H``/``D``/``T``), with the
    differences set for ``carrier_billing`` at ``/sandbox/bills/carrier_billing/<day>``."""
    bill_date = _parse_day(CARRIER, day)
    merchant_id = request.GET.get("merchant_id", "")
    if not merchant_id:
        raise invalid_argument("merchant_id is required.")
    body = unionpay_file(_rows(CARRIER, merchant_id, bill_date), merchant_id, bill_date)
    response = HttpResponse(body, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="carrier-{bill_date:%Y%m%d}.txt"'
    return response


@json_endpoint("PUT")
def bill_differences(request: HttpRequest, provider: str, day: str) -> HttpResponse:
    require_api_key(request)
    bill_date = _parse_day(provider, day)
    changes: dict[str, Any] = read_json_object(request)
    unknown = set(changes) - {"missing", "amount", "status", "extra", "next_day"}
    if unknown:
        raise invalid_argument(f"Unknown differences: {sorted(unknown)}.")
    knobs = knobs_get()
    knobs.bill_differences = {**knobs.bill_differences, f"{provider}:{bill_date}": changes}
    knobs.save(update_fields=["bill_differences", "updated_at"])
    return json_response(changes)
