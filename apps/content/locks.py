"""Row locks of the content app. Global order: CP -> product -> price point -> charge -> trial
-> subscription -> entitlements (pk order) -> notification; payments' rows and the ledger come
after the owner's (the payments services take them after ``charge_lock``, through the purpose
handler's lock)."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.content.models import (
    Charge,
    ContentProduct,
    ContentProvider,
    Entitlement,
    Notification,
    PricePoint,
    Subscription,
    Trial,
)


def cp_lock(*, cp_id: int) -> ContentProvider:
    """Lock one CP (``ContentProvider.DoesNotExist`` if there is none)."""
    return ContentProvider.objects.select_for_update().get(pk=cp_id)


def product_lock(*, product_id: int) -> ContentProduct:
    """Lock one content product (``ContentProduct.DoesNotExist`` if there is none)."""
    return ContentProduct.objects.select_for_update().get(pk=product_id)


def price_point_lock(
    *, product_id: int, price_point_id: int | None = None, default: bool = False
) -> PricePoint:
    """Lock one price point of a product, by id or its default one
    (``PricePoint.DoesNotExist`` if there is none)."""
    rows = PricePoint.objects.select_for_update().filter(product_id=product_id)
    return rows.get(is_default=True) if default else rows.get(id=price_point_id or 0)


def charge_lock(*, charge_id: str) -> Charge | None:
    """Lock one charge with its product (read, not locked); None if there is none."""
    return (
        Charge.objects.select_related("product")
        .select_for_update(of=("self",))
        .filter(pk=charge_id)
        .first()
    )


def trial_lock(*, trial_id: int) -> Trial | None:
    """Lock one free trial; None if there is none."""
    return Trial.objects.select_for_update().filter(pk=trial_id).first()


def subscription_lock(*, subscription_id: int) -> Subscription:
    """Lock one subscription (``Subscription.DoesNotExist`` if there is none)."""
    return Subscription.objects.select_for_update().get(pk=subscription_id)


def entitlements_lock(*, source: str, references: list[str]) -> QuerySet[Entitlement]:
    """Lock the live entitlements granted by these charges or lines, in pk order."""
    return (
        Entitlement.objects.select_for_update()
        .filter(source=source, reference__in=references, revoked_at__isnull=True)
        .order_by("pk")
    )


def notification_lock(*, notification_id: int) -> Notification:
    return Notification.objects.select_for_update().get(pk=notification_id)
