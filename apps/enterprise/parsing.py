"""Reading an uploaded distribution file (CSV or XLSX) into numbered rows of two cells."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from apps.enterprise.errors import BulkFileInvalid

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
_NUMBER_HEADERS = {"msisdn", "number", "phone", "mobile", "手机号", "手机号码", "号码"}
_PACK_HEADERS = {"pack", "pack_code", "sku", "sku_code", "流量包", "流量包编码", "套餐编码"}


@dataclass(frozen=True)
class RawRow:
    row_no: int  # the line in the file, the header being line 1
    number: str
    pack: str


def _cells(content: bytes, name: str) -> list[list[str]]:
    if name.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return _xlsx_cells(content)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BulkFileInvalid()
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:2048], ",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_cells(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise BulkFileInvalid() from exc
    rows: list[list[str]] = []
    for values in sheet.iter_rows(values_only=True):
        # Excel stores a typed-in number as a float: 13800138000.0 is a phone number.
        rows.append(
            [
                str(int(v)) if isinstance(v, float) and v.is_integer() else ("" if v is None else str(v).strip())
                for v in values
            ]
        )  # fmt: skip
        if len(rows) > MAX_ROWS + 1:
            break
    return rows


def file_rows(*, content: bytes, name: str) -> list[RawRow]:
    """The file's data rows (blank lines skipped). Raises ``BulkFileInvalid`` for a file that is
    empty, too big, unreadable, or whose header names no number and pack column."""
    if not content or len(content) > MAX_BYTES:
        raise BulkFileInvalid(details={"max_bytes": MAX_BYTES})
    cells = _cells(content, name)
    if not cells:
        raise BulkFileInvalid()
    header = [c.lower() for c in cells[0]]
    number_col, pack_col, start = 0, 1, 0
    if set(header) & (_NUMBER_HEADERS | _PACK_HEADERS):
        found = [i for i, c in enumerate(header) if c in _NUMBER_HEADERS]
        packs = [i for i, c in enumerate(header) if c in _PACK_HEADERS]
        if not found or not packs:
            raise BulkFileInvalid(details={"header": cells[0]})
        number_col, pack_col, start = found[0], packs[0], 1
    elif not any(ch.isdigit() for ch in (cells[0][0] if cells[0] else "")):
        raise BulkFileInvalid(details={"header": cells[0]})  # a header naming neither column
    rows = [
        RawRow(
            row_no=index + 1,
            number=line[number_col] if len(line) > number_col else "",
            pack=line[pack_col] if len(line) > pack_col else "",
        )
        for index, line in enumerate(cells)
        if index >= start and any(cell for cell in line)
    ]
    if not rows:
        raise BulkFileInvalid(details={"rows": 0})
    if len(rows) > MAX_ROWS:
        raise BulkFileInvalid(details={"max_rows": MAX_ROWS})
    return rows


def volume_mb(volume: str) -> int:
    """ "1GB" -> 1024, "500MB" -> 500; 0 when it cannot be read."""
    text = volume.upper().strip()
    try:
        if text.endswith("GB"):
            return int(float(text[:-2]) * 1024)
        if text.endswith("MB"):
            return int(float(text[:-2]))
        return int(text or 0)
    except ValueError:
        return 0
