"""Order background work."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from apps.core.errors import DomainError
from apps.orders import services

FLASH_PLACE_ATTEMPTS = 5


@shared_task(acks_late=True)
def orders_expire_task() -> int:
    """Beat, every minute: release the stock of orders left unpaid past their deadline."""
    return services.orders_expire()


@shared_task(acks_late=True)
def carts_purge_abandoned_task() -> int:
    """Beat, hourly: delete guest carts nobody can reach any more."""
    return services.carts_purge_abandoned()


@shared_task(bind=True, acks_late=True, max_retries=FLASH_PLACE_ATTEMPTS - 1)
def flash_order_place_task(
    self: Task, claim_id: int, recipient: str = "", points: int = 0,
    shipping: dict[str, Any] | None = None,
) -> str:  # fmt: skip
    """Place a flash-sale winner's order (idempotent per claim: a second run places nothing).
    A transient failure is retried with backoff; past the last try the units go back."""
    try:
        return services.flash_order_place(
            claim_id=claim_id, recipient=recipient, points=points, shipping=shipping
        )
    except DomainError as exc:  # 5xx only: refusals release the claim in the service
        if self.request.is_eager:
            return "retry_later"  # no retry in-process: the deadline's sweeper gives it back
        if self.request.retries >= (self.max_retries or 0):
            return services.flash_order_give_up(claim_id=claim_id, code=exc.code)
        # Spread over the claim's deadline (the sweeper releases it after that anyway): with
        # the default 300 s and 5 attempts, about 19 s, 38 s, 75 s and 150 s apart.
        step = settings.FLASH_ORDER_DEADLINE_SECONDS / (2 ** (self.max_retries or 1))
        raise self.retry(exc=exc, countdown=max(2.0, step * 2**self.request.retries)) from exc
