"""Row locks of the content app. Global order: CP -> product -> charge -> entitlement (then
payments' rows and the ledger, which the payments services take after the owner's)."""

from __future__ import annotations

from apps.content.models import Charge, ContentProduct, ContentProvider


def cp_lock(*, cp_id: int) -> ContentProvider:
    """Lock one CP (``ContentProvider.DoesNotExist`` if there is none)."""
    return ContentProvider.objects.select_for_update().get(pk=cp_id)


def product_lock(*, product_id: int) -> ContentProduct:
    """Lock one content product (``ContentProduct.DoesNotExist`` if there is none)."""
    return ContentProduct.objects.select_for_update().get(pk=product_id)


def charge_lock(*, charge_id: str) -> Charge | None:
    """Lock one charge with its product (read, not locked); None if there is none."""
    return (
        Charge.objects.select_related("product")
        .select_for_update(of=("self",))
        .filter(pk=charge_id)
        .first()
    )
