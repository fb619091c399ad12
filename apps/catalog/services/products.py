"""Products, their SKUs and derived fields, the search index, and categories."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, Min
from django.db.models.functions import Greatest

from apps.catalog import search
from apps.catalog.locks import category_lock, product_lock
from apps.catalog.models import Category, Product, ProductType, Sku
from apps.catalog.services.common import (
    _in_stock,
    catalog_changed,
    sanitize_description,
    validate_attributes,
)
from apps.catalog.services.images import _make_thumbnail
from apps.core.tasks import enqueue_on_commit


@dataclass(frozen=True)
class SkuSpec:
    code: str
    name: str
    price_fen: int
    list_price_fen: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    stock: int | None = None  # None: not stock-tracked (digital and electronic goods)
    name_en: str = ""  # English mode's name; empty: the Chinese one


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
                name_en=spec.name_en,
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
    """Add sold units to products' ``sales_count`` (product id -> units; negative for refunded
    units, never below 0): one F() update per product in pk order, run after the paying (or
    refunding) transaction commits (no lock held meanwhile)."""
    for product_id in sorted(units):
        Product.objects.filter(pk=product_id).update(
            sales_count=Greatest(F("sales_count") + units[product_id], 0)
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
