"""Why a subscriber's line request is refused, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, NotFound


class NotOwnLine(Conflict):
    code = "LINE_NOT_ON_NETWORK"
    default_message = _("Your number is not a China Mobile line, so it cannot be managed here.")


class UnknownOffer(NotFound):
    code = "OFFER_NOT_FOUND"
    default_message = _("There is no such plan or add-on.")


class PlanNotAllowed(DomainError):
    code = "PLAN_NOT_ALLOWED"
    http_status = 422
    default_message = _("This plan is not offered to your line.")


class AddonNotAllowed(DomainError):
    code = "ADDON_NOT_ALLOWED"
    http_status = 422
    default_message = _("This add-on cannot be added to your current plan.")


class SamePlan(Conflict):
    code = "SAME_PLAN"
    default_message = _("Your line already has this plan.")


class PendingChangeExists(Conflict):
    code = "PENDING_CHANGE_EXISTS"
    default_message = _(
        "A plan change already waits for next month; only one change may wait at a time."
    )


class RequestInProgress(Conflict):
    code = "LINE_REQUEST_IN_PROGRESS"
    default_message = _("Your previous request is still being processed; wait for its result.")


class InsufficientBalance(DomainError):
    code = "INSUFFICIENT_BALANCE"
    http_status = 402
    default_message = _("Your balance is too low for this. Top up your number first.")


class BillNotAvailable(NotFound):
    code = "BILL_NOT_AVAILABLE"
    default_message = _("Bills can be viewed for this month and the five before it.")


# What a refusal the carrier gave after the request was recorded means to the subscriber.
CARRIER_REFUSALS: dict[str, type[DomainError]] = {
    "PLAN_NOT_ALLOWED": PlanNotAllowed,
    "ADDON_NOT_ALLOWED": AddonNotAllowed,
    "SAME_PLAN": SamePlan,
    "PENDING_CHANGE_EXISTS": PendingChangeExists,
    "INSUFFICIENT_BALANCE": InsufficientBalance,
    "OFFER_NOT_FOUND": UnknownOffer,
    "SUBSCRIBER_NOT_FOUND": NotOwnLine,
}


def refusal_message(code: str) -> str:
    """The subscriber's words for a carrier refusal code (stored on a refused request)."""
    error = CARRIER_REFUSALS.get(code)
    if error is not None:
        return str(error.default_message)
    if code == "SUBSCRIBER_NOT_ACTIVE":
        return str(_("Your line is suspended or closed."))
    if code == "CARRIER_UNAVAILABLE":
        return str(_("The carrier did not answer; nothing was changed."))
    return str(_("The carrier refused the request (%(code)s).") % {"code": code})
