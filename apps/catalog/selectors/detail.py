"""A product's page: the product on sale with its active SKUs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apps.catalog.errors import ProductNotFound
from apps.catalog.models import Product, Sku
from apps.catalog.selectors.common import CategoryNode, on_shelf


@dataclass(frozen=True)
class SkuView:
    id: int
    code: str
    name: str
    name_en: str
    price_fen: int
    list_price_fen: int
    attributes: dict[str, object]
    stock_available: int | None  # None: not stock-tracked
    low_stock: bool


@dataclass(frozen=True)
class ProductDetail:
    id: int
    name: str
    name_en: str
    subtitle: str
    description: str
    kind: str
    type_code: str
    type_name: str
    needs_recipient_number: bool
    attributes: list[tuple[str, str]]
    image_url: str
    category: CategoryNode
    parent_category: CategoryNode | None
    skus: list[SkuView]
    per_user_limit: int | None
    owner_id: int | None
    min_price_fen: int
    subtitle_en: str = ""
    attributes_en: list[tuple[str, str]] = field(default_factory=list)


def _attribute_text(item: dict[str, Any], value: object, *, english: bool = False) -> str:
    """An attribute as buyers read it: a choice's label (``recharge`` → 话费卡) and the unit.

    In English the item's ``choice_labels_en`` and ``unit_en`` are used, falling back to the
    Chinese words when the schema has none.
    """
    labels = item.get("choice_labels") or {}
    text, unit = labels.get(value, value), item.get("unit", "")
    if english:
        text = (item.get("choice_labels_en") or {}).get(value, text)
        unit = item.get("unit_en", "") or unit
    return f"{text}{unit}"


def _attributes(
    schema: dict[str, dict[str, Any]], values: dict[str, Any], *, english: bool
) -> list[tuple[str, str]]:
    rows = []
    for key, value in values.items():
        item = schema.get(key, {})
        label = str((english and item.get("label_en")) or item.get("label", key))
        rows.append((label, _attribute_text(item, value, english=english)))
    return rows


def product_detail(*, product_id: int, now: datetime | None = None) -> ProductDetail:
    """A product on sale with its active SKUs (three queries). Raises ``ProductNotFound``."""
    product = (
        Product.objects.filter(on_shelf(now), pk=product_id)
        .select_related("category", "category__parent", "product_type")
        .first()
    )
    if product is None:
        raise ProductNotFound()
    skus = list(Sku.objects.filter(product_id=product_id, is_active=True))
    schema = {item["key"]: item for item in product.product_type.attribute_schema}
    c, parent = product.category, product.category.parent
    return ProductDetail(
        id=product.pk,
        name=product.name,
        name_en=product.name_en,
        subtitle=product.subtitle,
        description=product.description,
        kind=product.kind,
        type_code=product.product_type.code,
        type_name=product.product_type.name,
        needs_recipient_number=product.product_type.needs_recipient_number,
        attributes=_attributes(schema, product.attributes, english=False),
        image_url=product.image.url if product.image else "",
        category=CategoryNode(c.pk, c.slug, c.name, c.name_en, c.kind),
        parent_category=CategoryNode(
            parent.pk, parent.slug, parent.name, parent.name_en, parent.kind
        )
        if parent
        else None,
        skus=[
            SkuView(
                id=s.pk,
                code=s.code,
                name=s.name,
                name_en=s.name_en,
                price_fen=s.price_fen,
                list_price_fen=s.list_price_fen,
                attributes=s.attributes,
                stock_available=s.stock_available if s.tracks_stock else None,
                low_stock=s.is_low_stock,
            )
            for s in skus
        ],
        per_user_limit=product.per_user_limit,
        owner_id=product.owner_id,
        min_price_fen=product.min_price_fen,
        subtitle_en=product.subtitle_en,
        attributes_en=_attributes(schema, product.attributes, english=True),
    )
