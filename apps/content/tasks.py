"""Content's Celery tasks: sending CP notifications with backoff."""

from __future__ import annotations

from celery import Task, shared_task

from apps.content.services.notifications import notification_send


@shared_task(bind=True, max_retries=None, acks_late=True)
def notification_send_task(self: Task, notification_id: int) -> None:
    wait = notification_send(notification_id=notification_id)
    if wait is not None:
        raise self.retry(countdown=wait)


@shared_task(acks_late=True)
def subscriptions_renew_task() -> dict[str, int]:
    """Beat: renew the subscriptions that are due, with dunning (exactly once per period)."""
    from apps.content.services.subscriptions import subscriptions_renew_due

    return subscriptions_renew_due()


@shared_task(acks_late=True)
def subscription_renew_task(subscription_id: int) -> str:
    """Renew one subscription if it is due (safe to run twice: one charge per period)."""
    from apps.content.services.subscriptions import subscription_renew

    return subscription_renew(subscription_id=subscription_id)


@shared_task(acks_late=True)
def charge_pay_start_task(charge_id: str) -> str:
    """An in-app charge released after risk review: the carrier texts the subscriber the code
    (one payment per charge: the intent's key). A refusal fails the charge (recorded there)."""
    from apps.content.services.charges import charge_pay_start
    from apps.core.errors import DomainError

    try:
        return charge_pay_start(charge_id=charge_id, method="carrier_billing", channel="").status
    except DomainError as exc:
        return exc.code
