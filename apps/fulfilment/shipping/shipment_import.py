"""Shipping by file: a warehouse's CSV or XLSX of (order number, line, courier, tracking number).

All or nothing: every row is checked through ``shipment_create`` inside one transaction, and
one bad row rolls the whole file back with a report that names each bad row. A dispatch file
is one batch from the warehouse; applying part of it would leave the operator to work out
which parcels were recorded and which buyers were told. Re-importing is safe: rows already
recorded (same courier, number and lines) are reported as such and create nothing.
"""

from __future__ import annotations

import csv
import functools
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.errors import DomainError, InvalidArgument
from apps.fulfilment.models import Courier
from apps.fulfilment.shipping.shipments import shipment_create

MAX_ROWS = 5000
# Headers a warehouse may use, in English or Chinese, to the field they mean.
_HEADERS = {
    "order_number": "order", "order": "order", "订单号": "order",
    "line": "line", "line_id": "line", "行号": "line", "订单行": "line",
    "courier": "courier", "快递公司": "courier", "承运商": "courier",
    "tracking_number": "tracking", "tracking": "tracking", "运单号": "tracking", "快递单号": "tracking",
}  # fmt: skip
_COURIER_ALIASES = {
    "顺丰": "sf", "中通": "zto", "圆通": "yto", "申通": "sto", "韵达": "yunda", "ems": "ems",
    "邮政": "ems", "京东": "jd",
}  # fmt: skip


@functools.cache
def _courier_names() -> dict[str, str]:
    """Codes, aliases and each courier's name in every UI language, lower-cased; built on first
    use (not at import) so that both languages' names are known whatever language is active."""
    names = {code: code for code in Courier.values} | _COURIER_ALIASES
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            names |= {str(label).lower(): code for code, label in Courier.choices}
    return names


def courier_code(name: str) -> str | None:
    """The courier's code for a name as a warehouse or courier file writes it; None if unknown."""
    return _courier_names().get(name.strip().lower())


class ImportFileInvalid(InvalidArgument):
    code = "IMPORT_FILE_INVALID"


@dataclass
class ImportRow:
    number: int  # the row in the file, counting the header as row 1
    order: str
    line: str
    courier: str
    tracking: str
    outcome: str = ""  # "created", "already", "error", or "" when the file was not applied
    message: str = ""


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    applied: bool = False

    @property
    def errors(self) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome == "error"]

    def count(self, outcome: str) -> int:
        return sum(row.outcome == outcome for row in self.rows)


def table_read(
    *, name: str, content: bytes, headers: dict[str, str], required: set[str]
) -> list[tuple[int, dict[str, str]]]:
    """The non-empty rows of an uploaded CSV (UTF-8 or GBK) or XLSX as (row number, fields),
    with columns named through ``headers``; ``ImportFileInvalid`` if unreadable."""
    if name.lower().endswith(".xlsx"):
        table = _xlsx_rows(content)
    elif name.lower().endswith(".csv"):
        table = _csv_rows(content)
    else:
        raise ImportFileInvalid(_("Upload a .csv or .xlsx file."))
    if not table:
        raise ImportFileInvalid(_("The file is empty."))
    header = [headers.get(str(cell or "").strip().lower(), "") for cell in table[0]]
    missing = required - set(header)
    if missing:
        raise ImportFileInvalid(
            _("Missing columns: %(columns)s.") % {"columns": ", ".join(sorted(missing))}
        )
    rows = [
        (number, {key: _text(cells[i]) for i, key in enumerate(header) if key and i < len(cells)})
        for number, cells in enumerate(table[1:], start=2)
        if any(str(c or "").strip() for c in cells)
    ]
    if len(rows) > MAX_ROWS:
        raise ImportFileInvalid(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
    return rows


def shipment_file_read(*, name: str, content: bytes) -> list[ImportRow]:
    """The rows of a dispatch file (see ``table_read``)."""
    table = table_read(name=name, content=content, headers=_HEADERS,
                       required={"order", "line", "courier", "tracking"})  # fmt: skip
    return [
        ImportRow(number, v.get("order", ""), v.get("line", ""), v.get("courier", ""), v.get("tracking", ""))
        for number, v in table
    ]  # fmt: skip


def _text(cell: object) -> str:
    if isinstance(cell, datetime):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # a spreadsheet turns line 12 into 12.0
    return str(cell if cell is not None else "").strip()


def _csv_rows(content: bytes) -> list[list[object]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileInvalid(_("The file is not UTF-8 or GBK text."))
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _xlsx_rows(content: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFileInvalid(_("The file is not a readable XLSX workbook.")) from exc
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def shipments_import(*, rows: list[ImportRow], actor_id: int | None) -> ImportReport:
    """Ship every row's line, grouping rows of one order, courier and tracking number into
    one parcel; all or nothing (see the module's docstring). Locks as ``shipment_create``."""
    report = ImportReport(rows=rows)
    groups: dict[tuple[str, str, str], list[ImportRow]] = defaultdict(list)
    for row in rows:
        courier = courier_code(row.courier)
        if not row.order or not row.tracking:
            row.outcome, row.message = "error", _("Order number and tracking number are required.")
        elif not row.line.isdigit():
            row.outcome, row.message = "error", _("The line must be the order line's number.")
        elif courier is None:
            row.outcome, row.message = "error", _("Unknown courier.")
        else:
            groups[(row.order, courier, row.tracking.replace(" ", "").upper())].append(row)
    with transaction.atomic():
        for (order, courier, tracking), members in groups.items():
            try:
                with transaction.atomic():
                    result = shipment_create(
                        order_number=order, line_ids=[int(r.line) for r in members], courier=courier,
                        tracking_number=tracking, actor_id=actor_id,
                    )  # fmt: skip
            except DomainError as exc:
                for row in members:
                    row.outcome, row.message = "error", exc.message
                continue
            for row in members:
                row.outcome = "created" if result.created else "already"
        if report.errors:
            transaction.set_rollback(True)
            for row in rows:
                if row.outcome != "error":
                    row.outcome = ""
        else:
            report.applied = True
    return report
