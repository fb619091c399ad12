"""Why a customer-service or invoice operation was refused (each with its code)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, InvalidArgument, NotFound


class InvoiceNotAllowed(Conflict):
    code = "INVOICE_NOT_ALLOWED"
    default_message = _("An invoice can be asked for once the order is paid.")


class InvoiceAlreadyRequested(Conflict):
    code = "INVOICE_ALREADY_REQUESTED"
    default_message = _("An invoice was already asked for on this order.")


class InvalidInvoiceTitle(InvalidArgument):
    code = "INVALID_INVOICE_TITLE"
    default_message = _("Enter the name to put on the invoice.")


class InvalidTaxNumber(InvalidArgument):
    code = "INVALID_TAX_NUMBER"
    default_message = _("Enter the company's 18-character unified social credit code.")


class InvoiceNotFound(NotFound):
    code = "INVOICE_NOT_FOUND"
    default_message = _("This invoice does not exist.")


class InvoiceStateConflict(Conflict):
    code = "INVOICE_STATE_CONFLICT"
    default_message = _("The invoice cannot do that in its current state.")


class TicketNotFound(NotFound):
    code = "TICKET_NOT_FOUND"
    default_message = _("This ticket does not exist.")


class TicketOrderRequired(InvalidArgument):
    code = "TICKET_ORDER_REQUIRED"
    default_message = _("Choose the order this is about.")


class TicketClosed(Conflict):
    code = "TICKET_CLOSED"
    default_message = _("This ticket is closed; open a new one.")


class EmptyMessage(InvalidArgument):
    code = "EMPTY_MESSAGE"
    default_message = _("Write a message.")
