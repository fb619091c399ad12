"""Refusals of the cart, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import InvalidArgument, NotFound


class RecipientRequired(InvalidArgument):
    code = "RECIPIENT_REQUIRED"
    default_message = _("Enter the mobile number to recharge.")


class RecipientNotRechargeable(InvalidArgument):
    code = "RECIPIENT_NOT_RECHARGEABLE"
    default_message = _("This number cannot be recharged here.")


class InvalidQuantity(InvalidArgument):
    code = "INVALID_QUANTITY"
    default_message = _("Enter a quantity from 1 to 99.")


class CartLineNotFound(NotFound):
    code = "CART_LINE_NOT_FOUND"
    default_message = _("This item is not in your cart.")
