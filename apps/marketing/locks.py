"""Row locks of the marketing app, in primary-key order.

Where marketing sits in the global lock order (docs/architecture.md):

    user → cart → order → stock → SIM numbers → flash claims → campaigns → coupon → payment
    intent → refund → ledger balances

The buyer's flash-sale claims, then campaigns in primary-key order, then the one coupon of the
order. A flash sale's own row is never locked (its units are unique slots).
"""

from __future__ import annotations

from apps.marketing.models import Campaign, Coupon, FlashClaim, Redemption


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


def flash_claims_lock(*, order_number: str, status: str) -> list[FlashClaim]:
    return list(
        FlashClaim.objects.select_for_update()
        .filter(order_number=order_number, status=status)
        .order_by("pk")
    )
