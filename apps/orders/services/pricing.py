"""Orders' side of marketing's pricing: the lines marketing prices, from a cart or a checkout."""

from __future__ import annotations

from collections.abc import Sequence

from apps.catalog.selectors import SkuForSale
from apps.marketing.pricing import PriceLine
from apps.orders.models import CartLine


def price_lines(
    lines: Sequence[CartLine], skus: dict[int, SkuForSale], prices: dict[int, int]
) -> list[PriceLine]:
    """``prices``: each line's unit price by line key (a SIM card's includes its premium)."""
    return [
        PriceLine(
            key=int(line.pk or 0),
            product_id=skus[line.sku_id].product_id,
            category_path=skus[line.sku_id].category_path,
            unit_price_fen=prices[int(line.pk or 0)],
            quantity=line.quantity,
            sku_id=line.sku_id,
        )
        for line in lines
    ]
