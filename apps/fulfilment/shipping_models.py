"""Shipments of physical order lines, the couriers' tracking events, and returns of unopened goods.

Moved from ``orders`` with their tables (``orders_*``, kept): an order line is known by its id
(``line_id``, the column that was the key into orders' table) and an order by its number, as
fulfilment's ``Delivery`` knows them; nothing here points into orders' tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Courier(models.TextChoices):
    """The couriers the platform ships with; each has its own webhook secret in settings."""

    SF = "sf", _("SF Express")
    ZTO = "zto", _("ZTO Express")
    YTO = "yto", _("YTO Express")
    STO = "sto", _("STO Express")
    YUNDA = "yunda", _("Yunda Express")
    EMS = "ems", _("China Post EMS")
    JD = "jd", _("JD Logistics")


class Shipment(models.Model):
    """A parcel of one or more physical lines of one order, tracked by its courier's number."""

    class Status(models.TextChoices):
        SHIPPED = "shipped", _("Shipped")
        COLLECTED = "collected", _("Collected by the courier")
        IN_TRANSIT = "in_transit", _("In transit")
        OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
        DELIVERED = "delivered", _("Delivered")
        EXCEPTION = "exception", _("Delivery problem")
        RETURNED = "returned", _("Returned to sender")

    # Forward only: an older or lower state never moves a parcel back, except that a
    # delivery problem can be resolved (the courier goes on, or sends it back).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.SHIPPED: frozenset(
            {"collected", "in_transit", "out_for_delivery", "delivered", "exception", "returned"}
        ),
        Status.COLLECTED: frozenset(
            {"in_transit", "out_for_delivery", "delivered", "exception", "returned"}
        ),
        Status.IN_TRANSIT: frozenset({"out_for_delivery", "delivered", "exception", "returned"}),
        Status.OUT_FOR_DELIVERY: frozenset({"delivered", "exception", "returned"}),
        Status.EXCEPTION: frozenset({"in_transit", "out_for_delivery", "delivered", "returned"}),
        Status.DELIVERED: frozenset(),
        Status.RETURNED: frozenset(),
    }

    class Tracking(models.TextChoices):
        PENDING = "pending", _("Registering with the courier")
        REGISTERED = "registered", _("Registered with the courier")
        FAILED = "failed", _("Courier registration failed")

    order_number = models.CharField(_("order number"), max_length=24, db_index=True)
    courier = models.CharField(_("courier"), max_length=8, choices=Courier.choices)
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SHIPPED
    )
    # When the courier says the state was reached: the order in which events are applied.
    status_at = models.DateTimeField(_("status since"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    tracking = models.CharField(
        _("courier registration"), max_length=12, choices=Tracking.choices, default=Tracking.PENDING
    )
    tracking_error = models.CharField(max_length=64, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("shipped at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders_shipment"
        ordering = ["-id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.UniqueConstraint(
                fields=["courier", "tracking_number"], name="orders_shipment_tracking_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="orders_shipment_untracked",
                condition=Q(tracking__in=["pending", "failed"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_courier_display()} {self.tracking_number}"


class ShipmentLine(models.Model):
    """An order line in a parcel; a line travels in one parcel only."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    line_id = models.BigIntegerField(unique=True, db_column="order_line_id")

    class Meta:
        db_table = "orders_shipmentline"

    def __str__(self) -> str:
        return f"{self.shipment_id}:{self.line_id}"


class TrackingEvent(models.Model):
    """One status update a courier pushed, kept whether or not it moved the parcel."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    courier = models.CharField(max_length=8, choices=Courier.choices)
    event_id = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Shipment.Status.choices)
    occurred_at = models.DateTimeField()
    location = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=200, blank=True)
    # False when the event was older than the parcel's state, or a move the table refuses.
    applied = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "orders_trackingevent"
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["courier", "event_id"], name="orders_tracking_once")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.status}"


class ReturnRequest(models.Model):
    """The buyer sends an unopened physical line back for a refund of what it cost."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Return requested")
        APPROVED = "approved", _("Return approved: send it back")
        REJECTED = "rejected", _("Return rejected")
        SENT_BACK = "sent_back", _("On its way back")
        RECEIVED = "received", _("Received: refund requested")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({"approved", "rejected"}),
        Status.APPROVED: frozenset({"sent_back", "received"}),
        Status.SENT_BACK: frozenset({"received"}),
        Status.REJECTED: frozenset(),
        Status.RECEIVED: frozenset(),
    }

    line_id = models.BigIntegerField(db_index=True, db_column="order_line_id")
    order_number = models.CharField(_("order number"), max_length=24, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED
    )
    reason = models.CharField(_("reason"), max_length=200)
    amount_fen = models.BigIntegerField(_("refund (fen)"))
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    courier = models.CharField(_("courier"), max_length=8, choices=Courier.choices, blank=True)
    tracking_number = models.CharField(_("return tracking number"), max_length=40, blank=True)
    refund_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders_returnrequest"
        ordering = ["-id"]
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        constraints = [
            # One open or finished return per line; a rejected one may be asked again.
            models.UniqueConstraint(
                fields=["line_id"],
                condition=~Q(status="rejected"),
                name="orders_return_once_per_line",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="orders_return_amount"),
        ]

    def __str__(self) -> str:
        return f"return {self.pk}"
