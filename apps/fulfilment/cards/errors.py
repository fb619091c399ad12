"""The refusals of card generation, redemption, sale and export, each with its code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, InvalidArgument, NotFound, TooManyRequests


class CardInvalid(InvalidArgument):
    code = "CARD_INVALID"
    default_message = _("The card number or PIN is wrong.")


class CardUnusable(Conflict):
    code = "CARD_UNUSABLE"
    default_message = _("This card has been used, frozen, voided, locked or has expired.")


class CardTriesExceeded(TooManyRequests):
    code = "CARD_TRIES_EXCEEDED"
    default_message = _("Too many card PINs tried. Try again later.")


class CardNeedsAccount(InvalidArgument):
    code = "CARD_NEEDS_ACCOUNT"
    default_message = _("Sign in to redeem a point card: its points go to your account.")


class CardConfirmationExpired(InvalidArgument):
    code = "CARD_CONFIRMATION_EXPIRED"
    default_message = _("This confirmation has expired or is not yours. Enter the card again.")


class CardNotFound(NotFound):
    code = "CARD_NOT_FOUND"
    default_message = _("No such card.")


class CardStateConflict(Conflict):
    code = "CARD_STATE_CONFLICT"
    default_message = _("The card or batch cannot do that in its current state.")


class CardBatchInvalid(InvalidArgument):
    code = "CARD_BATCH_INVALID"
    default_message = _("The batch's kind, value, quantity or SKU is not valid.")


class PrintFileGone(Conflict):
    code = "CARD_PRINT_FILE_GONE"
    default_message = _(
        "This batch's print file was already downloaded (or never kept); only card numbers "
        "and states can be exported now."
    )
