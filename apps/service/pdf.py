"""The electronic invoice as a PDF in Chinese (reportlab, with the CJK font the project ships,
embedded: ``apps.core.pdf``): seller, buyer, lines with tax rate and tax, and the totals."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from apps.core.money import format_fen
from apps.core.pdf import cjk_font
from apps.orders.services import OrderView
from apps.service.services import InvoiceView
from apps.service.tax import TAX_RATES, tax_split


def _yuan(fen: int) -> str:
    return format_fen(fen, symbol="")


def invoiced_amounts(order: OrderView) -> list[int]:
    """What each line is invoiced for: what it was paid (its total less its share of the
    campaigns' discount), refunds taken off the last lines first."""
    left = order.refunded_fen
    amounts = []
    for line in reversed(order.lines):
        paid = line.total_fen - line.discount_fen
        taken = min(left, paid)
        left -= taken
        amounts.append(paid - taken)
    return amounts[::-1]


def invoice_pdf(*, invoice: InvoiceView, order: OrderView) -> bytes:
    """Render an issued invoice; the lines are the order's, refunds taken off the last ones."""
    font = cjk_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=landscape(A4), pageCompression=1)
    pdf.setTitle(f"电子发票 {invoice.invoice_number}")
    width, height = landscape(A4)
    left, y = 40, height - 50
    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, y, "电子发票（普通发票）")
    pdf.setFont(font, 10)
    issued = timezone.localtime(invoice.issued_at) if invoice.issued_at else None
    pdf.drawRightString(width - left, y, f"发票号码：{invoice.invoice_number}")
    pdf.drawRightString(width - left, y - 14, f"开票日期：{issued:%Y年%m月%d日}" if issued else "")
    y -= 50
    pdf.setFont(font, 11)
    pdf.drawString(left, y, "购买方信息")
    pdf.drawString(width / 2, y, "销售方信息")
    pdf.setFont(font, 10)
    pdf.drawString(left, y - 18, f"名称：{invoice.title}")
    pdf.drawString(left, y - 34, f"统一社会信用代码/纳税人识别号：{invoice.tax_number or '—'}")
    pdf.drawString(width / 2, y - 18, f"名称：{settings.INVOICE_SELLER_NAME}")
    pdf.drawString(
        width / 2, y - 34, f"统一社会信用代码/纳税人识别号：{settings.INVOICE_SELLER_TAX_NUMBER}"
    )
    y -= 70
    columns = [(left, "项目名称"), (330, "规格型号"), (450, "数量"), (500, "单价"),
               (580, "金额"), (660, "税率"), (720, "税额")]  # fmt: skip
    for x, label in columns:
        pdf.drawString(x, y, label)
    pdf.line(left, y - 6, width - left, y - 6)
    y -= 24
    net_total = tax_total = 0
    for line, amount in zip(order.lines, invoiced_amounts(order), strict=True):
        if amount <= 0:
            continue
        rate = TAX_RATES.get(line.kind, TAX_RATES["digital"])
        net, tax = tax_split(amount, rate)
        net_total, tax_total = net_total + net, tax_total + tax
        values = [line.product_name[:22], line.sku_name[:10], str(line.quantity),
                  _yuan(line.unit_price_fen), _yuan(net), f"{int(rate * 100)}%", _yuan(tax)]  # fmt: skip
        for (x, _label), value in zip(columns, values, strict=True):
            pdf.drawString(x, y, value)
        y -= 18
    pdf.line(left, y + 6, width - left, y + 6)
    y -= 14
    pdf.drawString(left, y, "合计")
    pdf.drawString(580, y, f"¥{_yuan(net_total)}")
    pdf.drawString(720, y, f"¥{_yuan(tax_total)}")
    y -= 22
    pdf.setFont(font, 12)
    pdf.drawString(left, y, f"价税合计（小写）：¥{_yuan(net_total + tax_total)}")
    y -= 30
    pdf.setFont(font, 10)
    pdf.drawString(left, y, f"备注：订单号 {invoice.order_number}")
    pdf.drawString(width / 2, y, "开票人：CarrierHub 财务")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
