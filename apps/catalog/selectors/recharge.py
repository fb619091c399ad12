"""Reads for the recharge box (both grids, no personal data) and the points page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from apps.catalog.models import Product, Sku
from apps.catalog.selectors.common import _CARD_FIELDS, ProductCard, _card, on_shelf

RECHARGE_FACE_VALUES = (10, 20, 30, 50, 100, 200, 300, 500)
RECHARGE_TABS = ("airtime", "data")


@dataclass(frozen=True)
class RechargeOffer:
    """One square of the recharge grid: what it gives, and what it costs after any discount."""

    sku_id: int
    label: str  # "100元", "10GB"
    note: str  # "30天 全国", or "" for airtime
    price_fen: int
    list_price_fen: int
    # English mode's words ("100 yuan", "30 days, nationwide").
    label_en: str = ""
    note_en: str = ""


def _recharge_grids(now: datetime | None = None) -> dict[str, list[RechargeOffer]]:
    """Both grids of the recharge box: per face value the cheapest airtime SKU on sale, per
    volume the cheapest national 30-day data pack. Ties go to the oldest product, so the
    national product wins over a provincial one at the same price (fulfilment routes every
    recharge to the number's home province anyway).

    Each grid is one ``DISTINCT ON`` query answering one row per square: the catalog holds
    thousands of recharge SKUs (one per province and face value, ...), and building every one
    of them in Python cost the home page's render about a second at 100,000 products, a
    spike of every stale re-render (issue #18).
    """
    on_sale = Sku.objects.filter(is_active=True, product__in=Product.objects.filter(on_shelf(now)))
    order = ("key", "price_fen", "product_id", "id")
    airtime = (
        on_sale.filter(
            product__product_type__code="airtime",
            product__attributes__face_value__in=RECHARGE_FACE_VALUES,
        )
        .annotate(key=KeyTextTransform("face_value", "product__attributes"))
        .order_by(*order)
        .distinct("key")
        .values_list("pk", "price_fen", "list_price_fen", "product_id", "key")
    )
    data = (
        on_sale.filter(
            product__product_type__code="data_pack",
            product__attributes__scope="全国",
            product__attributes__validity_days=30,
        )
        .annotate(
            key=Coalesce(
                KeyTextTransform("volume", "product__attributes"),
                F("name"),
                output_field=TextField(),
            )
        )
        .order_by(*order)
        .distinct("key")
        .values_list("pk", "price_fen", "list_price_fen", "product_id", "key")
    )
    # Sorted as the squares read: airtime by face value, data by price (ties: oldest product).
    airtime_rows = sorted(airtime, key=lambda r: (float(r[4]), r[1], r[3], r[0]))
    data_rows = sorted(data, key=lambda r: (r[1], r[3], r[0]))
    return {
        "airtime": [
            RechargeOffer(pk, f"{_face(key)}元", "", price, listed, f"{_face(key)} yuan")
            for pk, price, listed, _product, key in airtime_rows
        ],
        "data": [
            RechargeOffer(pk, key, "30天 全国", price, listed, key, "30 days, nationwide")
            for pk, price, listed, _product, key in data_rows
        ],
    }


def _face(key: str) -> str:
    """A face value as the grid writes it ("100"), from its JSON text."""
    value = float(key)
    return str(int(value)) if value.is_integer() else key


def recharge_offers(*, tab: str, now: datetime | None = None) -> list[RechargeOffer]:
    """One grid of the recharge box ("airtime" or "data")."""
    return _recharge_grids(now)[tab if tab in RECHARGE_TABS else "airtime"]


@dataclass(frozen=True)
class RechargeBox:
    """The recharge box as everyone sees it (no personal data: cached pages carry it)."""

    tab: str
    airtime: list[RechargeOffer]
    data: list[RechargeOffer]
    # The square chosen in each grid: the one asked for, else 100元 and the 10GB pack, the
    # most bought, so that 立即充值 alone is one tap.
    airtime_pick: int
    data_pick: int


def _pick(offers: list[RechargeOffer], selected: int, usual: str) -> int:
    ids = [o.sku_id for o in offers]
    if selected in ids:
        return selected
    usual_ids = [o.sku_id for o in offers if o.label == usual]
    return (usual_ids or ids or [0])[0]


def recharge_box(*, tab: str = "airtime", selected_sku: int = 0) -> RechargeBox:
    grids = _recharge_grids()
    airtime, data = grids["airtime"], grids["data"]
    return RechargeBox(
        tab=tab if tab in RECHARGE_TABS else "airtime",
        airtime=airtime,
        data=data,
        airtime_pick=_pick(airtime, selected_sku, "100元"),
        data_pick=_pick(data, selected_sku, "10GB"),
    )


def affordable_with_points(*, points: int, limit: int = 8) -> list[ProductCard]:
    """Best-selling products on sale whose lowest price the points pay in full (1 point = 1
    fen), dearest first: what the points page suggests."""
    if points <= 0:
        return []
    rows = (
        Product.objects.filter(
            on_shelf(), in_stock=True, min_price_fen__gt=0, min_price_fen__lte=points
        )
        .only(*_CARD_FIELDS)
        .order_by("-min_price_fen", "-sales_count", "id")[:limit]
    )
    return [_card(p) for p in rows]
