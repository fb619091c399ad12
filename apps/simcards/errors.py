"""What can go wrong choosing, holding and registering a number, each with its code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, InvalidArgument, NotFound


class NumberNotFound(NotFound):
    code = "SIM_NUMBER_NOT_FOUND"
    default_message = _("This number is not in our pool.")


class NumberTaken(Conflict):
    code = "SIM_NUMBER_TAKEN"
    default_message = _("Someone else has just chosen this number. Please choose another.")


class NumberOnYourOrder(Conflict):
    code = "SIM_NUMBER_ON_YOUR_ORDER"
    default_message = _("This number is already on one of your unpaid orders.")


class HoldExpired(Conflict):
    code = "SIM_HOLD_EXPIRED"
    default_message = _(
        "The number in your cart is no longer held for you. Remove it and choose a number again."
    )


class TooManyHolds(Conflict):
    code = "SIM_TOO_MANY_HOLDS"
    default_message = _("You are already holding as many numbers as allowed.")


class SignInToChoose(DomainError):
    code = "SIM_SIGN_IN_REQUIRED"
    http_status = 401
    default_message = _("Sign in to choose a number.")


class NumberRequired(InvalidArgument):
    code = "SIM_NUMBER_REQUIRED"
    default_message = _("Choose a number for the SIM card first.")


class RealNameRequired(InvalidArgument):
    code = "REAL_NAME_REQUIRED"
    default_message = _("A SIM card is registered to its owner: enter your name and ID number.")


class RealNameMismatch(InvalidArgument):
    code = "REAL_NAME_MISMATCH"
    http_status = 422
    default_message = _(
        "The name and ID number do not match the national identity register. Check both and try again."
    )


class IdNumberLimitReached(Conflict):
    code = "ID_NUMBER_LIMIT_REACHED"
    default_message = _(
        "This ID number already holds the most mobile numbers allowed (%(limit)s across all carriers)."
    )


class SearchTooBroad(InvalidArgument):
    code = "SIM_SEARCH_INVALID"
    default_message = _("Search with digits only: a prefix, an ending or digits it contains.")


class SimOwnerNotAccountHolder(DomainError):
    code = "SIM_OWNER_NOT_ACCOUNT_HOLDER"
    http_status = 422
    default_message = _(
        "A SIM card bought with this account is registered to the account's own real-name "
        "identity: enter the name and ID number you verified for this account."
    )
