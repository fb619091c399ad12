"""The home page's reads: banners and shelves as they are scheduled now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from apps.catalog.models import Banner, Shelf, ShelfItem
from apps.catalog.selectors.common import (
    _CARD_FIELDS,
    CategoryNode,
    ProductCard,
    _card,
    _scheduled,
    category_tree,
)


@dataclass(frozen=True)
class ShelfView:
    title: str
    title_en: str
    products: list[ProductCard]


@dataclass(frozen=True)
class BannerView:
    title: str
    title_en: str
    subtitle: str
    image_url: str
    link: str
    colour: str


def _shelves(placement: str, now: datetime, category_id: int | None = None) -> list[ShelfView]:
    shelves = list(
        Shelf.objects.filter(_scheduled(now), placement=placement).filter(
            Q(category_id=category_id) if category_id else Q(category__isnull=True)
        )
    )
    if not shelves:
        return []
    items = (
        ShelfItem.objects.filter(shelf__in=shelves)
        .select_related("product")
        .only("shelf_id", "sort", *(f"product__{f}" for f in _CARD_FIELDS), "product__status",
              "product__on_shelf_at", "product__off_shelf_at")
        .order_by("shelf_id", "sort", "id")
    )  # fmt: skip
    by_shelf: dict[int, list[ProductCard]] = {s.pk: [] for s in shelves}
    for item in items:
        if item.product.is_on_shelf(now):
            by_shelf[item.shelf_id].append(_card(item.product))
    return [ShelfView(s.title, s.title_en, by_shelf[s.pk]) for s in shelves if by_shelf[s.pk]]


@dataclass(frozen=True)
class HomePage:
    banners: list[BannerView]
    shelves: list[ShelfView]
    categories: list[CategoryNode]


def home_page(*, now: datetime | None = None) -> HomePage:
    """Banners, home shelves and the category entry points, as they are scheduled now."""
    now = now or timezone.now()
    banners = [
        BannerView(
            b.title, b.title_en, b.subtitle, b.image.url if b.image else "", b.link, b.colour
        )
        for b in Banner.objects.filter(_scheduled(now))
    ]
    return HomePage(
        banners=banners, shelves=_shelves(Shelf.Placement.HOME, now), categories=category_tree()
    )
