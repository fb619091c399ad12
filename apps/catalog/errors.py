"""Catalog refusals, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, InvalidArgument, NotFound


class ProductNotFound(NotFound):
    code = "PRODUCT_NOT_FOUND"
    default_message = _("This product does not exist or is not on sale.")


class SkuNotFound(NotFound):
    code = "SKU_NOT_FOUND"
    default_message = _("This item does not exist or is not on sale.")


class InvalidAttributes(InvalidArgument):
    code = "INVALID_ATTRIBUTES"
    default_message = _("The product's attributes do not match its type.")


class OutOfStock(Conflict):
    code = "OUT_OF_STOCK"
    default_message = _("Not enough stock.")


class PurchaseLimitExceeded(Conflict):
    code = "PURCHASE_LIMIT_EXCEEDED"
    default_message = _("You cannot buy more of this product.")


class ProductStatusRefused(Conflict):
    code = "PRODUCT_STATUS_REFUSED"
    default_message = _("The product cannot move to this status.")


class StockBelowReserved(Conflict):
    code = "STOCK_BELOW_RESERVED"
    default_message = _("Stock on hand cannot be set below what unpaid orders hold.")
