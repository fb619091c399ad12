"""Writing a report's rows: CSV (streamed, UTF-8 with BOM for spreadsheet programs), XLSX
(openpyxl's write-only mode: rows go to disk as they come) and the statement PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from apps.core.pdf import cjk_font
from apps.settlement.reports.sources import yuan
from apps.settlement.selectors import StatementLineView, StatementView
from apps.settlement.services import SHANGHAI

Progress = Callable[[int], None]


class _Echo:
    """A file-like whose write returns the text, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """The CSV text in chunks of about a thousand rows, for a StreamingHttpResponse."""
    writer = csv.writer(_Echo())
    buffer = ["\ufeff" + writer.writerow(header)]
    for row in rows:
        buffer.append(writer.writerow(row))
        if len(buffer) >= 1000:
            yield "".join(buffer)
            buffer = []
    yield "".join(buffer)


def write_csv(
    target: IO[str], header: list[str], rows: Iterable[list[Any]], progress: Progress
) -> int:
    count = 0
    for chunk in csv_chunks(header, rows):
        target.write(chunk)
        count += chunk.count("\n")
        progress(count)
    return max(count - 1, 0)


def write_xlsx(
    path: Path, title: str, header: list[str], rows: Iterable[list[Any]], progress: Progress
) -> int:
    """Write the rows to ``path`` with a write-only workbook (constant memory); amounts stay
    text so that no spreadsheet turns fen into floats."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
        if count % 10_000 == 0:
            progress(count)
    book.save(path)
    progress(count)
    return count


KIND_NAMES = {"cp": "内容提供商", "channel": "渠道", "partner": "能力开放合作伙伴"}
STATUS_NAMES = {"draft": "草稿", "confirmed": "已确认", "paid": "已付款", "disputed": "有争议"}
CATEGORY_NAMES = {
    "sale": "销售",
    "refund": "退款",
    "chargeback": "拒付",
    "complaint": "投诉",
    "adjustment": "调整",
    "settlement": "结算",
}


def statement_pdf(statement: StatementView, lines: Iterable[StatementLineView]) -> bytes:
    """The statement in Chinese: who, which period, the figures, then every line."""
    font = cjk_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"结算单 {statement.id}")
    width, height = A4
    left, y = 40, height - 50
    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, y, "结算对账单")
    y -= 30
    pdf.setFont(font, 10)
    figures = [
        ("结算对象", f"{KIND_NAMES.get(statement.kind, statement.kind)} {statement.party_id}"),
        ("账户", statement.account_code),
        ("结算周期", f"{statement.period_start} 至 {statement.period_end}（不含）"),
        ("状态", STATUS_NAMES.get(statement.status, statement.status)),
        ("销售额", yuan(statement.volume_fen)),
        ("退款", yuan(statement.refunds_fen)),
        ("分成金额", yuan(statement.share_fen)),
        ("扣减", yuan(statement.deductions_fen)),
        ("结算金额", yuan(statement.party_fen)),
        ("平台佣金", yuan(statement.commission_fen)),
        ("上期结转", yuan(statement.carried_in_fen)),
        ("本期付款", yuan(statement.payout_fen)),
        ("结转下期", yuan(statement.carry_out_fen)),
        ("与总账核对", "一致" if statement.tie_out_ok else "不一致"),
    ]
    for label, value in figures:
        pdf.drawString(left, y, f"{label}：{value}")
        y -= 15
    y -= 10
    columns = [left, left + 130, left + 230, left + 390, width - left]
    pdf.setFont(font, 9)

    def header() -> None:
        for x, title in zip(columns, ("时间", "类型", "业务单号", "类别"), strict=False):
            pdf.drawString(x, y, title)
        pdf.drawRightString(columns[-1], y, "金额（元）")

    header()
    y -= 14
    for line in lines:
        if y < 50:
            pdf.showPage()
            pdf.setFont(font, 9)
            y = height - 50
            header()
            y -= 14
        pdf.drawString(columns[0], y, f"{line.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}")
        pdf.drawString(columns[1], y, line.journal_kind[:18])
        pdf.drawString(columns[2], y, line.reference[:26])
        pdf.drawString(columns[3], y, CATEGORY_NAMES.get(line.category, line.category))
        pdf.drawRightString(columns[4], y, yuan(line.amount_fen))
        y -= 13
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
