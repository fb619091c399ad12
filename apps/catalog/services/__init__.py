"""Catalog writes: products and their derived fields, the search index, pictures, stock
reservations and the workbench's edits, one module each; every name is importable from here.

Every write that changes what a page shows ends by ``catalog_changed()``, which bumps the
catalog version on commit; cached pages are keyed by that version, so they go stale at once.
"""

from __future__ import annotations

from apps.catalog.services.common import (
    CATALOG_VERSION_KEY,
    catalog_changed,
    sanitize_description,
    validate_attributes,
)
from apps.catalog.services.images import (
    BANNER_SIZE,
    IMAGE_SIZE,
    THUMBNAIL_SIZE,
    banner_image_set,
    product_image_set,
)
from apps.catalog.services.listings import Listing, Variant, listing_upsert, listing_variants_set
from apps.catalog.services.products import (
    SkuSpec,
    category_create,
    category_path_for,
    category_refresh_paths,
    product_create,
    product_refresh,
    product_reindex,
    products_reindex,
    products_sales_flush,
    products_sold,
)
from apps.catalog.services.stock import (
    stock_commit,
    stock_on_hand_set,
    stock_release,
    stock_reserve,
    stock_restock,
)
from apps.catalog.services.workbench import (
    PRODUCT_TRANSITIONS,
    product_update,
    products_status_set,
    sku_update,
)

__all__ = [
    "BANNER_SIZE",
    "CATALOG_VERSION_KEY",
    "IMAGE_SIZE",
    "PRODUCT_TRANSITIONS",
    "THUMBNAIL_SIZE",
    "Listing",
    "SkuSpec",
    "Variant",
    "banner_image_set",
    "catalog_changed",
    "category_create",
    "category_path_for",
    "category_refresh_paths",
    "listing_upsert",
    "listing_variants_set",
    "product_create",
    "product_image_set",
    "product_refresh",
    "product_reindex",
    "product_update",
    "products_reindex",
    "products_sales_flush",
    "products_sold",
    "products_status_set",
    "sanitize_description",
    "sku_update",
    "stock_commit",
    "stock_on_hand_set",
    "stock_release",
    "stock_reserve",
    "stock_restock",
    "validate_attributes",
]
