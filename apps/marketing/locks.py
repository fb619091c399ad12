"""Row locks of the marketing app, in primary-key order.

Where marketing sits in the global lock order (docs/architecture.md):

    user → cart → order → stock → SIM numbers → campaigns → coupon → payment intent → refund
    → ledger balances

Campaigns are taken in primary-key order, then the one coupon of the order. The flash-sale
row (``flash.py``) is taken alone, before the order it creates.
"""

from __future__ import annotations

from apps.marketing.models import Campaign, Coupon, Redemption


def campaigns_lock(*, ids: list[int]) -> dict[int, Campaign]:
    rows = Campaign.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {c.pk: c for c in rows}


def coupon_lock(*, code: str) -> Coupon | None:
    return (
        Coupon.objects.select_for_update(of=("self",))
        .select_related("batch", "batch__campaign")
        .filter(code=code)
        .first()
    )


def redemptions_lock(*, order_number: str) -> list[Redemption]:
    return list(
        Redemption.objects.select_for_update().filter(order_number=order_number).order_by("pk")
    )
