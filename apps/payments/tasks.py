"""Payment background work: refunds at the provider, and recovering lost notifications."""

from __future__ import annotations

from celery import shared_task

from apps.payments import services


@shared_task(acks_late=True)
def refund_execute_task(refund_id: int) -> str:
    """Idempotent: the refund's id is the provider's out_request_no."""
    return services.refund_execute(refund_id=refund_id)


@shared_task(acks_late=True)
def intents_sync_pending_task() -> int:
    """Beat, every minute: ask providers about intents still pending."""
    return services.intents_sync_pending()


@shared_task(acks_late=True)
def refunds_retry_failed_task() -> int:
    """Beat, every ten minutes: try failed refunds again."""
    return services.refunds_retry_failed()
