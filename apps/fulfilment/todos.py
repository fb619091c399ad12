"""Fulfilment's to-dos on the workbench home page: parcels to ship, deliveries that failed,
deliveries waiting for the carrier to say whether it applied them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.core.workbench import register_todo
from apps.fulfilment.models import Delivery, ShipmentLine
from apps.fulfilment.shipping.shipments import SHIPPABLE


def orders_to_ship() -> int:
    """Orders with a paid physical or SIM line not yet in a parcel."""
    return (
        Delivery.objects.filter(kind__in=SHIPPABLE, status=Delivery.Status.PENDING)
        .exclude(line_id__in=ShipmentLine.objects.values("line_id"))
        .values("order_number")
        .distinct()
        .count()
    )


def deliveries_unconfirmed() -> int:
    """Deliveries whose outcome the carrier has not yet told us (asked again every minute)."""
    return Delivery.objects.filter(status=Delivery.Status.UNCONFIRMED).count()


def deliveries_failed() -> int:
    return Delivery.objects.filter(status=Delivery.Status.FAILED).count()


def register() -> None:
    register_todo(
        "fulfilment.orders_to_ship",
        _("Orders to ship"),
        orders_to_ship,
        "/admin/fulfilment/delivery/?status__exact=pending&kind__in=physical,sim",
        {Role.OPERATOR},
    )
    register_todo(
        "fulfilment.deliveries_failed",
        _("Deliveries failed"),
        deliveries_failed,
        "/admin/fulfilment/delivery/?status__exact=failed",
        {Role.OPERATOR},
    )
    register_todo(
        "fulfilment.deliveries_unconfirmed",
        _("Deliveries waiting for the carrier to confirm"),
        deliveries_unconfirmed,
        "/admin/fulfilment/delivery/?status__exact=unconfirmed",
        {Role.OPERATOR},
    )
