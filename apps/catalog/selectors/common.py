"""Reads shared by the catalog's selectors: the catalog version, what is on shelf, cards, categories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from apps.catalog import search
from apps.catalog.models import Category, Product
from apps.catalog.services import CATALOG_VERSION_KEY


def catalog_version() -> int:
    """Bumped on every catalog change; part of every cached page's key."""
    return int(cache.get(CATALOG_VERSION_KEY) or 1)


def on_shelf(now: datetime | None = None) -> Q:
    now = now or timezone.now()
    return (
        Q(status=Product.Status.PUBLISHED)
        & (Q(on_shelf_at__isnull=True) | Q(on_shelf_at__lte=now))
        & (Q(off_shelf_at__isnull=True) | Q(off_shelf_at__gt=now))
    )


def _scheduled(now: datetime) -> Q:
    return (
        Q(is_active=True)
        & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )


@dataclass(frozen=True)
class ProductCard:
    id: int
    name: str
    name_en: str
    subtitle: str
    kind: str
    min_price_fen: int
    thumbnail_url: str
    in_stock: bool
    highlighted_name: str = ""
    subtitle_en: str = ""


_CARD_FIELDS = (
    "id",
    "name",
    "name_en",
    "subtitle",
    "subtitle_en",
    "kind",
    "min_price_fen",
    "thumbnail",
    "in_stock",
)


def _card(product: Product, query: str = "") -> ProductCard:
    return ProductCard(
        id=product.pk,
        name=product.name,
        name_en=product.name_en,
        subtitle=product.subtitle,
        kind=product.kind,
        min_price_fen=product.min_price_fen,
        thumbnail_url=product.thumbnail.url if product.thumbnail else "",
        in_stock=product.in_stock,
        highlighted_name=search.highlight(product.name, query) if query else "",
        subtitle_en=product.subtitle_en,
    )


@dataclass(frozen=True)
class CategoryNode:
    id: int
    slug: str
    name: str
    name_en: str
    kind: str
    children: list[CategoryNode] = field(default_factory=list)


def category_tree() -> list[CategoryNode]:
    """Active categories as a tree, in one query."""
    rows = list(Category.objects.filter(is_active=True).order_by("sort", "id"))
    nodes = {c.pk: CategoryNode(c.pk, c.slug, c.name, c.name_en, c.kind) for c in rows}
    roots: list[CategoryNode] = []
    for c in rows:
        if c.parent_id and c.parent_id in nodes:
            nodes[c.parent_id].children.append(nodes[c.pk])
        elif not c.parent_id:
            roots.append(nodes[c.pk])
    return roots
