"""Goods that another app owns and sells through the mall (content providers' products).

The owner keeps the truth (title, prices, review state); the catalog holds a product with a
first SKU, and one more SKU for each further price the owner sells it at
(``listing_variants_set``), so that the good is on the shelves, in search and on its own
product page like any other (the buyer picks a SKU there), and is bought through the ordinary
cart. The owner calls these whenever what the mall shows changes; the product type and
category of the kind are made on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from apps.catalog.locks import product_lock
from apps.catalog.models import Category, Kind, Product, ProductType, Sku
from apps.catalog.services.common import catalog_changed, sanitize_description
from apps.catalog.services.products import category_path_for, product_refresh

BILLING_SCHEMA = [{"key": "billing", "label": "计费方式", "type": "str", "required": False}]


@dataclass(frozen=True)
class Listing:
    product_id: int
    sku_id: int


def _kind_ensure(*, code: str, name: str, name_en: str) -> tuple[int, int]:
    """The product type and category of a digital kind (``video``...), made on first use."""
    product_type, _created = ProductType.objects.get_or_create(
        code=code, defaults={"name": name, "kind": Kind.DIGITAL, "attribute_schema": BILLING_SCHEMA}
    )
    category = Category.objects.filter(slug=code).first()
    if category is None:
        category = Category(slug=code, name=name, name_en=name_en, kind=Kind.DIGITAL)
        category.path = category_path_for(category)
        category.save()
    return product_type.pk, category.pk


def listing_upsert(
    *,
    listing: Listing | None,
    kind_code: str,
    kind_name: str,
    kind_name_en: str,
    sku_code: str,
    name: str,
    description: str,
    price_fen: int,
    billing: str,
    on_sale: bool,
    sku_name: str = "",
) -> Listing:
    """Create or update the catalog product that sells an owner's good; returns its ids.

    Locks the product row when it exists. Idempotent: the same values again change nothing
    but ``updated_at``. ``on_sale`` publishes it, otherwise it is archived (taken off sale,
    its page and past orders kept). Search and cached pages follow on commit. The first SKU
    is named ``sku_name`` (``billing`` when empty).
    """
    sku_name = sku_name or billing
    status = Product.Status.PUBLISHED if on_sale else Product.Status.ARCHIVED
    with transaction.atomic():
        if listing is None:
            type_id, category_id = _kind_ensure(
                code=kind_code, name=kind_name, name_en=kind_name_en
            )
            product = Product.objects.create(
                category_id=category_id, product_type_id=type_id, kind=Kind.DIGITAL, name=name[:120],
                description=sanitize_description(description), attributes={"billing": billing},
                status=status,
            )  # fmt: skip
            sku = Sku.objects.create(
                product=product, code=sku_code, name=sku_name[:120], price_fen=price_fen,
                list_price_fen=price_fen, tracks_stock=False,
            )  # fmt: skip
            listing = Listing(product_id=product.pk, sku_id=sku.pk)
        else:
            product = product_lock(product_id=listing.product_id)
            product.name = name[:120]
            product.description = sanitize_description(description)
            product.attributes = {"billing": billing}
            product.status = status
            product.save(
                update_fields=["name", "description", "attributes", "status", "updated_at"]
            )
            Sku.objects.filter(pk=listing.sku_id).update(
                price_fen=price_fen, list_price_fen=price_fen, name=sku_name[:120]
            )
        product_refresh(product_id=listing.product_id)
        catalog_changed()
    return listing


@dataclass(frozen=True)
class Variant:
    """A further SKU of a listing: ``sku_id`` None for a new one; ``active`` False hides it."""

    sku_id: int | None
    code: str
    name: str
    price_fen: int
    active: bool


def listing_variants_set(*, listing: Listing, variants: list[Variant]) -> list[int]:
    """Create or update a listing's further SKUs (beside its first); returns their ids in the
    order given. Locks the catalog product. An inactive variant stays (past orders name it)
    but cannot be bought. Idempotent."""
    ids: list[int] = []
    with transaction.atomic():
        product = product_lock(product_id=listing.product_id)
        for n, variant in enumerate(variants, start=1):
            values = {"name": variant.name[:120], "price_fen": variant.price_fen,
                      "list_price_fen": variant.price_fen, "is_active": variant.active, "sort": n}  # fmt: skip
            if variant.sku_id is None:
                sku = Sku.objects.create(
                    product=product, code=variant.code, tracks_stock=False, **values
                )
                ids.append(sku.pk)
            else:
                Sku.objects.filter(pk=variant.sku_id, product=product).update(**values)
                ids.append(variant.sku_id)
        product_refresh(product_id=product.pk)
        catalog_changed()
    return ids
