"""Catalog reads for the mall, the API and other apps: plain data, related rows loaded up front.

A package since it grew past one screenful; every public name is importable from here as
before (``from apps.catalog.selectors import skus_for_sale``).
"""

from apps.catalog.selectors.common import (
    CategoryNode,
    ProductCard,
    catalog_version,
    category_tree,
    on_shelf,
)
from apps.catalog.selectors.detail import ProductDetail, SkuView, product_detail
from apps.catalog.selectors.pages import BannerView, HomePage, ShelfView, home_page
from apps.catalog.selectors.recharge import (
    RECHARGE_FACE_VALUES,
    RECHARGE_TABS,
    RechargeBox,
    RechargeOffer,
    affordable_with_points,
    recharge_box,
    recharge_offers,
)
from apps.catalog.selectors.sales import (
    FOR_SALE_RELATED,
    DataPackSpec,
    DeliverySpec,
    SkuForSale,
    data_packs_by_code,
    delivery_spec_columns,
    delivery_specs,
    sku_delivery_spec,
    sku_for_sale,
    skus_for_sale,
    skus_for_sale_of,
    stock_held_column,
)
from apps.catalog.selectors.search import (
    MAX_PAGE,
    PAGE_SIZE,
    RESULT_POOL,
    SORTS,
    TRIGRAM_THRESHOLD,
    Facet,
    SearchFilters,
    SearchResult,
    normalised_query,
    product_search,
    result_cache_key,
    suggest,
)

__all__ = [
    "FOR_SALE_RELATED",
    "MAX_PAGE",
    "PAGE_SIZE",
    "RECHARGE_FACE_VALUES",
    "RECHARGE_TABS",
    "RESULT_POOL",
    "SORTS",
    "TRIGRAM_THRESHOLD",
    "BannerView",
    "CategoryNode",
    "DataPackSpec",
    "DeliverySpec",
    "Facet",
    "HomePage",
    "ProductCard",
    "ProductDetail",
    "RechargeBox",
    "RechargeOffer",
    "SearchFilters",
    "SearchResult",
    "ShelfView",
    "SkuForSale",
    "SkuView",
    "affordable_with_points",
    "catalog_version",
    "category_tree",
    "data_packs_by_code",
    "delivery_spec_columns",
    "delivery_specs",
    "home_page",
    "normalised_query",
    "on_shelf",
    "product_detail",
    "product_search",
    "recharge_box",
    "recharge_offers",
    "result_cache_key",
    "sku_delivery_spec",
    "sku_for_sale",
    "skus_for_sale",
    "skus_for_sale_of",
    "stock_held_column",
    "suggest",
]
