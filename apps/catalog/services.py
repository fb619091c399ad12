"""Catalog writes: products and their derived fields, the search index, stock reservations.

Every write that changes what a page shows ends by ``catalog_changed()``, which bumps the
catalog version on commit; cached pages are keyed by that version, so they go stale at once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nh3
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Min, Q
from PIL import Image, ImageOps

from apps.catalog import search
from apps.catalog.errors import (
    InvalidAttributes,
    OutOfStock,
    ProductStatusRefused,
    SkuNotFound,
    StockBelowReserved,
)
from apps.catalog.locks import (
    category_lock,
    product_lock,
    products_lock,
    reservations_lock_held,
    sku_lock,
    sku_lock_tracking,
    skus_lock,
)
from apps.catalog.models import Banner, Category, Product, ProductType, Sku, StockReservation
from apps.core.audit import audit_record, audited_transition
from apps.core.idempotency import idempotency_claim, idempotency_complete
from apps.core.tasks import enqueue_on_commit

CATALOG_VERSION_KEY = "catalog:version"
THUMBNAIL_SIZE = (400, 400)
IMAGE_SIZE = (800, 800)
BANNER_SIZE = (1200, 400)
_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "img",
    "a",
    "span",
}
_ALLOWED_ATTRIBUTES = {"img": {"src", "alt", "width", "height"}, "a": {"href", "title"}}


def catalog_changed() -> None:
    """Invalidate every cached catalog page once the current transaction commits."""

    def bump() -> None:
        try:
            cache.incr(CATALOG_VERSION_KEY)
        except ValueError:
            cache.set(CATALOG_VERSION_KEY, 2, timeout=None)

    transaction.on_commit(bump)


def sanitize_description(html: str) -> str:
    """Keep formatting and images, drop scripts, styles and event handlers."""
    return nh3.clean(html or "", tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES)


def validate_attributes(schema: list[dict[str, Any]], attributes: dict[str, Any]) -> dict[str, Any]:
    """Check ``attributes`` against a product type's schema; return them cleaned."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    known = {item["key"] for item in schema}
    for key in attributes:
        if key not in known:
            errors[key] = "unknown attribute"
    for item in schema:
        key, value = item["key"], attributes.get(item["key"])
        if value in (None, ""):
            if item.get("required"):
                errors[key] = "required"
            continue
        kind = item.get("type", "str")
        if kind == "int":
            try:
                value = int(value)
            except (TypeError, ValueError):
                errors[key] = "must be a whole number"
                continue
        elif kind == "choice" and value not in item.get("choices", []):
            errors[key] = f"must be one of {', '.join(map(str, item.get('choices', [])))}"
            continue
        else:
            value = str(value)
        cleaned[key] = value
    if errors:
        raise InvalidAttributes(details=errors)
    return cleaned


@dataclass(frozen=True)
class SkuSpec:
    code: str
    name: str
    price_fen: int
    list_price_fen: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    stock: int | None = None  # None: not stock-tracked (digital and electronic goods)


def product_create(
    *,
    category_id: int,
    product_type_id: int,
    name: str,
    skus: list[SkuSpec],
    name_en: str = "",
    subtitle: str = "",
    subtitle_en: str = "",
    description: str = "",
    attributes: dict[str, Any] | None = None,
    status: str = Product.Status.PUBLISHED,
    owner_id: int | None = None,
    per_user_limit: int | None = None,
    sales_count: int = 0,
) -> Product:
    """Create a product with its SKUs; the search index follows on commit."""
    product_type = ProductType.objects.get(pk=product_type_id)
    with transaction.atomic():
        product = Product.objects.create(
            category_id=category_id,
            product_type=product_type,
            kind=product_type.kind,
            name=name,
            name_en=name_en,
            subtitle=subtitle,
            subtitle_en=subtitle_en,
            description=sanitize_description(description),
            attributes=validate_attributes(product_type.attribute_schema, attributes or {}),
            status=status,
            owner_id=owner_id,
            per_user_limit=per_user_limit,
            sales_count=sales_count,
        )
        Sku.objects.bulk_create(
            Sku(
                product=product,
                code=spec.code,
                name=spec.name,
                attributes=spec.attributes,
                price_fen=spec.price_fen,
                list_price_fen=spec.list_price_fen
                if spec.list_price_fen is not None
                else spec.price_fen,
                tracks_stock=spec.stock is not None,
                stock_on_hand=spec.stock or 0,
                sort=index,
            )
            for index, spec in enumerate(skus)
        )
        product_refresh(product_id=product.pk)
    return product


def products_sold(*, units: dict[int, int]) -> None:
    """Add sold units to products' ``sales_count`` (product id -> units): one F() update per
    product in pk order, run after the paying transaction commits (no lock held meanwhile)."""
    for product_id in sorted(units):
        Product.objects.filter(pk=product_id).update(
            sales_count=F("sales_count") + units[product_id]
        )


def product_refresh(*, product_id: int) -> None:
    """Recompute a product's derived fields after it or its SKUs changed; reindex on commit.

    Called by every writer, the workbench included. Idempotent.
    """
    with transaction.atomic():
        product = product_lock(product_id=product_id, with_type=True)
        skus = Sku.objects.filter(product_id=product_id, is_active=True)
        summary = skus.aggregate(low=Min("price_fen"))
        product.kind = product.product_type.kind
        product.min_price_fen = summary["low"] or 0
        product.in_stock = _in_stock(product_id)
        product.description = sanitize_description(product.description)
        product.save(
            update_fields=["kind", "min_price_fen", "in_stock", "description", "updated_at"]
        )
        _enqueue_reindex(product_id)
        catalog_changed()


def _in_stock(product_id: int) -> bool:
    return (
        Sku.objects.filter(product_id=product_id, is_active=True)
        .filter(Q(tracks_stock=False) | Q(stock_on_hand__gt=F("stock_reserved")))
        .exists()
    )


def _enqueue_reindex(product_id: int) -> None:
    from apps.catalog.tasks import product_reindex_task  # the task module imports this one

    enqueue_on_commit(product_reindex_task, product_id)


def product_reindex(*, product_id: int) -> None:
    """Write a product's search terms (the database derives the tsvector) and its thumbnail."""
    if not products_reindex(product_ids=[product_id]):
        return
    product = Product.objects.get(pk=product_id)
    if product.image and not product.thumbnail:
        _make_thumbnail(product)


def products_reindex(*, product_ids: list[int]) -> int:
    """Rewrite the search terms of many products in one statement (the rebuild command)."""
    rows = list(
        Product.objects.filter(pk__in=product_ids).select_related("category", "category__parent")
    )
    for product in rows:
        category = product.category
        names = [category.name, category.name_en]
        if category.parent:
            names += [category.parent.name, category.parent.name_en]
        attribute_text = " ".join(str(v) for v in product.attributes.values())
        product.search_terms_a = search.terms(product.name, product.name_en)
        product.search_terms_b = search.terms(product.subtitle, attribute_text, *names)
        product.search_text = f"{product.name} {product.name_en}".lower()
    Product.objects.bulk_update(
        rows, ["search_terms_a", "search_terms_b", "search_text"], batch_size=500
    )
    return len(rows)


def _square(picture: Image.Image, side: int) -> bytes:
    """``picture`` fitted into a white ``side``×``side`` square, as JPEG."""
    canvas = Image.new("RGB", (side, side), "white")
    fitted = picture.convert("RGB")
    fitted.thumbnail((side, side))
    canvas.paste(fitted, ((side - fitted.width) // 2, (side - fitted.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def _is_svg(name: str) -> bool:
    return name.lower().endswith(".svg")


def _make_thumbnail(product: Product) -> None:
    """The picture in the sizes pages use: IMAGE_SIZE on the product page, THUMBNAIL_SIZE on
    cards, both square so that pages reserve the space (width/height on the img tag). An SVG
    scales, so it is its own thumbnail."""
    if _is_svg(product.image.name):
        Product.objects.filter(pk=product.pk).update(thumbnail=product.image.name)
        return
    with product.image.open("rb") as source, Image.open(source) as original:
        original.load()
        large, small = _square(original, IMAGE_SIZE[0]), _square(original, THUMBNAIL_SIZE[0])
    old = product.image.name
    product.image.save(f"{product.pk}.jpg", ContentFile(large), save=False)
    product.thumbnail.save(f"{product.pk}.jpg", ContentFile(small), save=False)
    Product.objects.filter(pk=product.pk).update(
        image=product.image.name, thumbnail=product.thumbnail.name
    )
    if old != product.image.name:
        product.image.storage.delete(old)


def product_image_set(*, product_id: int, name: str, content: bytes) -> None:
    """Give a product a new picture (an operator's upload or the seed's artwork), stored in
    the sizes the pages need; the old files are deleted. Pages go stale at once."""
    product = Product.objects.get(pk=product_id)
    old = [f.name for f in (product.image, product.thumbnail) if f]
    product.image.save(name, ContentFile(content), save=False)
    Product.objects.filter(pk=product.pk).update(image=product.image.name, thumbnail="")
    product.thumbnail.name = ""
    _make_thumbnail(product)
    product.refresh_from_db(fields=["image", "thumbnail"])
    for stale in set(old) - {product.image.name, product.thumbnail.name}:
        product.image.storage.delete(stale)
    catalog_changed()


def banner_image_set(*, banner_id: int, name: str, content: bytes) -> None:
    """Give a banner a picture cropped to BANNER_SIZE (an SVG is kept as drawn)."""
    banner = Banner.objects.get(pk=banner_id)
    old = banner.image.name if banner.image else ""
    if not _is_svg(name):
        with Image.open(io.BytesIO(content)) as original:
            picture = ImageOps.fit(original.convert("RGB"), BANNER_SIZE)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=85, optimize=True)
        name, content = f"{banner_id}.jpg", buffer.getvalue()
    banner.image.save(name, ContentFile(content), save=False)
    Banner.objects.filter(pk=banner_id).update(image=banner.image.name)
    if old and old != banner.image.name:
        banner.image.storage.delete(old)
    catalog_changed()


# --- Stock ----------------------------------------------------------------------------------


def stock_reserve(*, lines: list[tuple[int, int]], reference: str) -> None:
    """Hold stock for ``lines`` of (sku id, quantity) under ``reference``, all or nothing.

    Locks the SKU rows in primary-key order (the global order: stock after user and order).
    Idempotent per (sku, reference): a repeat holds nothing more. SKUs that do not track
    stock are not locked. Raises ``OutOfStock`` with the short SKUs in ``details``.
    """
    wanted: dict[int, int] = {}
    for sku_id, quantity in lines:
        if quantity <= 0:
            raise OutOfStock(details={"sku_id": sku_id, "quantity": quantity})
        wanted[sku_id] = wanted.get(sku_id, 0) + quantity
    with transaction.atomic():
        skus = skus_lock(sku_ids=wanted, tracking_only=True)
        if Sku.objects.filter(pk__in=wanted).count() != len(wanted):
            raise SkuNotFound()
        held = set(
            StockReservation.objects.filter(sku__in=skus, reference=reference).values_list(
                "sku_id", flat=True
            )
        )
        short = {
            sku.pk: sku.stock_available
            for sku in skus
            if sku.pk not in held and sku.stock_available < wanted[sku.pk]
        }
        if short:
            raise OutOfStock(details={"available": short})
        for sku in skus:
            if sku.pk in held:
                continue
            sku.stock_reserved += wanted[sku.pk]
            sku.save(update_fields=["stock_reserved"])
            StockReservation.objects.create(sku=sku, quantity=wanted[sku.pk], reference=reference)
        if skus:
            _stock_changed({sku.product_id for sku in skus})


def stock_release(*, reference: str) -> int:
    """Give back the stock held under ``reference``; returns the number of units released."""
    return _stock_settle(reference=reference, to=StockReservation.Status.RELEASED)


def stock_commit(*, reference: str) -> int:
    """Turn held stock into sold stock (on payment); returns the number of units."""
    return _stock_settle(reference=reference, to=StockReservation.Status.COMMITTED)


def _stock_settle(*, reference: str, to: str) -> int:
    with transaction.atomic():
        reservations = reservations_lock_held(reference=reference)
        if not reservations:
            return 0
        skus = {sku.pk: sku for sku in skus_lock(sku_ids=[r.sku_id for r in reservations])}
        units = 0
        for reservation in reservations:
            sku = skus[reservation.sku_id]
            sku.stock_reserved -= reservation.quantity
            if to == StockReservation.Status.COMMITTED:
                sku.stock_on_hand -= reservation.quantity
            sku.save(update_fields=["stock_reserved", "stock_on_hand"])
            reservation.status = to
            reservation.save(update_fields=["status", "updated_at"])
            units += reservation.quantity
            audit_record(
                action=f"stock.{to}",
                object_type="sku",
                object_id=sku.pk,
                after={"reference": reference, "quantity": reservation.quantity},
            )
        _stock_changed({sku.product_id for sku in skus.values()})
    return units


def stock_on_hand_set(*, sku_id: int, on_hand: Callable[[], int], reason: str) -> int:
    """Set a stock-tracking SKU's stock on hand to ``on_hand()``, computed under its row lock.

    For goods whose stock is counted elsewhere (cards sold online: the unsold cards). The
    count is taken after the SKU row is locked, so a payment committing stock and taking the
    goods in one transaction is either fully counted or not at all. Never below what is held
    for unpaid orders (those then fail to be delivered and are refunded). Returns the value set.
    """
    with transaction.atomic():
        sku = sku_lock_tracking(sku_id=sku_id)
        if sku is None:
            return 0
        before = sku.stock_on_hand
        sku.stock_on_hand = max(on_hand(), sku.stock_reserved)
        if sku.stock_on_hand != before:
            sku.save(update_fields=["stock_on_hand"])
            audit_record(action="stock.set", object_type="sku", object_id=sku.pk,
                         before={"on_hand": before}, after={"on_hand": sku.stock_on_hand, "reason": reason})  # fmt: skip
            _stock_changed({sku.product_id})
    return sku.stock_on_hand


def stock_restock(*, lines: list[tuple[int, int]], reference: str) -> int:
    """Put sold units back on hand (goods returned unopened); returns the units added.

    Idempotent per ``reference`` (e.g. ``return:12``): a repeat adds nothing. Locks the SKU
    rows in primary-key order; SKUs that do not track stock are left alone.
    """
    with transaction.atomic():
        if (
            idempotency_claim(scope="stock.restock", key=reference, payload=sorted(lines))
            is not None
        ):
            return 0
        wanted: dict[int, int] = {}
        for sku_id, quantity in lines:
            if quantity <= 0:
                raise OutOfStock(details={"sku_id": sku_id, "quantity": quantity})
            wanted[sku_id] = wanted.get(sku_id, 0) + quantity
        skus = skus_lock(sku_ids=wanted, tracking_only=True)
        for sku in skus:
            Sku.objects.filter(pk=sku.pk).update(stock_on_hand=F("stock_on_hand") + wanted[sku.pk])
            audit_record(action="stock.restocked", object_type="sku", object_id=sku.pk,
                         after={"reference": reference, "quantity": wanted[sku.pk]})  # fmt: skip
        units = sum(wanted[sku.pk] for sku in skus)
        idempotency_complete(scope="stock.restock", key=reference, response={"units": units})
        _stock_changed({sku.product_id for sku in skus})
    return units


def _stock_changed(product_ids: set[int]) -> None:
    for product_id in product_ids:
        in_stock = _in_stock(product_id)
        if (
            Product.objects.filter(pk=product_id)
            .exclude(in_stock=in_stock)
            .update(in_stock=in_stock)
        ):
            catalog_changed()


def category_create(
    *,
    slug: str,
    name: str,
    kind: str,
    parent_id: int | None = None,
    name_en: str = "",
    sort: int = 0,
) -> Category:
    category = Category(
        slug=slug, name=name, name_en=name_en, kind=kind, parent_id=parent_id, sort=sort
    )
    with transaction.atomic():
        category.path = category_path_for(category)
        category.save()
        catalog_changed()
    return category


def category_path_for(category: Category) -> str:
    parent_path = (
        Category.objects.filter(pk=category.parent_id).values_list("path", flat=True).first()
        if category.parent_id
        else None
    )
    return f"{parent_path}/{category.slug}" if parent_path else category.slug


def category_refresh_paths(*, category_id: int) -> None:
    """Recompute ``path`` for a category and its subtree after a move or a new slug."""
    with transaction.atomic():
        pending = [category_id]
        while pending:
            category = category_lock(category_id=pending.pop())
            category.path = category_path_for(category)
            category.save(update_fields=["path"])
            pending.extend(
                Category.objects.filter(parent_id=category.pk).values_list("pk", flat=True)
            )
        catalog_changed()


# --- Workbench writes: every change through a lock, an audit event and catalog_changed() ----

# Publishing is reversible; nothing goes back to draft once it has been on sale.
PRODUCT_TRANSITIONS: dict[str, frozenset[str]] = {
    Product.Status.DRAFT: frozenset({Product.Status.PUBLISHED, Product.Status.ARCHIVED}),
    Product.Status.PUBLISHED: frozenset({Product.Status.ARCHIVED}),
    Product.Status.ARCHIVED: frozenset({Product.Status.PUBLISHED}),
}
# Columns the workbench may not write directly: derived, or moved only by their own service.
_PRODUCT_GUARDED = frozenset({"status", "kind", "min_price_fen", "in_stock", "search_terms_a",
                              "search_terms_b", "search_text", "thumbnail", "created_at"})  # fmt: skip
_SKU_GUARDED = frozenset({"stock_on_hand", "stock_reserved", "product", "product_id"})


def _product_status_move(product: Product, status: str, actor_id: int | None) -> bool:
    """Move a locked product to ``status`` (a no-op when it is there already); caller saves."""
    if product.status == status:
        return False
    audited_transition(
        product, status, object_type="product", object_id=product.pk, actor_id=actor_id,
        refused=lambda d: ProductStatusRefused(details=d), transitions=PRODUCT_TRANSITIONS,
    )  # fmt: skip
    return True


def products_status_set(*, product_ids: list[int], status: str, actor_id: int | None) -> int:
    """Publish or take off sale many products (the workbench's actions); returns how many moved.

    Locks the product rows in primary-key order. Idempotent: a product already in ``status``
    is left alone. A move the table refuses raises ``ProductStatusRefused`` and moves none.
    Each move writes an audit event; derived fields, the index and cached pages follow.
    """
    with transaction.atomic():
        products = products_lock(product_ids=product_ids)
        moved = [p for p in products if _product_status_move(p, status, actor_id)]
        for product in moved:
            product.save(update_fields=["status", "updated_at"])
            product_refresh(product_id=product.pk)
    return len(moved)


def product_update(*, product_id: int, changes: dict[str, Any], actor_id: int | None) -> None:
    """Write a workbench edit of an existing product: plain fields, then the status move.

    Locks the product row; derived columns in ``changes`` are ignored (product_refresh
    recomputes them); a status change goes through the transition table with its audit event.
    Idempotent: writing the same values again changes nothing but ``updated_at``.
    """
    with transaction.atomic():
        product = product_lock(product_id=product_id)
        fields = sorted(set(changes) - _PRODUCT_GUARDED)
        for name in fields:
            setattr(product, name, changes[name])
        if "status" in changes:
            _product_status_move(product, changes["status"], actor_id)
            fields.append("status")
        product.save(update_fields=[*fields, "updated_at"])
        audit_record(action="product.updated", object_type="product", object_id=product_id,
                     actor_id=actor_id, after={"fields": fields})  # fmt: skip
        product_refresh(product_id=product_id)


def sku_update(*, sku_id: int, changes: dict[str, Any], actor_id: int | None) -> None:
    """Write a workbench edit of an existing SKU; ``stock_on_hand`` through the stock rules.

    Locks the SKU row, so a reservation committing meanwhile is never overwritten
    (``stock_reserved`` is never written here). Stock on hand below what unpaid orders hold
    raises ``StockBelowReserved`` and writes nothing. Audits the stock change; idempotent.
    """
    with transaction.atomic():
        sku = sku_lock(sku_id=sku_id)
        fields = sorted(set(changes) - _SKU_GUARDED)
        for name in fields:
            setattr(sku, name, changes[name])
        before = sku.stock_on_hand
        on_hand = changes.get("stock_on_hand", before)
        if on_hand != before:
            if on_hand < sku.stock_reserved:
                raise StockBelowReserved(
                    details={"reserved": sku.stock_reserved, "on_hand": on_hand}
                )
            sku.stock_on_hand = on_hand
            fields.append("stock_on_hand")
            audit_record(action="stock.set", object_type="sku", object_id=sku.pk, actor_id=actor_id,
                         before={"on_hand": before}, after={"on_hand": on_hand, "reason": "workbench"})  # fmt: skip
        if fields:
            sku.save(update_fields=fields)
        product_refresh(product_id=sku.product_id)
