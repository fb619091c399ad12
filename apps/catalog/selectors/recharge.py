"""Reads for the recharge box (both grids, no personal data) and the points page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


_RECHARGE_TYPES = {"airtime": "airtime", "data_pack": "data"}


def _recharge_grids(now: datetime | None = None) -> dict[str, list[RechargeOffer]]:
    """Both grids of the recharge box in one query: per face value the cheapest airtime SKU
    on sale, per volume the cheapest national 30-day data pack. Ties go to the oldest
    product, so the national product wins over a provincial one at the same price
    (fulfilment routes every recharge to the number's home province anyway).
    """
    rows = (
        Sku.objects.filter(
            is_active=True,
            product__product_type__code__in=_RECHARGE_TYPES,
            product__in=Product.objects.filter(on_shelf(now)),
        )
        .select_related("product__product_type")
        .order_by("price_fen", "product_id", "id")
    )
    best: dict[str, dict[str, tuple[int, RechargeOffer]]] = {"airtime": {}, "data": {}}
    for sku in rows:
        tab, attrs = _RECHARGE_TYPES[sku.product.product_type.code], sku.product.attributes
        if tab == "airtime":
            value = attrs.get("face_value")
            if value not in RECHARGE_FACE_VALUES:
                continue
            key, note, rank = f"{value}元", "", int(value)
            key_en, note_en = f"{value} yuan", ""
        else:
            if attrs.get("scope") != "全国" or attrs.get("validity_days") != 30:
                continue
            key, note, rank = str(attrs.get("volume", sku.name)), "30天 全国", sku.price_fen
            key_en, note_en = key, "30 days, nationwide"
        if key not in best[tab]:
            offer = RechargeOffer(
                sku.pk, key, note, sku.price_fen, sku.list_price_fen, key_en, note_en
            )
            best[tab][key] = (rank, offer)
    return {
        tab: [offer for _rank, offer in sorted(found.values(), key=lambda pair: pair[0])]
        for tab, found in best.items()
    }


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
