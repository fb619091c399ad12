"""Row locks of the catalog app: named helpers, several rows always taken in primary-key order.

The one global lock order every path of the platform follows (a path may skip a level but never
goes back up one; docs/architecture.md, "Transactions and locks"):

    user → cart → order → stock → SIM numbers → payment intent → refund → ledger balances

"Stock" is the catalog's level, and inside it the order is

    stock reservation → SKU → product        (categories: on their own, one at a time)

Settling a reference locks its reservations (in SKU order), then their SKUs; a stock change
ends by updating its products' ``in_stock``; a workbench SKU edit locks the SKU, then refreshes
its product. Several SKUs or products are taken in primary-key order. Callers hold a
transaction open; nothing here makes a network call.
"""

from __future__ import annotations

from collections.abc import Iterable

from apps.catalog.models import Category, Product, Sku, StockReservation


def reservations_lock_held(*, reference: str) -> list[StockReservation]:
    """Lock the stock still held under ``reference``, in SKU order."""
    return list(
        StockReservation.objects.select_for_update()
        .filter(reference=reference, status=StockReservation.Status.HELD)
        .order_by("sku_id")
    )


def skus_lock(*, sku_ids: Iterable[int], tracking_only: bool = False) -> list[Sku]:
    """Lock these SKUs (only those that track stock, with ``tracking_only``), in pk order."""
    found = Sku.objects.select_for_update().filter(pk__in=sku_ids)
    if tracking_only:
        found = found.filter(tracks_stock=True)
    return list(found.order_by("pk"))


def sku_lock(*, sku_id: int) -> Sku:
    """Lock one SKU (``Sku.DoesNotExist`` if there is none)."""
    return Sku.objects.select_for_update().get(pk=sku_id)


def sku_lock_tracking(*, sku_id: int) -> Sku | None:
    """Lock one SKU that tracks stock; None if there is none."""
    return Sku.objects.select_for_update().filter(pk=sku_id, tracks_stock=True).first()


def product_lock(*, product_id: int, with_type: bool = False) -> Product:
    """Lock one product (``Product.DoesNotExist`` if there is none); ``with_type`` reads its
    product type in the same query without locking it."""
    if with_type:
        return (
            Product.objects.select_related("product_type")
            .select_for_update(of=("self",))
            .get(pk=product_id)
        )
    return Product.objects.select_for_update().get(pk=product_id)


def products_lock(*, product_ids: Iterable[int]) -> list[Product]:
    """Lock these products, in primary-key order."""
    return list(Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk"))


def category_lock(*, category_id: int) -> Category:
    """Lock one category (``Category.DoesNotExist`` if there is none)."""
    return Category.objects.select_for_update().get(pk=category_id)
