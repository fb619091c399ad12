"""Customer service's to-dos on the workbench home page: open tickets, invoices to issue."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.core.workbench import register_todo
from apps.service.models import Invoice, Ticket


def register() -> None:
    register_todo(
        "service.tickets_open",
        _("Tickets waiting for an answer"),
        Ticket.objects.filter(status=Ticket.Status.OPEN).count,
        "/admin/service/ticket/?status__exact=open",
        {Role.OPERATOR},
    )
    register_todo(
        "service.invoices_requested",
        _("Invoices to issue"),
        Invoice.objects.filter(status=Invoice.Status.REQUESTED).count,
        "/admin/service/invoice/?status__exact=requested",
        {Role.FINANCE},
    )
