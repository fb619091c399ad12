"""Shipping physical order lines and applying the couriers' status updates to the parcels.

Locks, in one order: the lines' deliveries (pk order), then the shipment. A courier's update
never moves a parcel backwards: it is applied only when it happened after the state the parcel
is in and its table allows the move; every update is kept for the timeline. A parcel moves its
lines' deliveries in the same transaction (``parcel_deliveries_move``): shipped -> delivering,
delivered -> delivered (a SIM card's line is then activated), sent back -> failed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.core.audit import audit_record, audited_transition
from apps.core.errors import Conflict, InvalidArgument
from apps.core.tasks import enqueue_on_commit
from apps.fulfilment.locks import deliveries_lock_parcel, shipment_lock
from apps.fulfilment.models import Courier, Delivery, Shipment, ShipmentLine, TrackingEvent
from apps.fulfilment.services import delivery_move
from apps.fulfilment.shipping import courier as courier_api
from apps.fulfilment.shipping.errors import (
    CourierUnknown,
    LineNotShippable,
    ShipmentNotFound,
    TrackingNumberInUse,
    TrackingNumberInvalid,
    TrackingNumberUnknown,
)

logger = logging.getLogger(__name__)
SStatus = Shipment.Status
DStatus = Delivery.Status
SHIPPABLE = (Delivery.Kind.PHYSICAL, Delivery.Kind.SIM)
_TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{6,40}$")


@dataclass(frozen=True)
class ShipmentResult:
    id: int
    order_number: str
    courier: str
    tracking_number: str
    line_ids: tuple[int, ...]
    created: bool


@dataclass(frozen=True)
class CourierUpdate:
    """One status update as a courier pushes it."""

    event_id: str
    tracking_number: str
    status: str
    occurred_at: datetime
    location: str = ""
    description: str = ""


def tracking_number_clean(value: str) -> str:
    """The tracking number without spaces, upper-cased; ``TrackingNumberInvalid`` if malformed."""
    cleaned = re.sub(r"\s+", "", value or "").upper()
    if not _TRACKING_NUMBER.match(cleaned):
        raise TrackingNumberInvalid(details={"tracking_number": value})
    return cleaned


def courier_check(code: str) -> str:
    code = (code or "").strip().lower()
    if code not in Courier.values:
        raise CourierUnknown(details={"courier": code})
    return code


def shipment_create(
    *,
    order_number: str,
    line_ids: list[int],
    courier: str,
    tracking_number: str,
    actor_id: int | None,
) -> ShipmentResult:
    """Record that paid physical lines of one order left in one parcel, and register the
    tracking number with the courier on commit.

    Idempotent per courier and tracking number: the same parcel with the same lines returns the
    first shipment (``created=False``); the number on another order or other lines is
    ``TrackingNumberInUse``. Locks the order, then the lines (each line ships once).
    """
    courier = courier_check(courier)
    tracking_number = tracking_number_clean(tracking_number)
    wanted = set(line_ids)
    if not wanted:
        raise LineNotShippable(details={"lines": []})
    with transaction.atomic():
        deliveries = deliveries_lock_parcel(order_number=order_number, line_ids=sorted(wanted))
        if not Delivery.objects.filter(order_number=order_number).exists():
            raise LineNotShippable(details={"order": order_number, "lines": sorted(wanted)})
        existing = Shipment.objects.filter(courier=courier, tracking_number=tracking_number).first()
        if existing is not None:
            shipped = set(existing.lines.values_list("line_id", flat=True))
            if existing.order_number != order_number or shipped != wanted:
                raise TrackingNumberInUse(details={"tracking_number": tracking_number})
            return _result(existing, order_number, created=False)
        refused = sorted(
            wanted
            - {
                d.line_id
                for d in deliveries
                if d.kind in SHIPPABLE
                and d.status == DStatus.PENDING
                and not ShipmentLine.objects.filter(line_id=d.line_id).exists()
            }
        )
        if refused:
            raise LineNotShippable(details={"lines": refused})
        line_ids = [d.line_id for d in deliveries]
        shipment = Shipment.objects.create(
            order_number=order_number, courier=courier, tracking_number=tracking_number,
            status=SStatus.SHIPPED, status_at=timezone.now(), shipped_by_id=actor_id,
        )  # fmt: skip
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, line_id=line_id) for line_id in line_ids
        )
        audit_record(
            action="shipment.shipped", object_type="shipment", object_id=shipment.pk, actor_id=actor_id,
            after={"order": order_number, "courier": courier, "tracking_number": tracking_number,
                   "lines": line_ids},
        )  # fmt: skip
        parcel_deliveries_move(deliveries, shipment, "shipped")
        from apps.fulfilment.tasks import shipment_register_task  # the task module imports this

        enqueue_on_commit(shipment_register_task, shipment.pk)
    return _result(shipment, order_number, created=True)


def _result(shipment: Shipment, order_number: str, *, created: bool) -> ShipmentResult:
    return ShipmentResult(
        id=shipment.pk, order_number=order_number, courier=shipment.courier,
        tracking_number=shipment.tracking_number, created=created,
        line_ids=tuple(sorted(shipment.lines.values_list("line_id", flat=True))),
    )  # fmt: skip


def webhook_url(courier: str) -> str:
    return settings.CARRIER_CALLBACK_BASE_URL.rstrip("/") + reverse(
        "fulfilment:courier-webhook", args=[courier]
    )


def shipment_register(*, shipment_id: int) -> str:
    """Register a parcel with its courier so that it pushes updates; returns the registration
    state. The call is made with no transaction open; a repeat after success does nothing."""
    shipment = Shipment.objects.filter(pk=shipment_id).first()
    if shipment is None:
        raise ShipmentNotFound()
    if shipment.tracking == Shipment.Tracking.REGISTERED:
        return shipment.tracking
    try:
        courier_api.tracking_register(
            courier=shipment.courier, tracking_number=shipment.tracking_number,
            callback_url=webhook_url(shipment.courier), reference=f"shipment:{shipment.pk}",
        )  # fmt: skip
        state, error = Shipment.Tracking.REGISTERED, ""
    except (courier_api.CourierUnavailable, courier_api.CourierRejected) as exc:
        state, error = Shipment.Tracking.FAILED, exc.code
    with transaction.atomic():
        shipment = shipment_lock(shipment_id=shipment_id)
        if shipment.tracking != Shipment.Tracking.REGISTERED:
            shipment.tracking, shipment.tracking_error = state, error
            shipment.save(update_fields=["tracking", "tracking_error", "updated_at"])
            audit_record(action=f"shipment.tracking_{state}", object_type="shipment",
                         object_id=shipment.pk, after={"error": error} if error else None)  # fmt: skip
    return shipment.tracking


def shipments_register_pending(*, limit: int = 200) -> int:
    """Register again the parcels whose registration failed or was never made (beat, every
    minute), for a week after shipping; returns how many are registered now."""
    now = timezone.now()
    ids = list(
        Shipment.objects.filter(
            tracking__in=[Shipment.Tracking.PENDING, Shipment.Tracking.FAILED],
            created_at__lt=now - timedelta(seconds=30), created_at__gt=now - timedelta(days=7),
        ).order_by("created_at").values_list("pk", flat=True)[:limit]
    )  # fmt: skip
    return sum(shipment_register(shipment_id=pk) == Shipment.Tracking.REGISTERED for pk in ids)


def tracking_update_receive(*, courier: str, update: CourierUpdate) -> str:
    """Keep one pushed update and move the parcel if it is newer than its state.

    Returns ``"applied"``, ``"kept"`` (older, or a move the table refuses: in the timeline
    only) or ``"duplicate"`` (this event id was received before: nothing written). An unknown
    tracking number raises ``TrackingNumberUnknown`` and writes nothing. Locks the parcel's
    deliveries, then the shipment; delivery of the parcel delivers its lines (and, once every
    line of the order has ended, fulfilment settles the order).
    """
    courier = courier_check(courier)
    if update.status not in SStatus.values or update.status == SStatus.SHIPPED:
        raise InvalidArgument(details={"status": update.status})
    with transaction.atomic():
        found = Shipment.objects.filter(courier=courier, tracking_number=update.tracking_number)
        first = found.values_list("order_number", flat=True).first()
        if first is None:
            raise TrackingNumberUnknown(details={"tracking_number": update.tracking_number})
        line_ids = sorted(
            ShipmentLine.objects.filter(shipment__in=found).values_list("line_id", flat=True)
        )
        deliveries = deliveries_lock_parcel(order_number=first, line_ids=line_ids)
        shipment = shipment_lock(courier=courier, tracking_number=update.tracking_number)
        if TrackingEvent.objects.filter(courier=courier, event_id=update.event_id).exists():
            return "duplicate"
        applies = (
            update.occurred_at > shipment.status_at
            and update.status in (Shipment.TRANSITIONS[shipment.status])
        )
        try:
            with transaction.atomic():
                TrackingEvent.objects.create(
                    shipment=shipment, courier=courier, event_id=update.event_id, status=update.status,
                    occurred_at=update.occurred_at, location=update.location[:100],
                    description=update.description[:200], applied=applies,
                )  # fmt: skip
        except IntegrityError:
            return "duplicate"  # the same event id came for another parcel at the same moment
        if not applies:
            return "kept"
        audited_transition(
            shipment, update.status, object_type="shipment", object_id=shipment.pk,
            refused=lambda details: Conflict(details=details),
            after={"event": update.event_id, "at": update.occurred_at.isoformat(), "location": update.location},
        )  # fmt: skip
        shipment.status_at = update.occurred_at
        fields = ["status", "status_at", "updated_at"]
        if update.status == SStatus.DELIVERED:
            shipment.delivered_at = update.occurred_at
            fields.append("delivered_at")
        shipment.save(update_fields=fields)
        if update.status in (SStatus.DELIVERED, SStatus.RETURNED):
            parcel_deliveries_move(deliveries, shipment, update.status)
    return "applied"


def parcel_deliveries_move(deliveries: list[Delivery], shipment: Shipment, state: str) -> None:
    """Move the parcel's lines' deliveries (locked) with it, in the caller's transaction.

    Physical goods are delivered with their parcel; a SIM card's line stays delivering once its
    parcel arrives and is activated (delivered once the line is open); a parcel sent back fails
    its lines (refunded automatically unless an operator ships again). A delivery already
    delivered or refunded is left alone, so a repeat changes nothing.
    """
    from apps.fulfilment.sim import sim_activation_enqueue

    tracking = f"{shipment.courier} {shipment.tracking_number}"[:200]
    for delivery in deliveries:
        if delivery.status in (DStatus.DELIVERED, DStatus.REFUNDED):
            continue
        delivery.detail = tracking
        if state == "shipped" or (
            state == SStatus.DELIVERED and delivery.kind == Delivery.Kind.SIM
        ):
            if delivery.status != DStatus.DELIVERING:
                delivery_move(delivery, DStatus.DELIVERING, note=tracking)
            if state == SStatus.DELIVERED:
                sim_activation_enqueue(delivery.line_id)
        elif state == SStatus.DELIVERED:
            delivery_move(delivery, DStatus.DELIVERED, note=tracking)
        elif delivery.can_move_to(DStatus.FAILED):
            delivery_move(delivery, DStatus.FAILED, note=tracking, reason="parcel_returned")
            delivery.last_error = "PARCEL_RETURNED"
        delivery.save(
            update_fields=["status", "detail", "delivered_at", "last_error", "updated_at"]
        )
