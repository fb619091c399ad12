"""Why a developer-portal operation was refused; each code is shown on the page and in the API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, InvalidArgument, NotFound


class InvalidLicenceNumber(InvalidArgument):
    code = "INVALID_LICENCE_NUMBER"
    default_message = _(
        "Enter the 18-character unified social credit code from the business licence."
    )


class InvalidCallbackUrl(InvalidArgument):
    code = "INVALID_CALLBACK_URL"
    default_message = _(
        "Callback URLs must use https (plain http only to 127.0.0.1, ::1 or localhost)."
    )


class InvalidIpAllowList(InvalidArgument):
    code = "INVALID_IP_ALLOW_LIST"
    default_message = _("Enter IP addresses or networks in CIDR form, such as 203.0.113.0/24.")


class InvalidContact(InvalidArgument):
    code = "INVALID_CONTACT"
    default_message = _("Enter the contact's name, mobile number and e-mail address.")


class PartnerAlreadyRegistered(Conflict):
    code = "PARTNER_ALREADY_REGISTERED"
    default_message = _("You have already registered a company.")


class LicenceNumberInUse(Conflict):
    code = "LICENCE_NUMBER_IN_USE"
    default_message = _("A company with this licence number is already registered.")


class PartnerNotRegistered(NotFound):
    code = "PARTNER_NOT_REGISTERED"
    default_message = _("Register your company first.")


class PartnerNotApproved(DomainError):
    code = "PARTNER_NOT_APPROVED"
    http_status = 403
    default_message = _("Your company has not been approved yet.")


class PartnerStateConflict(Conflict):
    code = "PARTNER_STATE_CONFLICT"
    default_message = _("The company's registration is not in a state that allows this.")


class AppNotFound(NotFound):
    code = "APP_NOT_FOUND"
    default_message = _("No such app.")


class InvalidAppName(InvalidArgument):
    code = "INVALID_APP_NAME"
    default_message = _("Give the app a name of at most 100 characters.")


class AppNameTaken(Conflict):
    code = "APP_NAME_TAKEN"
    default_message = _("Your company already has an app with this name.")


class AppStateConflict(Conflict):
    code = "APP_STATE_CONFLICT"
    default_message = _("The app is not in a state that allows this.")


class PackageNotFound(NotFound):
    code = "PACKAGE_NOT_FOUND"
    default_message = _("No such capability package.")


class PackageOperatorAssigned(DomainError):
    code = "PACKAGE_OPERATOR_ASSIGNED"
    http_status = 403
    default_message = _(
        "This package carries the carrier's pre-authorised billing agreement: only the "
        "carrier's operators assign it, after the agreement is signed."
    )


class SubscriptionNotFound(NotFound):
    code = "SUBSCRIPTION_NOT_FOUND"
    default_message = _("The app does not subscribe to this package.")


class DecisionReasonRequired(InvalidArgument):
    code = "REASON_REQUIRED"
    default_message = _("Give a reason for the rejection.")
