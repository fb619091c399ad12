"""Courier statuses from a tracking file (a courier's export), for parcels whose courier does
not push: each row is applied like a webhook update, one by one.

Row by row, not all or nothing: each row is a separate, idempotent update (its event id is the
file's, or one derived from the row), so a bad row does not make the good ones wrong, a
repeated file changes nothing, and an older row never moves a parcel back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from apps.core.errors import DomainError
from apps.fulfilment.models import Shipment
from apps.fulfilment.shipping.shipment_import import courier_code, table_read
from apps.fulfilment.shipping.shipments import CourierUpdate, tracking_update_receive

_HEADERS = {
    "courier": "courier", "快递公司": "courier",
    "tracking_number": "tracking", "tracking": "tracking", "运单号": "tracking", "快递单号": "tracking",
    "status": "status", "状态": "status",
    "occurred_at": "at", "time": "at", "时间": "at",
    "location": "location", "地点": "location",
    "description": "description", "描述": "description",
    "event_id": "event", "事件编号": "event",
}  # fmt: skip
_STATUS_NAMES = {
    **{code: code for code in Shipment.Status.values},
    "已揽收": "collected", "运输中": "in_transit", "派送中": "out_for_delivery", "已签收": "delivered",
    "签收": "delivered", "异常": "exception", "退回": "returned", "已退回": "returned",
}  # fmt: skip


@dataclass
class TrackingRow:
    number: int
    courier: str
    tracking: str
    status: str
    at: str
    outcome: str = ""  # "applied", "kept", "duplicate" or "error"
    message: str = ""


def tracking_file_import(*, name: str, content: bytes) -> list[TrackingRow]:
    """Apply every row of a tracking file; returns each row with its outcome. Locks as
    ``tracking_update_receive``, one row at a time."""
    results = []
    for number, values in table_read(name=name, content=content, headers=_HEADERS,
                                     required={"courier", "tracking", "status", "at"}):  # fmt: skip
        row = TrackingRow(number, values.get("courier", ""), values.get("tracking", ""),
                          values.get("status", ""), values.get("at", ""))  # fmt: skip
        results.append(row)
        courier = courier_code(row.courier)
        status = _STATUS_NAMES.get(row.status.strip().lower())
        at = parse_datetime(row.at.replace("/", "-"))
        if courier is None or status is None or at is None:
            row.outcome, row.message = "error", _("Unknown courier, status or time.")
            continue
        if timezone.is_naive(at):
            at = timezone.make_aware(at)  # the courier's local time, as the platform's
        tracking = row.tracking.replace(" ", "").upper()
        event = (
            values.get("event")
            or "file-"
            + hashlib.sha256(
                f"{courier}|{tracking}|{status}|{at.isoformat()}".encode()
            ).hexdigest()[:40]
        )
        update = CourierUpdate(event_id=event, tracking_number=tracking, status=status, occurred_at=at,
                               location=values.get("location", ""), description=values.get("description", ""))  # fmt: skip
        try:
            row.outcome = tracking_update_receive(courier=courier, update=update)
        except DomainError as exc:
            row.outcome, row.message = "error", exc.message
    return results
