"""Price points: the prices a content product is sold at, each with the billing code the
carrier knows it by, and their review.

A product is made with its default price point (the price and code given at creation), which
is reviewed with the product. A CP adds more ("单章", "全本", "包月"); each new one waits for an
operator (approve, or reject with a reason the CP sees), and so does each price change of any
price point; the price on sale stays until the change is approved. Risk's vetting asks for two
approvals by different operators above its threshold, as for a product. An approved price
point is sold in the mall as a SKU of the product's listing, and named by the CP's API.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from apps.content.errors import (
    BillingCodeTaken,
    PricePointNotFound,
    PricePointNotOnSale,
    ReasonRequired,
    ReviewRefused,
)
from apps.content.locks import price_point_lock
from apps.content.models import ContentProduct, PricePoint
from apps.content.services.products import _get_locked, first_of_two, price_valid, sync_listing
from apps.core.audit import audit_record, audited_transition

Status = PricePoint.Status


def _point(*, product: ContentProduct, price_point_id: int | None) -> PricePoint:
    """The product's price point (its default when ``price_point_id`` is None), locked."""
    try:
        if price_point_id is None:
            return price_point_lock(product_id=product.pk, default=True)
        return price_point_lock(product_id=product.pk, price_point_id=price_point_id)
    except PricePoint.DoesNotExist as exc:
        raise PricePointNotFound(details={"price_point_id": price_point_id}) from exc


def _locked(
    *, price_point_id: int | None, product_id: int | None = None, cp_id: int | None = None
) -> tuple[ContentProduct, PricePoint]:
    """The product (locked first, then its price point: the one order) and the price point
    named, or the product's default. With no ``product_id`` the price point names it; one of
    another CP (``cp_id``) is ``PricePointNotFound``, another CP's product ``ProductNotFound``."""
    if product_id is None:
        points = PricePoint.objects.filter(pk=price_point_id or 0)
        if cp_id is not None:
            points = points.filter(cp_id=cp_id)
        product_id = points.values_list("product_id", flat=True).first()
        if product_id is None:
            raise PricePointNotFound(details={"price_point_id": price_point_id})
    product = _get_locked(product_id, cp_id)
    return product, _point(product=product, price_point_id=price_point_id)


def price_point_add(
    *, cp_id: int, product_id: int, actor_id: int | None, label: str, price_fen: int,
    billing_code: str,
) -> PricePoint:  # fmt: skip
    """A CP proposes one more price for its product; it waits for an operator's review.
    Refused, with nothing written: a price that is not a positive whole number of fen
    (``InvalidPrice``), a blank label or code (``ReviewRefused``), another CP's product
    (``ProductNotFound``), a billing code the CP uses already (``BillingCodeTaken``)."""
    price_fen = price_valid(price_fen)
    label, billing_code = label.strip(), billing_code.strip()
    if not label or not billing_code:
        raise ReviewRefused(details={"label": label, "billing_code": billing_code})
    try:
        with transaction.atomic():
            product = _get_locked(product_id, cp_id)
            point = PricePoint.objects.create(
                cp_id=product.cp_id, product=product, label=label[:32], price_fen=price_fen,
                billing_code=billing_code[:32],
            )  # fmt: skip
            audit_record(action="content_price_point.proposed", object_type="content_price_point",
                         object_id=point.pk, actor_id=actor_id,
                         after={"product": product.pk, "price_fen": price_fen, "code": point.billing_code})  # fmt: skip
    except IntegrityError as exc:
        raise BillingCodeTaken(details={"billing_code": billing_code}) from exc
    return point


def price_point_review(
    *, price_point_id: int, approve: bool, actor_id: int, reason: str = ""
) -> PricePoint:
    """An operator approves a new price point (it can be sold, and the mall shows it) or
    rejects it with a reason the CP sees. Locks the product, then the price point. A default
    price point is reviewed with its product (``ReviewRefused``); so is one already decided."""
    if not approve and not reason.strip():
        raise ReasonRequired()
    with transaction.atomic():
        product, point = _locked(price_point_id=price_point_id)
        if point.is_default:
            raise ReviewRefused(details={"default": True})
        if approve and point.status == Status.PENDING:
            reasons = first_of_two(price_fen=point.price_fen, cp_id=point.cp_id,
                                   first_reviewer_id=point.first_reviewer_id, actor_id=actor_id)  # fmt: skip
            if reasons:
                point.first_reviewer_id = actor_id
                point.save(update_fields=["first_reviewer_id", "updated_at"])
                audit_record(action="content_price_point.first_approval", object_type="content_price_point",
                             object_id=point.pk, actor_id=actor_id, after={"reasons": reasons})  # fmt: skip
                return point
        to = Status.APPROVED if approve else Status.REJECTED
        audited_transition(
            point, to, object_type="content_price_point", object_id=point.pk, actor_id=actor_id,
            refused=lambda details: ReviewRefused(details=details), after={"reason": reason},
        )  # fmt: skip
        point.reject_reason = "" if approve else reason.strip()[:200]
        point.first_reviewer_id = None
        point.save(update_fields=["status", "reject_reason", "first_reviewer_id", "updated_at"])
        if approve:
            sync_listing(product)
    return point


def price_point_set_active(
    *, cp_id: int, price_point_id: int, active: bool, actor_id: int | None
) -> PricePoint:
    """A CP takes a price point off sale, or puts it back (no review: its price was
    reviewed). The default price point stays on sale with its product (``ReviewRefused``)."""
    with transaction.atomic():
        product, point = _locked(price_point_id=price_point_id, cp_id=cp_id)
        if point.is_default and not active:
            raise ReviewRefused(details={"default": True})
        if point.active != active:
            point.active = active
            point.save(update_fields=["active", "updated_at"])
            audit_record(action="content_price_point." + ("activated" if active else "deactivated"),
                         object_type="content_price_point", object_id=point.pk, actor_id=actor_id)  # fmt: skip
            sync_listing(product)
    return point


def price_change_propose(
    *, cp_id: int, product_id: int, price_fen: int, actor_id: int | None,
    price_point_id: int | None = None,
) -> PricePoint:  # fmt: skip
    """A CP asks for a new price of a price point (the product's default when none is
    named); it keeps selling at the old one until an operator approves. A CP naming another
    CP's product gets ``ProductNotFound``, a price point not of the product
    ``PricePointNotFound``; nothing changes."""
    price_fen = price_valid(price_fen)
    with transaction.atomic():
        product, point = _locked(price_point_id=price_point_id, product_id=product_id, cp_id=cp_id)
        point.proposed_price_fen = price_fen
        point.price_reject_reason = ""
        point.price_first_reviewer_id = None  # a new price is reviewed from the start
        point.save(update_fields=["proposed_price_fen", "price_reject_reason",
                                  "price_first_reviewer_id", "updated_at"])  # fmt: skip
        audit_record(action="content_product.price_proposed", object_type="content_product",
                     object_id=product.pk, actor_id=actor_id,
                     before={"price_fen": point.price_fen, "price_point": point.pk},
                     after={"price_fen": price_fen})  # fmt: skip
    return point


def price_change_review(
    *, approve: bool, actor_id: int, reason: str = "", product_id: int | None = None,
    price_point_id: int | None = None,
) -> PricePoint:  # fmt: skip
    """An operator approves a proposed price of a price point (``price_point_id``; the
    default of ``product_id`` otherwise): the price on sale, the mall's and, for the default,
    the product's follow at once. Or refuses it with a reason. ``ReviewRefused`` when no change
    is proposed. A price risk's vetting flags needs two approvals by different operators."""
    if not approve and not reason.strip():
        raise ReasonRequired()
    with transaction.atomic():
        product, point = _locked(price_point_id=price_point_id, product_id=product_id)
        if point.proposed_price_fen is None:
            raise ReviewRefused(details={"proposed_price_fen": None})
        before, proposed = point.price_fen, point.proposed_price_fen
        if approve:
            reasons = first_of_two(price_fen=proposed, cp_id=point.cp_id,
                                   first_reviewer_id=point.price_first_reviewer_id, actor_id=actor_id)  # fmt: skip
            if reasons:
                point.price_first_reviewer_id = actor_id
                point.save(update_fields=["price_first_reviewer_id", "updated_at"])
                audit_record(action="content_product.price_first_approval", object_type="content_product",
                             object_id=product.pk, actor_id=actor_id,
                             after={"proposed_fen": proposed, "reasons": reasons, "price_point": point.pk})  # fmt: skip
                return point
            point.price_fen = proposed
        else:
            point.price_reject_reason = reason.strip()[:200]
        point.proposed_price_fen = point.price_first_reviewer_id = None
        point.save(update_fields=["price_fen", "proposed_price_fen", "price_reject_reason",
                                  "price_first_reviewer_id", "updated_at"])  # fmt: skip
        audit_record(action="content_product.price_" + ("approved" if approve else "rejected"),
                     object_type="content_product", object_id=product.pk, actor_id=actor_id,
                     before={"price_fen": before, "price_point": point.pk},
                     after={"proposed_fen": proposed, "reason": reason})  # fmt: skip
        if approve:
            if point.is_default:
                product.price_fen = point.price_fen
                product.save(update_fields=["price_fen", "updated_at"])
            sync_listing(product)
    return point


def price_point_for_sale(
    *, product: ContentProduct, price_point_id: int | None = None, billing_code: str = ""
) -> PricePoint:
    """The price point a sale names (by id or billing code; the default when neither):
    ``PricePointNotFound`` when it is not one of the product's, ``PricePointNotOnSale`` when it
    is not approved or taken off sale. Reads, no lock."""
    rows = PricePoint.objects.filter(product=product)
    if price_point_id is not None:
        rows = rows.filter(pk=price_point_id)
    if billing_code:
        rows = rows.filter(billing_code=billing_code)
    if price_point_id is None and not billing_code:
        rows = rows.filter(is_default=True)
    point = rows.first()
    if point is None:
        raise PricePointNotFound(
            details={"price_point_id": price_point_id, "billing_code": billing_code or None}
        )
    if not point.sellable:
        raise PricePointNotOnSale(details={"status": point.status, "active": point.active})
    return point
