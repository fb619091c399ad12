"""What other apps need of a SKU or product: for sale (cart, checkout) and for delivery."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Subquery

from apps.catalog.errors import SkuNotFound
from apps.catalog.models import Product, Sku, StockReservation


@dataclass(frozen=True)
class SkuForSale:
    """What the cart and checkout need to know about a SKU."""

    sku_id: int
    product_id: int
    product_name: str
    sku_name: str
    price_fen: int
    kind: str
    needs_recipient_number: bool
    per_user_limit: int | None
    stock_available: int | None
    thumbnail_url: str
    # The product type's code: SIM cards ("sim") need a number chosen from the pool.
    type_code: str = ""
    # English mode's names; empty: the Chinese ones.
    product_name_en: str = ""
    sku_name_en: str = ""
    # The category's path (``electronic/data``): marketing's rules cover products or subtrees.
    category_path: str = ""


def skus_for_sale(*, sku_ids: list[int], now: datetime | None = None) -> dict[int, SkuForSale]:
    """SKUs on sale now, by id (one query); missing ids are not on sale."""
    rows = Sku.objects.filter(pk__in=sku_ids, is_active=True).select_related(*FOR_SALE_RELATED)
    return skus_for_sale_of(rows, now=now)


# What ``skus_for_sale_of`` reads through a SKU: another app's query that holds the SKU as a
# foreign key (a cart line's ``sku``) selects these (``select_related``, prefixed with its
# field) and reads its rows and their SKUs for sale in one statement (issue #18).
FOR_SALE_RELATED = ("product", "product__product_type", "product__category")


def skus_for_sale_of(skus: Iterable[Sku], *, now: datetime | None = None) -> dict[int, SkuForSale]:
    """The SKUs among ``skus`` (loaded with ``FOR_SALE_RELATED``) that are on sale now, by id."""
    result: dict[int, SkuForSale] = {}
    for s in skus:
        if not s.is_active or not s.product.is_on_shelf(now):
            continue
        result[s.pk] = SkuForSale(
            sku_id=s.pk,
            product_id=s.product_id,
            product_name=s.product.name,
            sku_name=s.name,
            price_fen=s.price_fen,
            kind=s.product.kind,
            needs_recipient_number=s.product.product_type.needs_recipient_number,
            per_user_limit=s.product.per_user_limit,
            stock_available=s.stock_available if s.tracks_stock else None,
            thumbnail_url=s.product.thumbnail.url if s.product.thumbnail else "",
            type_code=s.product.product_type.code,
            product_name_en=s.product.name_en,
            sku_name_en=s.name_en,
            category_path=s.product.category.path if s.product.category_id else "",
        )
    return result


def sku_for_sale(*, sku_id: int) -> SkuForSale:
    found = skus_for_sale(sku_ids=[sku_id]).get(sku_id)
    if found is None:
        raise SkuNotFound()
    return found


@dataclass(frozen=True)
class DeliverySpec:
    """What fulfilment needs to know about a product: its type and typed attributes."""

    product_id: int
    type_code: str
    attributes: dict[str, object]


def delivery_specs(*, product_ids: list[int]) -> dict[int, DeliverySpec]:
    """By product id, on sale or not (an order may outlive the product's shelf time)."""
    rows = (
        Product.objects.filter(pk__in=product_ids)
        .select_related("product_type")
        .only("id", "attributes", "product_type__code")
    )
    return {p.pk: DeliverySpec(p.pk, p.product_type.code, p.attributes) for p in rows}


def delivery_spec_columns(*, product_id: str) -> dict[str, Any]:
    """The delivery spec as columns of another app's query (issue #18: the paying transaction
    reads its lines and their specs in one statement): ``spec_type_code`` and
    ``spec_attributes`` of the product whose id is the outer field ``product_id``."""
    product = Product.objects.filter(pk=OuterRef(product_id))
    return {
        "spec_type_code": Subquery(product.values("product_type__code")[:1]),
        "spec_attributes": Subquery(product.values("attributes")[:1]),
    }


def stock_held_column(*, reference: str) -> Exists:
    """Whether stock is still held under ``reference`` (a column of another app's query: the
    paying transaction settles stock only when some is held)."""
    return Exists(
        StockReservation.objects.filter(reference=reference, status=StockReservation.Status.HELD)
    )


def sku_delivery_spec(*, sku_id: int) -> DeliverySpec | None:
    """The delivery spec of a SKU's product, on sale or not; None for an unknown SKU."""
    sku = Sku.objects.select_related("product__product_type").filter(pk=sku_id).first()
    if sku is None:
        return None
    product = sku.product
    return DeliverySpec(product.pk, product.product_type.code, product.attributes)


@dataclass(frozen=True)
class DataPackSpec:
    """A data-pack SKU as bulk distribution needs it: what to provision and its price."""

    code: str
    name: str
    price_fen: int
    volume: str  # as the product states it: "1GB", "500MB"
    validity_days: int


def data_packs_by_code(*, codes: list[str]) -> dict[str, DataPackSpec]:
    """Active data-pack SKUs by SKU code (one query); unknown or inactive codes are missing."""
    rows = Sku.objects.filter(
        code__in=codes, is_active=True, product__product_type__code="data_pack"
    ).select_related("product")
    return {
        s.code: DataPackSpec(
            code=s.code,
            name=f"{s.product.name} {s.name}".strip(),
            price_fen=s.price_fen,
            volume=str(s.product.attributes.get("volume", "")),
            validity_days=int(s.product.attributes.get("validity_days", 0) or 0),
        )
        for s in rows
    }
