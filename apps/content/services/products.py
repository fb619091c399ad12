"""Content products: a CP creates them, an operator reviews each product and each price change,
and an approved product is sold in the mall through a catalog listing.

Its prices are price points (``price_points``): the default one is made with the product and
reviewed with it; the mall lists each approved one as a SKU of the product's listing.

Risk control's vetting hook (``risk.selectors.vetting_needs_second_reviewer``) decides whether
one approval is enough: a price above its threshold, or a CP whose complaint rate is above
its threshold, needs a second reviewer. The first approval is recorded (audited, the product
stays as it was) and a different operator gives the second, which takes effect."""

from __future__ import annotations

from django.db import transaction

from apps.catalog.services import (
    Listing,
    Variant,
    listing_upsert,
    listing_variants_set,
    product_image_set,
)
from apps.content.errors import (
    InvalidPrice,
    ProductNotFound,
    ProviderNotApproved,
    ReasonRequired,
    ReviewRefused,
    SecondReviewerRequired,
)
from apps.content.locks import cp_lock, product_lock
from apps.content.models import Chapter, ContentProduct, ContentProvider, PricePoint
from apps.core.audit import audit_record, audited_transition
from apps.risk import selectors as risk_selectors

Status = ContentProduct.Status
# The catalog category (and product type) of each kind, in Chinese and English.
KIND_NAMES = {"game": ("游戏", "Games"), "video": ("视频", "Video"), "reading": ("阅读", "Reading"),
              "music": ("音乐", "Music"), "animation": ("动漫", "Animation")}  # fmt: skip
BILLING_LABELS = {"one_off": "一次性", "per_chapter": "按章节", "monthly": "包月"}
# A default price point's label by the product's billing mode.
DEFAULT_LABELS = {"one_off": "全本", "per_chapter": "单章", "monthly": "包月"}


def price_valid(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > 100_000_00:
        raise InvalidPrice(details={"price_fen": value})
    return value


def _move(product: ContentProduct, status: str, *, actor_id: int | None, **after: object) -> None:
    audited_transition(
        product, status, object_type="content_product", object_id=product.pk, actor_id=actor_id,
        refused=lambda details: ReviewRefused(details=details), after=after,
    )  # fmt: skip


def product_create(
    *,
    cp_id: int,
    actor_id: int | None,
    kind: str,
    title: str,
    description: str,
    price_fen: int,
    billing_mode: str,
    billing_code: str,
    notify_url: str = "",
    trial_days: int = 0,
    chapters: list[tuple[str, str]] | None = None,
    cover: tuple[str, bytes] | None = None,
) -> ContentProduct:
    """A CP proposes a product; it waits for an operator's review. ``chapters`` (title, text)
    for reading products, numbered from 1 (the first is a free preview). Refuses a price that is
    not a positive whole number of fen (``InvalidPrice``), an unknown kind or billing mode, and
    a CP that is not approved; nothing is written then. The price and billing code make
    its default price point."""
    price_fen = price_valid(price_fen)
    if (
        kind not in ContentProduct.Kind.values
        or billing_mode not in ContentProduct.BillingMode.values
    ):
        raise ReviewRefused(details={"kind": kind, "billing_mode": billing_mode})
    if not title.strip() or not billing_code.strip():
        raise ReviewRefused(details={"title": title, "billing_code": billing_code})
    with transaction.atomic():
        cp = cp_lock(cp_id=cp_id)
        if cp.status != ContentProvider.Status.APPROVED:
            raise ProviderNotApproved(details={"status": cp.status})
        product = ContentProduct.objects.create(
            cp=cp, kind=kind, title=title.strip()[:120], description=description, price_fen=price_fen,
            billing_mode=billing_mode, billing_code=billing_code.strip()[:32], notify_url=notify_url,
            trial_days=max(0, trial_days) if billing_mode == "monthly" else 0,
        )  # fmt: skip
        PricePoint.objects.create(
            cp=cp, product=product, label=DEFAULT_LABELS[billing_mode], price_fen=price_fen,
            billing_code=product.billing_code, is_default=True,
        )  # fmt: skip
        if cover is not None:
            from django.core.files.base import ContentFile

            product.cover.save(cover[0], ContentFile(cover[1]), save=True)
        Chapter.objects.bulk_create(
            Chapter(product=product, number=n, title=t[:120], body=b, free=n == 1)
            for n, (t, b) in enumerate(chapters or [], start=1)
        )
        audit_record(action="content_product.proposed", object_type="content_product", object_id=product.pk,
                     actor_id=actor_id, after={"cp": cp.pk, "price_fen": price_fen, "mode": billing_mode})  # fmt: skip
    return product


def _get_locked(product_id: int, cp_id: int | None = None) -> ContentProduct:
    try:
        product = product_lock(product_id=product_id)
    except ContentProduct.DoesNotExist as exc:
        raise ProductNotFound() from exc
    if cp_id is not None and product.cp_id != cp_id:
        raise ProductNotFound()  # another CP's product: as if it did not exist
    return product


def sync_listing(product: ContentProduct) -> None:
    """Put the product's sale state and prices on its catalog listing (made when first
    approved): the default price point is its first SKU, each other approved one a SKU more."""
    on_sale = (
        product.status == Status.APPROVED and product.cp.status == ContentProvider.Status.APPROVED
    )
    if product.catalog_product_id is None and not on_sale:
        return
    name, name_en = KIND_NAMES[product.kind]
    default = PricePoint.objects.filter(product=product, is_default=True).first()
    listing = listing_upsert(
        listing=Listing(product.catalog_product_id, product.catalog_sku_id)  # type: ignore[arg-type]
        if product.catalog_product_id else None,
        kind_code=product.kind, kind_name=name, kind_name_en=name_en,
        sku_code=f"CP{product.cp_id}-{product.billing_code}", name=product.title,
        description=product.description, price_fen=product.price_fen,
        billing=BILLING_LABELS[product.billing_mode], on_sale=on_sale,
        sku_name=default.label if default else "",
    )  # fmt: skip
    if product.catalog_product_id is None:
        product.catalog_product_id, product.catalog_sku_id = listing.product_id, listing.sku_id
        product.save(update_fields=["catalog_product_id", "catalog_sku_id", "updated_at"])
        if product.cover:
            with product.cover.open("rb") as picture:
                product_image_set(product_id=listing.product_id, name=product.cover.name.rsplit("/", 1)[-1],
                                  content=picture.read())  # fmt: skip
    _sync_variants(product, listing)


def first_of_two(
    *, price_fen: int, cp_id: int, first_reviewer_id: int | None, actor_id: int
) -> list[str]:
    """The vetting reasons when this approval is the first of two (the caller records it);
    empty when it takes effect (no second reviewer needed, or this is the second).
    ``SecondReviewerRequired`` when the first reviewer tries to give the second approval."""
    reasons = risk_selectors.vetting_needs_second_reviewer(price_fen=price_fen, cp_id=str(cp_id))
    if not reasons:
        return []
    if first_reviewer_id is None:
        return reasons
    if first_reviewer_id == actor_id:
        raise SecondReviewerRequired(details={"reasons": reasons})
    return []


def product_review(
    *, product_id: int, decision: str, actor_id: int, reason: str = ""
) -> ContentProduct:
    """An operator approves (it goes on sale in the mall), rejects (with a reason the CP
    sees), suspends (off sale) or reinstates a product. Locks the CP, then the product.

    Approving a product awaiting review that risk's vetting flags records a first approval
    (``first_reviewer_id``; the product stays pending) and needs a second operator; the same
    operator again gets ``SecondReviewerRequired``. A rejection forgets a first approval."""
    to = {"approve": Status.APPROVED, "reject": Status.REJECTED, "suspend": Status.SUSPENDED,
          "reinstate": Status.APPROVED}.get(decision)  # fmt: skip
    if to is None:
        raise ReviewRefused(details={"decision": decision})
    if to in (Status.REJECTED, Status.SUSPENDED) and not reason.strip():
        raise ReasonRequired()
    with transaction.atomic():
        cp_id = ContentProduct.objects.filter(pk=product_id).values_list("cp_id", flat=True).first()
        if cp_id is None:
            raise ProductNotFound()
        cp_lock(cp_id=cp_id)
        product = _get_locked(product_id)
        if decision == "approve" and product.status == Status.PENDING:
            reasons = first_of_two(price_fen=product.price_fen, cp_id=cp_id,
                                    first_reviewer_id=product.first_reviewer_id, actor_id=actor_id)  # fmt: skip
            if reasons:
                product.first_reviewer_id = actor_id
                product.save(update_fields=["first_reviewer_id", "updated_at"])
                audit_record(action="content_product.first_approval", object_type="content_product",
                             object_id=product.pk, actor_id=actor_id, after={"reasons": reasons})  # fmt: skip
                return product
        _move(product, to, actor_id=actor_id, reason=reason)
        product.reject_reason = "" if to == Status.APPROVED else reason.strip()[:200]
        product.first_reviewer_id = None
        product.save(update_fields=["status", "reject_reason", "first_reviewer_id", "updated_at"])
        if to == Status.APPROVED:  # its first price is reviewed with it
            PricePoint.objects.filter(product=product, is_default=True).update(
                status=PricePoint.Status.APPROVED
            )
        sync_listing(product)
    return product


def product_resubmit(
    *, cp_id: int, product_id: int, actor_id: int, changes: dict[str, str]
) -> ContentProduct:
    """The CP corrects a rejected product (title, description, notify_url) and asks again."""
    with transaction.atomic():
        product = _get_locked(product_id, cp_id)
        for field in ("title", "description", "notify_url"):
            if field in changes:
                setattr(product, field, changes[field])
        _move(product, Status.PENDING, actor_id=actor_id)
        product.save()
    return product


def _sync_variants(product: ContentProduct, listing: Listing) -> None:
    """The listing's further SKUs: one per approved price point besides the default (a price
    point off sale keeps its SKU, inactive). A per-chapter product's are not sold in the mall,
    which cannot say which chapter a buyer wants."""
    points = list(
        PricePoint.objects.filter(
            product=product, is_default=False, status=PricePoint.Status.APPROVED
        ).order_by("pk")
    )
    if not points:
        return
    mall = product.billing_mode != ContentProduct.BillingMode.PER_CHAPTER
    ids = listing_variants_set(listing=listing, variants=[
        Variant(sku_id=p.catalog_sku_id, code=f"CP{product.cp_id}-{p.billing_code}", name=p.label,
                price_fen=p.price_fen, active=p.active and mall)
        for p in points
    ])  # fmt: skip
    for point, sku_id in zip(points, ids, strict=True):
        if point.catalog_sku_id != sku_id:
            PricePoint.objects.filter(pk=point.pk).update(catalog_sku_id=sku_id)
