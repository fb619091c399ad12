"""The providers' daily bill files: one parser per format, and a writer for each (the sample
files in docs/settlement.md, the tests and the benchmark are written by it).

- Alipay business detail (业务明细): CSV in GBK, ``#`` preface lines (account, dates), a
  header row, the rows, then ``#`` footer lines with the ``合计`` totals;
- WeChat Pay trade bill (交易账单, type ALL): CSV in UTF-8, every value prefixed with a
  back-tick, then the summary header and one summary line;
- UnionPay: the merchant's daily settlement file, fixed fields separated by ``|``, a header
  record (``H``), detail records (``D``) and a trailer record (``T``) with count and total;
- the carrier's daily phone-bill charges: the same record layout as UnionPay's, ``|``
  separated, header ``H``, details ``D``, trailer ``T``.

A parser reads the whole file before it returns anything, so a malformed or truncated file
(no footer, totals that do not add up, a row it cannot read) is refused whole
(``BillMalformed``), and a bill of another merchant is refused too (``BillForeignMerchant``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from apps.core.errors import InvalidArgument
from apps.core.money import MoneyError, format_fen, round_fen, to_fen

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PAYMENT, REFUND = "payment", "refund"
SUCCESS, CLOSED = "success", "closed"


class BillMalformed(InvalidArgument):
    code = "RECON_BILL_MALFORMED"
    default_message = _("The bill file is malformed or truncated.")


class BillForeignMerchant(InvalidArgument):
    code = "RECON_BILL_UNKNOWN_MERCHANT"
    default_message = _("The bill is for a merchant id this platform does not have.")


@dataclass(frozen=True)
class BillRow:
    kind: str  # payment | refund
    out_trade_no: str
    provider_trade_no: str
    refund_no: str
    amount_fen: int  # positive; a refund's amount is what went back
    fee_fen: int  # the provider's fee on the row (a refund's returned fee is negative)
    status: str  # success | closed
    at: dt.datetime

    @property
    def key(self) -> str:
        return self.refund_no if self.kind == REFUND else self.out_trade_no

    @property
    def net_fen(self) -> int:
        """What the row moved in the merchant's favour: a payment in, a refund out."""
        if self.status != SUCCESS:
            return 0
        return self.amount_fen if self.kind == PAYMENT else -self.amount_fen


@dataclass
class Bill:
    provider: str
    merchant_id: str
    bill_date: dt.date
    rows: list[BillRow] = field(default_factory=list)


def _yuan(fen: int) -> str:
    return format_fen(fen, symbol="").replace(",", "")


def _fen(value: str) -> int:
    try:
        return to_fen(value.strip().lstrip("`").strip() or "0")
    except MoneyError as exc:
        raise BillMalformed(details={"value": value[:40]}) from exc


def _fee(value: str) -> int:
    """WeChat Pay's fees have five decimals of yuan: rounded to the fen by the one rule."""
    try:
        return round_fen(Decimal(value or "0") * 100)
    except InvalidOperation as exc:
        raise BillMalformed(details={"fee": value[:40]}) from exc


def _time(value: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value.strip().lstrip("`"), "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=SHANGHAI
        )
    except ValueError as exc:
        raise BillMalformed(details={"time": value[:40]}) from exc


def _check_merchant(bill: Bill, merchant_id: str) -> None:
    if bill.merchant_id != merchant_id:
        raise BillForeignMerchant(
            details={"merchant_id": bill.merchant_id, "expected": merchant_id}
        )


# --- Alipay -----------------------------------------------------------------------------------

ALIPAY_HEADER = [
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号",
    "门店名称", "操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）",
    "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）",
    "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）",
    "分润（元）", "备注",
]  # fmt: skip
_ALIPAY_TOTAL = re.compile(r"#(交易|退款)合计：(\d+)笔，商家实收共(-?[\d.]+)元")


def alipay_write(bill: Bill) -> bytes:
    day = bill.bill_date
    following = day + dt.timedelta(days=1)
    out = io.StringIO()
    out.write("#支付宝业务明细查询\n")
    out.write(f"#账号：[{bill.merchant_id}]\n")
    out.write(
        f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{following:%Y年%m月%d日} 00:00:00]\n"
    )
    out.write(
        "#-----------------------------------------业务明细列表----------------------------------------\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ALIPAY_HEADER)
    totals = {PAYMENT: [0, 0, 0], REFUND: [0, 0, 0]}
    for row in bill.rows:
        signed = row.amount_fen if row.kind == PAYMENT else -row.amount_fen
        at = f"{row.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"
        writer.writerow([
            f"{row.provider_trade_no}\t", f"{row.out_trade_no}\t",
            "交易" if row.kind == PAYMENT else "退款", "商品", at, at, "", "", "", "", "buyer@example.com",
            _yuan(signed), _yuan(signed), "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00",
            f"{row.refund_no}\t", _yuan(row.fee_fen), "0.00", "" if row.status == SUCCESS else "关闭",
        ])  # fmt: skip
        total = totals[row.kind]
        total[0] += 1
        total[1] += signed
        total[2] += row.fee_fen
    out.write(
        "#-----------------------------------------业务明细列表结束------------------------------------\n"
    )
    for kind, label in ((PAYMENT, "交易"), (REFUND, "退款")):
        count, amount, fee = totals[kind]
        out.write(
            f"#{label}合计：{count}笔，商家实收共{_yuan(amount)}元，商家优惠共0.00元，服务费共{_yuan(fee)}元\n"
        )
    out.write(f"#导出时间：[{following:%Y年%m月%d日} 09:00:00]\n")
    return out.getvalue().encode("gbk")


def alipay_parse(data: bytes, *, bill_date: dt.date, merchant_id: str) -> Bill:
    try:
        text = data.decode("gbk")
    except UnicodeDecodeError as exc:
        raise BillMalformed(details={"encoding": "not GBK"}) from exc
    lines = text.splitlines()
    account = next((line for line in lines if line.startswith("#账号：")), None)
    if account is None:
        raise BillMalformed(details={"preface": "no #账号 line"})
    bill = Bill("alipay", account.split("[", 1)[-1].rstrip("]").strip(), bill_date)
    _check_merchant(bill, merchant_id)
    totals = {m.group(1): (int(m.group(2)), _fen(m.group(3))) for line in lines
              if (m := _ALIPAY_TOTAL.match(line))}  # fmt: skip
    if set(totals) != {"交易", "退款"}:
        raise BillMalformed(details={"footer": "no #交易合计/#退款合计 lines: truncated?"})
    body = [line for line in lines if line and not line.startswith("#")]
    reader = csv.reader(body)
    if next(reader, None) != ALIPAY_HEADER:
        raise BillMalformed(details={"header": "not Alipay's business detail columns"})
    seen = {"交易": [0, 0], "退款": [0, 0]}
    for record in reader:
        if len(record) != len(ALIPAY_HEADER):
            raise BillMalformed(details={"row": len(bill.rows) + 1, "columns": len(record)})
        kind = PAYMENT if record[2] == "交易" else REFUND if record[2] == "退款" else ""
        if not kind:
            raise BillMalformed(details={"row": len(bill.rows) + 1, "business_type": record[2]})
        signed = _fen(record[12])
        bill.rows.append(BillRow(
            kind=kind, out_trade_no=record[1].strip(), provider_trade_no=record[0].strip(),
            refund_no=record[21].strip(), amount_fen=abs(signed), fee_fen=_fen(record[22]),
            status=CLOSED if record[24].strip() == "关闭" else SUCCESS, at=_time(record[5]),
        ))  # fmt: skip
        seen[record[2]][0] += 1
        seen[record[2]][1] += signed
    for label, (count, amount) in totals.items():
        if tuple(seen[label]) != (count, amount):
            raise BillMalformed(details={"totals": label, "declared": [count, amount],
                                         "rows": seen[label]})  # fmt: skip
    return bill


# --- WeChat Pay -------------------------------------------------------------------------------

WECHAT_HEADER = [
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
    "用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额",
    "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态",
    "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
]  # fmt: skip
WECHAT_SUMMARY = ["总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额",
                  "订单总金额", "申请退款总金额"]  # fmt: skip


def wechat_write(bill: Bill) -> bytes:
    out = io.StringIO()
    out.write(",".join(WECHAT_HEADER) + "\n")
    paid = refunded = fee = 0
    for row in bill.rows:
        refund = row.kind == REFUND
        state = "REFUND" if refund else ("SUCCESS" if row.status == SUCCESS else "REVOKED")
        values = [
            f"{row.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}", "wx8888888888888888", bill.merchant_id,
            "0", "", row.provider_trade_no, row.out_trade_no, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "NATIVE", state, "OTHERS", "CNY", "0.00" if refund else _yuan(row.amount_fen), "0.00",
            f"50{row.provider_trade_no[-20:]}" if refund else "0", row.refund_no if refund else "0",
            _yuan(row.amount_fen) if refund else "0.00", "0.00", "ORIGINAL" if refund else "",
            "SUCCESS" if refund else "", "商品", "", f"{Decimal(row.fee_fen) / 100:.5f}", "0.60%",
            _yuan(row.amount_fen) if not refund else "0.00", _yuan(row.amount_fen) if refund else "0.00", "",
        ]  # fmt: skip
        out.write(",".join(f"`{value}" for value in values) + "\n")
        paid += 0 if refund else row.amount_fen
        refunded += row.amount_fen if refund else 0
        fee += row.fee_fen
    out.write(",".join(WECHAT_SUMMARY) + "\n")
    summary = [str(len(bill.rows)), _yuan(paid), _yuan(refunded), "0.00", f"{Decimal(fee) / 100:.5f}",
               _yuan(paid), _yuan(refunded)]  # fmt: skip
    out.write(",".join(f"`{value}" for value in summary) + "\n")
    return out.getvalue().encode("utf-8")


def wechat_parse(data: bytes, *, bill_date: dt.date, merchant_id: str) -> Bill:
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise BillMalformed(details={"encoding": "not UTF-8"}) from exc
    if not lines or lines[0].split(",") != WECHAT_HEADER:
        raise BillMalformed(details={"header": "not WeChat Pay's trade bill columns"})
    try:
        summary_at = lines.index(",".join(WECHAT_SUMMARY))
    except ValueError as exc:
        raise BillMalformed(details={"footer": "no summary: truncated?"}) from exc
    if summary_at + 1 >= len(lines):
        raise BillMalformed(details={"footer": "no summary line: truncated?"})
    summary = [value.lstrip("`") for value in lines[summary_at + 1].split(",")]
    bill = Bill("wechat", merchant_id, bill_date)
    paid = refunded = 0
    for number, line in enumerate(lines[1:summary_at], start=1):
        values = [value[1:] if value.startswith("`") else value for value in line.split(",")]
        if len(values) != len(WECHAT_HEADER):
            raise BillMalformed(details={"row": number, "columns": len(values)})
        if values[2] != merchant_id:
            raise BillForeignMerchant(details={"merchant_id": values[2], "expected": merchant_id})
        refund = values[9] == "REFUND"
        amount = _fen(values[16] if refund else values[12])
        bill.rows.append(BillRow(
            kind=REFUND if refund else PAYMENT, out_trade_no=values[6], provider_trade_no=values[5],
            refund_no=values[15] if refund else "", amount_fen=amount,
            fee_fen=_fee(values[22]),
            status=SUCCESS if values[9] in ("SUCCESS", "REFUND") else CLOSED, at=_time(values[0]),
        ))  # fmt: skip
        refunded += amount if refund else 0
        paid += 0 if refund else _fen(values[12])
    if (int(summary[0]), _fen(summary[1]), _fen(summary[2])) != (len(bill.rows), paid, refunded):
        raise BillMalformed(
            details={"summary": summary[:3], "rows": [len(bill.rows), paid, refunded]}
        )
    return bill


# --- UnionPay and the carrier ------------------------------------------------------------------


def records_write(bill: Bill) -> bytes:
    """UnionPay's and the carrier's daily file: H|merchant|date, D records, T|count|net."""
    lines = [f"H|{bill.merchant_id}|{bill.bill_date:%Y%m%d}"]
    for row in bill.rows:
        lines.append("|".join([
            "D", f"{row.at.astimezone(SHANGHAI):%Y%m%d%H%M%S}", row.out_trade_no,
            row.provider_trade_no, row.refund_no, "01" if row.kind == PAYMENT else "04",
            f"{row.amount_fen:012d}", f"{row.fee_fen:+d}", "00" if row.status == SUCCESS else "99",
        ]))  # fmt: skip
    net = sum(row.net_fen for row in bill.rows)
    lines.append(f"T|{len(bill.rows)}|{net}")
    return ("\n".join(lines) + "\n").encode("ascii")


def records_parse(data: bytes, *, provider: str, bill_date: dt.date, merchant_id: str) -> Bill:
    try:
        lines = data.decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise BillMalformed(details={"encoding": "not ASCII"}) from exc
    if not lines or not lines[0].startswith("H|"):
        raise BillMalformed(details={"header": "no H record"})
    if not lines[-1].startswith("T|"):
        raise BillMalformed(details={"trailer": "no T record: truncated?"})
    header = lines[0].split("|")
    bill = Bill(provider, header[1] if len(header) == 3 else "", bill_date)
    _check_merchant(bill, merchant_id)
    for number, line in enumerate(lines[1:-1], start=1):
        fields = line.split("|")
        if len(fields) != 9 or fields[0] != "D" or fields[5] not in ("01", "04"):
            raise BillMalformed(details={"row": number})
        try:
            at = dt.datetime.strptime(fields[1], "%Y%m%d%H%M%S").replace(tzinfo=SHANGHAI)
            amount, fee = int(fields[6]), int(fields[7])
        except ValueError as exc:
            raise BillMalformed(details={"row": number}) from exc
        bill.rows.append(BillRow(
            kind=PAYMENT if fields[5] == "01" else REFUND, out_trade_no=fields[2],
            provider_trade_no=fields[3], refund_no=fields[4], amount_fen=amount, fee_fen=fee,
            status=SUCCESS if fields[8] == "00" else CLOSED, at=at,
        ))  # fmt: skip
    trailer = lines[-1].split("|")
    try:
        declared = (int(trailer[1]), int(trailer[2]))
    except (IndexError, ValueError) as exc:
        raise BillMalformed(details={"trailer": lines[-1][:40]}) from exc
    if declared != (len(bill.rows), sum(row.net_fen for row in bill.rows)):
        raise BillMalformed(details={"trailer": list(declared), "rows": len(bill.rows)})
    return bill


def parse(data: bytes, *, provider: str, bill_date: dt.date, merchant_id: str) -> Bill:
    if provider == "alipay":
        return alipay_parse(data, bill_date=bill_date, merchant_id=merchant_id)
    if provider == "wechat":
        return wechat_parse(data, bill_date=bill_date, merchant_id=merchant_id)
    return records_parse(data, provider=provider, bill_date=bill_date, merchant_id=merchant_id)


def write(bill: Bill) -> bytes:
    if bill.provider == "alipay":
        return alipay_write(bill)
    if bill.provider == "wechat":
        return wechat_write(bill)
    return records_write(bill)
