"""Row locks of the service app (invoices, tickets): named helpers.

The one global lock order every path of the platform follows (a path may skip a level but never
goes back up one; docs/architecture.md, "Transactions and locks"):

    user → cart → order → stock → SIM numbers → payment intent → refund → ledger balances

Invoices and tickets hang off the user: a new one is created under the user's row (one request
at a time per user), an existing one is locked on its own row. Callers hold a transaction open;
nothing here makes a network call.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from apps.service.models import Invoice, Ticket


def user_lock(*, user_id: int) -> None:
    """Lock the user's row (a no-op if there is none)."""
    get_user_model().objects.select_for_update().filter(pk=user_id).first()


def invoice_lock(*, invoice_id: int) -> Invoice | None:
    """Lock one invoice; None if there is none."""
    return Invoice.objects.select_for_update().filter(pk=invoice_id).first()


def ticket_lock(*, ticket_id: int, user_id: int | None = None) -> Ticket | None:
    """Lock one ticket (only ``user_id``'s own, when given); None if there is none."""
    found = Ticket.objects.select_for_update().filter(pk=ticket_id)
    if user_id is not None:
        found = found.filter(user_id=user_id)
    return found.first()
