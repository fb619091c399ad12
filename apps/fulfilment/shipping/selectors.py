"""Shipping and returns reads: an order's parcels with their tracking, its returns, what may be
returned now. Callers check that the order is the user's first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.fulfilment.models import Courier, Delivery, ReturnRequest, Shipment, ShipmentLine
from apps.fulfilment.shipping.returns import ReturnView, return_view
from apps.fulfilment.shipping.shipments import SHIPPABLE


@dataclass(frozen=True)
class TrackingEventView:
    status: str
    status_label: str
    occurred_at: datetime
    location: str
    description: str
    applied: bool


@dataclass(frozen=True)
class ShipmentView:
    id: int
    courier: str
    courier_label: str
    tracking_number: str
    status: str
    status_label: str
    shipped_at: datetime
    delivered_at: datetime | None
    line_ids: list[int]
    events: list[TrackingEventView]


@dataclass(frozen=True)
class ReturnableLine:
    line_id: int
    label: str
    units: int


def order_shipments(*, number: str) -> list[ShipmentView]:
    """An order's parcels with their tracking timelines (every update, oldest first)."""
    rows = (
        Shipment.objects.filter(order_number=number)
        .prefetch_related("lines", "events")
        .order_by("id")
    )
    return [
        ShipmentView(
            id=s.pk, courier=s.courier, courier_label=str(Courier(s.courier).label),
            tracking_number=s.tracking_number, status=s.status,
            status_label=str(Shipment.Status(s.status).label), shipped_at=s.created_at,
            delivered_at=s.delivered_at, line_ids=sorted(sl.line_id for sl in s.lines.all()),
            events=[
                TrackingEventView(e.status, str(Shipment.Status(e.status).label), e.occurred_at,
                                  e.location, e.description, e.applied)
                for e in sorted(s.events.all(), key=lambda e: (e.occurred_at, e.pk))
            ],
        )
        for s in rows
    ]  # fmt: skip


def order_returns(*, number: str, user_id: int | None = None) -> list[ReturnView]:
    """An order's returns, oldest first; only the user's own when ``user_id`` is given."""
    found = ReturnRequest.objects.filter(order_number=number)
    if user_id is not None:
        found = found.filter(user_id=user_id)
    items = list(found.order_by("id"))
    lines = {d.line_id: d for d in Delivery.objects.filter(line_id__in=[i.line_id for i in items])}
    return [return_view(item, lines.get(item.line_id)) for item in items]


def returnable_lines(*, number: str) -> list[ReturnableLine]:
    """The order's lines a return may be asked for now: physical, delivered within the return
    window, with no return open or done."""
    since = timezone.now() - timedelta(days=settings.RETURN_WINDOW_DAYS)
    taken = ReturnRequest.objects.exclude(status=ReturnRequest.Status.REJECTED).values("line_id")
    recent = ShipmentLine.objects.filter(
        shipment__order_number=number, shipment__delivered_at__gte=since
    ).values("line_id")
    found = (
        Delivery.objects.filter(order_number=number, kind__in=SHIPPABLE, line_id__in=recent)
        .filter(status=Delivery.Status.DELIVERED)
        .exclude(line_id__in=taken)
        .order_by("line_id")
    )
    return [ReturnableLine(d.line_id, d.label, d.units) for d in found]
