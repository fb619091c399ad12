"""Products, their SKUs and derived fields, the search index, and categories."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
from django.db import connection, transaction
from django.db.models import Min

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
from apps.core.redis import get_redis
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
    """Count sold units towards products' ``sales_count`` (product id -> units; negative for
    refunded units), after the paying (or refunding) transaction commits.

    Issue #18: not a statement of the paying request any more. The units are added to a Redis
    hash (one round trip) and ``products_sales_flush`` (beat, every
    ``CATALOG_SALES_FLUSH_SECONDS``) writes them in one UPDATE; when Redis cannot take them,
    they are written at once as before. The count only orders listings ("best sellers"), so a
    few seconds' delay is harmless; a crash between the two loses at most that window's units.
    """
    units = {pk: n for pk, n in units.items() if n}
    if not units:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for product_id, n in units.items():
            pipe.hincrby(_sales_key(), str(product_id), n)
        pipe.execute()
    except redis.RedisError:
        _sales_write(units)


def products_sales_flush() -> int:
    """Write the sales counted in Redis since the last flush (one UPDATE); returns how many
    products moved. Safe to run concurrently: the pending hash is taken atomically."""
    key = _sales_key()
    taking = f"{key}:flushing:{uuid.uuid4().hex}"
    client = get_redis()
    try:
        client.rename(key, taking)
    except redis.ResponseError:
        return 0  # nothing pending (no such key)
    pending = {int(k): int(v) for k, v in client.hgetall(taking).items()}
    try:
        _sales_write(pending)
    except Exception:
        pipe = client.pipeline(transaction=False)  # put them back for the next flush
        for product_id, n in pending.items():
            pipe.hincrby(key, str(product_id), n)
        pipe.delete(taking)
        pipe.execute()
        raise
    client.delete(taking)
    return len(pending)


def _sales_key() -> str:
    # Per database: test databases (and several deployments) may share one Redis.
    return f"catalog:sales_pending:{connection.settings_dict['NAME']}"


def _sales_write(units: dict[int, int]) -> None:
    """Add ``units`` to the products' counts in one statement, never below 0."""
    ids = sorted(pk for pk, n in units.items() if n)
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Product._meta.db_table} AS p
                   SET sales_count = GREATEST(p.sales_count + d.n, 0)
                  FROM unnest(%s::bigint[], %s::bigint[]) AS d(id, n)
                 WHERE p.id = d.id""",  # noqa: S608 - the table name is the model's
            [ids, [units[pk] for pk in ids]],
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
