"""Refusals of shipping and returns, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, InvalidArgument, NotFound, ServiceUnavailable


class CourierUnknown(NotFound):
    code = "UNKNOWN_COURIER"
    default_message = _("We do not ship with this courier.")


class TrackingNumberInvalid(InvalidArgument):
    code = "TRACKING_NUMBER_INVALID"
    default_message = _("Enter a tracking number of 6 to 40 letters, digits or dashes.")


class TrackingNumberInUse(Conflict):
    code = "TRACKING_NUMBER_IN_USE"
    default_message = _("This tracking number is already used for another parcel.")


class TrackingNumberUnknown(NotFound):
    code = "UNKNOWN_TRACKING_NUMBER"
    default_message = _("No parcel has this tracking number.")


class LineNotShippable(Conflict):
    code = "LINE_NOT_SHIPPABLE"
    default_message = _("Only paid physical lines that are not shipped yet can be shipped.")


class ShipmentNotFound(NotFound):
    code = "SHIPMENT_NOT_FOUND"
    default_message = _("This shipment does not exist.")


class CourierUnavailable(ServiceUnavailable):
    code = "COURIER_UNAVAILABLE"
    default_message = _("The courier is not answering; try again shortly.")


class CourierRejected(InvalidArgument):
    code = "COURIER_REJECTED"
    default_message = _("The courier refused the request.")


class ReturnNotFound(NotFound):
    code = "RETURN_NOT_FOUND"
    default_message = _("This return does not exist.")


class ReturnNotAllowed(Conflict):
    code = "RETURN_NOT_ALLOWED"
    default_message = _(
        "Only delivered physical goods can be returned, and only within 7 days of delivery."
    )


class ReturnMustBeUnopened(InvalidArgument):
    code = "RETURN_MUST_BE_UNOPENED"
    default_message = _(
        "Only unopened goods can be returned; confirm that the package is unopened."
    )


class ReturnStateConflict(Conflict):
    code = "RETURN_STATE_CONFLICT"
    default_message = _("The return cannot do that in its current state.")
