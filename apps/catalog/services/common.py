"""What every catalog writer shares: the catalog version that cached pages are keyed by,
the description sanitiser, attribute validation and the in-stock test.

Every write that changes what a page shows ends by ``catalog_changed()``, which bumps the
catalog version on commit; cached pages are keyed by that version, so they go stale at once.
"""

from __future__ import annotations

from typing import Any

import nh3
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q

from apps.catalog.errors import InvalidAttributes
from apps.catalog.models import Sku

CATALOG_VERSION_KEY = "catalog:version"
_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "img",
    "a",
    "span",
}
_ALLOWED_ATTRIBUTES = {"img": {"src", "alt", "width", "height"}, "a": {"href", "title"}}


def catalog_changed() -> None:
    """Invalidate every cached catalog page once the current transaction commits."""

    def bump() -> None:
        try:
            cache.incr(CATALOG_VERSION_KEY)
        except ValueError:
            cache.set(CATALOG_VERSION_KEY, 2, timeout=None)

    transaction.on_commit(bump)


def sanitize_description(html: str) -> str:
    """Keep formatting and images, drop scripts, styles and event handlers."""
    return nh3.clean(html or "", tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES)


def validate_attributes(schema: list[dict[str, Any]], attributes: dict[str, Any]) -> dict[str, Any]:
    """Check ``attributes`` against a product type's schema; return them cleaned."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    known = {item["key"] for item in schema}
    for key in attributes:
        if key not in known:
            errors[key] = "unknown attribute"
    for item in schema:
        key, value = item["key"], attributes.get(item["key"])
        if value in (None, ""):
            if item.get("required"):
                errors[key] = "required"
            continue
        kind = item.get("type", "str")
        if kind == "int":
            try:
                value = int(value)
            except (TypeError, ValueError):
                errors[key] = "must be a whole number"
                continue
        elif kind == "choice" and value not in item.get("choices", []):
            errors[key] = f"must be one of {', '.join(map(str, item.get('choices', [])))}"
            continue
        else:
            value = str(value)
        cleaned[key] = value
    if errors:
        raise InvalidAttributes(details=errors)
    return cleaned


def _in_stock(product_id: int) -> bool:
    return (
        Sku.objects.filter(product_id=product_id, is_active=True)
        .filter(Q(tracks_stock=False) | Q(stock_on_hand__gt=F("stock_reserved")))
        .exists()
    )
