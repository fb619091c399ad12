"""Fulfilment reads: what happened to each line of an order (for the order page and API)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from apps.fulfilment.models import Delivery


@dataclass(frozen=True)
class DeliveryView:
    line_id: int
    label: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    msisdn: str
    units: int
    delivered_units: int
    delivered_at: datetime | None
    detail: str
    last_error: str


def deliveries_for_order(*, order_number: str, user_id: int | None = None) -> list[DeliveryView]:
    """The deliveries of an order's lines in line order; only the user's when ``user_id``."""
    rows = Delivery.objects.filter(order_number=order_number)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    return [
        DeliveryView(
            line_id=d.line_id, label=d.label, kind=d.kind, kind_label=str(Delivery.Kind(d.kind).label),
            status=d.status, status_label=str(Delivery.Status(d.status).label), msisdn=d.msisdn,
            units=d.units, delivered_units=d.delivered_units, delivered_at=d.delivered_at,
            detail=d.detail, last_error=d.last_error,
        )
        for d in rows.order_by("line_id")
    ]  # fmt: skip


def order_deliveries_data(user_id: int, order_number: str) -> list[dict[str, Any]]:
    """The ``deliveries`` section of the order detail API (the caller checked the order is the
    user's)."""
    return [
        {**asdict(d), "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None}
        for d in deliveries_for_order(order_number=order_number, user_id=user_id)
    ]
