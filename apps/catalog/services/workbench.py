"""Workbench writes: every change through a lock, an audit event and ``catalog_changed()``
(through ``product_refresh``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.catalog.errors import ProductStatusRefused, StockBelowReserved
from apps.catalog.locks import product_lock, products_lock, sku_lock
from apps.catalog.models import Product
from apps.catalog.services.products import product_refresh
from apps.core.audit import audit_record, audited_transition

PRODUCT_TRANSITIONS: dict[str, frozenset[str]] = {
    Product.Status.DRAFT: frozenset({Product.Status.PUBLISHED, Product.Status.ARCHIVED}),
    Product.Status.PUBLISHED: frozenset({Product.Status.ARCHIVED}),
    Product.Status.ARCHIVED: frozenset({Product.Status.PUBLISHED}),
}
# Columns the workbench may not write directly: derived, or moved only by their own service.
_PRODUCT_GUARDED = frozenset({"status", "kind", "min_price_fen", "in_stock", "search_terms_a",
                              "search_terms_b", "search_text", "thumbnail", "created_at"})  # fmt: skip
_SKU_GUARDED = frozenset({"stock_on_hand", "stock_reserved", "product", "product_id"})


def _product_status_move(product: Product, status: str, actor_id: int | None) -> bool:
    """Move a locked product to ``status`` (a no-op when it is there already); caller saves."""
    if product.status == status:
        return False
    audited_transition(
        product, status, object_type="product", object_id=product.pk, actor_id=actor_id,
        refused=lambda d: ProductStatusRefused(details=d), transitions=PRODUCT_TRANSITIONS,
    )  # fmt: skip
    return True


def products_status_set(*, product_ids: list[int], status: str, actor_id: int | None) -> int:
    """Publish or take off sale many products (the workbench's actions); returns how many moved.

    Locks the product rows in primary-key order. Idempotent: a product already in ``status``
    is left alone. A move the table refuses raises ``ProductStatusRefused`` and moves none.
    Each move writes an audit event; derived fields, the index and cached pages follow.
    """
    with transaction.atomic():
        products = products_lock(product_ids=product_ids)
        moved = [p for p in products if _product_status_move(p, status, actor_id)]
        for product in moved:
            product.save(update_fields=["status", "updated_at"])
            product_refresh(product_id=product.pk)
    return len(moved)


def product_update(*, product_id: int, changes: dict[str, Any], actor_id: int | None) -> None:
    """Write a workbench edit of an existing product: plain fields, then the status move.

    Locks the product row; derived columns in ``changes`` are ignored (product_refresh
    recomputes them); a status change goes through the transition table with its audit event.
    Idempotent: writing the same values again changes nothing but ``updated_at``.
    """
    with transaction.atomic():
        product = product_lock(product_id=product_id)
        fields = sorted(set(changes) - _PRODUCT_GUARDED)
        for name in fields:
            setattr(product, name, changes[name])
        if "status" in changes:
            _product_status_move(product, changes["status"], actor_id)
            fields.append("status")
        product.save(update_fields=[*fields, "updated_at"])
        audit_record(action="product.updated", object_type="product", object_id=product_id,
                     actor_id=actor_id, after={"fields": fields})  # fmt: skip
        product_refresh(product_id=product_id)


def sku_update(*, sku_id: int, changes: dict[str, Any], actor_id: int | None) -> None:
    """Write a workbench edit of an existing SKU; ``stock_on_hand`` through the stock rules.

    Locks the SKU row, so a reservation committing meanwhile is never overwritten
    (``stock_reserved`` is never written here). Stock on hand below what unpaid orders hold
    raises ``StockBelowReserved`` and writes nothing. Audits the stock change; idempotent.
    """
    with transaction.atomic():
        sku = sku_lock(sku_id=sku_id)
        fields = sorted(set(changes) - _SKU_GUARDED)
        for name in fields:
            setattr(sku, name, changes[name])
        before = sku.stock_on_hand
        on_hand = changes.get("stock_on_hand", before)
        if on_hand != before:
            if on_hand < sku.stock_reserved:
                raise StockBelowReserved(
                    details={"reserved": sku.stock_reserved, "on_hand": on_hand}
                )
            sku.stock_on_hand = on_hand
            fields.append("stock_on_hand")
            audit_record(action="stock.set", object_type="sku", object_id=sku.pk, actor_id=actor_id,
                         before={"on_hand": before}, after={"on_hand": on_hand, "reason": "workbench"})  # fmt: skip
        if fields:
            sku.save(update_fields=fields)
        product_refresh(product_id=sku.product_id)
