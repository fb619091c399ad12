"""Order background work."""

from __future__ import annotations

from celery import shared_task

from apps.orders import services


@shared_task(acks_late=True)
def orders_expire_task() -> int:
    """Beat, every minute: release the stock of orders left unpaid past their deadline."""
    return services.orders_expire()


@shared_task(acks_late=True)
def carts_purge_abandoned_task() -> int:
    """Beat, hourly: delete guest carts nobody can reach any more."""
    return services.carts_purge_abandoned()
