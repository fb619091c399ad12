"""What bulk distribution refuses, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, InvalidArgument, NotFound


class BulkFileInvalid(InvalidArgument):
    code = "BULK_FILE_INVALID"
    default_message = _(
        "The file could not be read as CSV or XLSX with a number and a pack column."
    )


class BulkBatchNotFound(NotFound):
    code = "BULK_BATCH_NOT_FOUND"
    default_message = _("No such bulk distribution batch.")


class BulkBatchBusy(Conflict):
    code = "BULK_BATCH_RUNNING"
    default_message = _("The batch is still running; retry its failed rows once it has finished.")


class NothingToRetry(Conflict):
    code = "BULK_NOTHING_TO_RETRY"
    default_message = _("The batch has no failed rows.")


class InsufficientPrepaidBalance(DomainError):
    code = "INSUFFICIENT_PREPAID_BALANCE"
    http_status = 402
    default_message = _("The enterprise account's prepaid balance does not cover these rows.")


class NotAnEnterprise(DomainError):
    code = "NOT_AN_ENTERPRISE"
    http_status = 403
    default_message = _("Bulk distribution is for enterprise and partner accounts.")


# Sponsored data (流量统付): the partner gateway renders these in CAMARA's words.


class UnknownDataPack(InvalidArgument):
    code = "UNKNOWN_PACK"
    default_message = _("No data pack is on sale under this code.")


class SubscriberNotOnNetwork(DomainError):
    code = "NOT_OWN_NETWORK"
    http_status = 422
    default_message = _("The number is not a line of this carrier.")


class SponsorMonthlyLimitReached(DomainError):
    code = "SPONSOR_MONTHLY_LIMIT"
    http_status = 429
    default_message = _("The partner's sponsored data for this month has reached its limit.")


class SubscriberMonthlyLimitReached(DomainError):
    code = "SUBSCRIBER_MONTHLY_LIMIT"
    http_status = 429
    default_message = _("This number has received the most sponsored data packs for this month.")


class SponsoredRequestConflict(Conflict):
    code = "SPONSORED_REQUEST_CONFLICT"
    default_message = _("This request id was already used for another grant.")


class SponsoredGrantNotFound(NotFound):
    code = "SPONSORED_GRANT_NOT_FOUND"
    default_message = _("No grant under this request id.")
