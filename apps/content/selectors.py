"""Content reads: review queues (counts for the workbench home), what a subscriber owns,
access checks for chapters and media, and the CP console's lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from apps.content.models import (
    Chapter,
    Complaint,
    ContentProduct,
    ContentProvider,
    CpMember,
    Entitlement,
    Notification,
    PricePoint,
    Subscription,
)


def cp_applications_awaiting_review() -> int:
    """How many CP applications wait for an operator (the analytics workbench's count)."""
    return ContentProvider.objects.filter(status=ContentProvider.Status.PENDING).count()


def complaints_open() -> int:
    """Subscribers' complaints about content charges that no operator answered yet."""
    return Complaint.objects.filter(status=Complaint.Status.OPEN).count()


def complaint_of(*, user_id: int, product_id: int) -> Complaint | None:
    """The subscriber's latest complaint about a charge for the product, or None."""
    return (
        Complaint.objects.filter(user_id=user_id, charge__product_id=product_id)
        .order_by("-pk")
        .first()
    )


def products_awaiting_review() -> int:
    """How many products, or price points and price changes, wait for an operator."""
    return products_pending_review() + price_changes_pending_review()


def products_pending_review() -> int:
    """New products waiting for an operator (the workbench's first product to-do)."""
    return ContentProduct.objects.filter(status=ContentProduct.Status.PENDING).count()


def price_changes_pending_review() -> int:
    """New price points and price changes waiting for an operator (the workbench's second
    product to-do); a default price point is reviewed with its product."""
    return PricePoint.objects.filter(
        Q(status=PricePoint.Status.PENDING, is_default=False) | Q(proposed_price_fen__isnull=False)
    ).count()


def cp_of_user(*, user_id: int) -> ContentProvider | None:
    member = CpMember.objects.select_related("cp").filter(user_id=user_id).first()
    return member.cp if member else None


def _active(user_id: int, now: datetime) -> Q:
    return Q(user_id=user_id, revoked_at__isnull=True, starts_at__lte=now) & (
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )


@dataclass(frozen=True)
class Owned:
    product_id: int
    title: str
    kind: str
    billing_mode: str
    until: datetime | None
    chapters: tuple[int, ...]  # for per-chapter purchases: the chapters bought
    whole: bool  # the whole product (not only some chapters)


def owned_content(*, user_id: int, now: datetime | None = None) -> list[Owned]:
    """What a subscriber may use now, one row per product (``/my/content/``)."""
    now = now or timezone.now()
    rows = (
        Entitlement.objects.filter(_active(user_id, now))
        .select_related("product")
        .order_by("-created_at")
    )
    by_product: dict[int, list[Entitlement]] = {}
    for row in rows:
        by_product.setdefault(row.product_id, []).append(row)
    owned = []
    for items in by_product.values():
        product = items[0].product
        ends = [e.ends_at for e in items]
        owned.append(Owned(
            product_id=product.pk, title=product.title, kind=product.kind, billing_mode=product.billing_mode,
            until=None if None in ends else max(e for e in ends if e is not None),
            chapters=tuple(sorted(e.chapter for e in items if e.chapter)),
            whole=any(e.chapter is None for e in items),
        ))  # fmt: skip
    return owned


def owned_from_lines(*, user_id: int, line_ids: list[int]) -> list[Owned]:
    """What the buyer got from these mall order lines (their entitlements, revoked ones
    left out), one row per product: the order page's "your content" section."""
    rows = (
        Entitlement.objects.filter(
            user_id=user_id, source=Entitlement.Source.ORDER, revoked_at__isnull=True,
            reference__in=[str(i) for i in line_ids],
        )
        .select_related("product")
        .order_by("id")
    )  # fmt: skip
    owned: dict[int, Owned] = {}
    for row in rows:
        product = row.product
        owned.setdefault(product.pk, Owned(
            product_id=product.pk, title=product.title, kind=product.kind, billing_mode=product.billing_mode,
            until=row.ends_at, chapters=(), whole=row.chapter is None,
        ))  # fmt: skip
    return list(owned.values())


def entitled(
    *, user_id: int, product_id: int, chapter: int | None = None, now: datetime | None = None
) -> bool:
    """True when the subscriber may use the product (or that chapter of it) now."""
    now = now or timezone.now()
    rows = Entitlement.objects.filter(_active(user_id, now), product_id=product_id)
    if chapter is None:
        return rows.filter(chapter__isnull=True).exists()
    return rows.filter(Q(chapter__isnull=True) | Q(chapter=chapter)).exists()


def chapter_get(*, product_id: int, number: int) -> Chapter | None:
    return Chapter.objects.filter(product_id=product_id, number=number).first()


def notifications_of(*, cp_id: int, limit: int = 50) -> list[Notification]:
    """The CP's delivery log, newest first."""
    return list(Notification.objects.filter(cp_id=cp_id)[:limit])


def entitlement_check(
    *, cp_id: int, phone: str, product_id: int, chapter: int | None
) -> dict[str, object]:
    """The signed entitlement API's answer: may this number use this product of this CP now?
    Another CP's product is answered like an unknown one (``ProductNotFound``)."""
    from apps.accounts.selectors import user_id_for_phone
    from apps.content.errors import ProductNotFound

    if not ContentProduct.objects.filter(pk=product_id, cp_id=cp_id).exists():
        raise ProductNotFound()
    user_id = user_id_for_phone(phone=phone)
    now = timezone.now()
    rows = Entitlement.objects.filter(product_id=product_id)
    rows = rows.filter(_active(user_id, now)) if user_id is not None else rows.none()
    if chapter is not None:
        rows = rows.filter(Q(chapter__isnull=True) | Q(chapter=chapter))
    else:
        rows = rows.filter(chapter__isnull=True)
    ends = list(rows.values_list("ends_at", flat=True))
    until = None if not ends or None in ends else max(e for e in ends if e is not None)
    return {"phone_number": phone, "product_id": product_id, "chapter": chapter, "entitled": bool(ends),
            "until": until.isoformat() if until else None}  # fmt: skip


def products_on_sale(*, cp_id: int) -> list[dict[str, object]]:
    """A CP's approved products as its API answers them, each with its price points on sale
    (``price_fen`` and ``billing_code``: the default one's)."""
    rows = (
        ContentProduct.objects.filter(cp_id=cp_id, status=ContentProduct.Status.APPROVED)
        .prefetch_related("price_points")
        .order_by("pk")
    )
    return [
        {"product_id": p.pk, "kind": p.kind, "title": p.title, "price_fen": p.price_fen, "billing_mode": p.billing_mode,
         "trial_days": p.trial_days, "billing_code": p.billing_code,
         "price_points": [_point_body(pp) for pp in p.price_points.all() if pp.sellable]}
        for p in rows
    ]  # fmt: skip


def _point_body(point: PricePoint) -> dict[str, object]:
    return {"price_point_id": point.pk, "label": point.label, "price_fen": point.price_fen,
            "billing_code": point.billing_code, "default": point.is_default}  # fmt: skip


def price_points_on_sale(*, product_id: int) -> list[PricePoint]:
    """The price points a subscriber may buy a product at (approved, on sale), default first."""
    return list(
        PricePoint.objects.filter(
            product_id=product_id, status=PricePoint.Status.APPROVED, active=True
        )
    )


def plans_to_change_to(*, subscription: Subscription) -> list[ContentProduct]:
    """The CP's other monthly products on sale a subscriber may move the subscription to."""
    return list(
        ContentProduct.objects.filter(
            cp_id=subscription.cp_id, billing_mode=ContentProduct.BillingMode.MONTHLY,
            status=ContentProduct.Status.APPROVED, cp__status=ContentProvider.Status.APPROVED,
        )
        .exclude(pk=subscription.product_id)
        .order_by("price_fen", "pk")
    )  # fmt: skip


def subscription_of(*, user_id: int, product_id: int) -> Subscription | None:
    """The subscriber's latest subscription to a product (or to one it was changed from)."""
    return (
        Subscription.objects.filter(user_id=user_id, product_id=product_id).order_by("-pk").first()
    )
