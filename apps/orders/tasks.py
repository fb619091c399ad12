"""Order background work."""

from __future__ import annotations

from celery import shared_task

from apps.orders import services


@shared_task(acks_late=True)
def orders_expire_task() -> int:
    """Beat, every minute: release the stock of orders left unpaid past their deadline."""
    return services.orders_expire()


@shared_task(acks_late=True)
def shipment_register_task(shipment_id: int) -> str:
    """Register a new parcel with its courier; idempotent (a registered parcel is skipped)."""
    return services.shipment_register(shipment_id=shipment_id)


@shared_task(acks_late=True)
def shipments_register_task() -> int:
    """Beat, every minute: register again the parcels the courier did not take yet."""
    return services.shipments_register_pending()


@shared_task(acks_late=True)
def carts_purge_abandoned_task() -> int:
    """Beat, hourly: delete guest carts nobody can reach any more."""
    return services.carts_purge_abandoned()
