"""Customer-service reads: invoices, the help centre, tickets and their threads, points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.utils.translation import gettext_lazy

from apps.service.models import FaqEntry, Invoice, Ticket, TicketMessage
from apps.service.services import InvoiceView, TicketView, invoice_view, ticket_view


def invoices_for_user(*, user_id: int) -> list[InvoiceView]:
    return [invoice_view(i) for i in Invoice.objects.filter(user_id=user_id)]


def invoice_get(*, invoice_id: int, user_id: int | None = None) -> InvoiceView | None:
    qs = Invoice.objects.filter(pk=invoice_id)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    found = qs.first()
    return invoice_view(found) if found else None


def invoice_for_order(*, order_number: str, user_id: int) -> InvoiceView | None:
    """The order's live invoice (requested or issued), else its latest rejected one."""
    rows = Invoice.objects.filter(order_number=order_number, user_id=user_id).order_by(
        "status", "-id"
    )
    live = [r for r in rows if r.status != Invoice.Status.REJECTED]
    found = live[0] if live else rows.first()
    return invoice_view(found) if found else None


@dataclass(frozen=True)
class FaqView:
    id: int
    question: str
    answer: str


@dataclass(frozen=True)
class FaqTopic:
    code: str
    label: str
    entries: list[FaqView]


def help_centre() -> list[FaqTopic]:
    """Published FAQs by topic, in the operators' order (one query)."""
    topics: dict[str, list[FaqView]] = {}
    for entry in FaqEntry.objects.filter(is_published=True):
        topics.setdefault(entry.topic, []).append(FaqView(entry.pk, entry.question, entry.answer))
    return [
        FaqTopic(code, str(label), topics[code])
        for code, label in FaqEntry.Topic.choices
        if code in topics
    ]


def tickets_for_user(*, user_id: int) -> list[TicketView]:
    return [ticket_view(t) for t in Ticket.objects.filter(user_id=user_id)[:100]]


@dataclass(frozen=True)
class MessageView:
    from_staff: bool
    body: str
    created_at: datetime


@dataclass(frozen=True)
class TicketThread:
    ticket: TicketView
    messages: list[MessageView]


def ticket_thread(*, ticket_id: int, user_id: int | None = None) -> TicketThread | None:
    """A ticket with its messages, oldest first (two queries); ``user_id`` limits it to the
    buyer's own."""
    qs = Ticket.objects.filter(pk=ticket_id)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    ticket = qs.first()
    if ticket is None:
        return None
    messages = [
        MessageView(m.from_staff, m.body, m.created_at)
        for m in TicketMessage.objects.filter(ticket=ticket)
    ]
    return TicketThread(ticket_view(ticket), messages)


def charge_complaints_count(*, user_id: int | None = None, since: datetime | None = None) -> int:
    """How many tickets complain about a charge (risk control's input)."""
    qs = Ticket.objects.filter(is_charge_complaint=True)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return int(qs.aggregate(n=Count("pk"))["n"])


@dataclass(frozen=True)
class PointsMove:
    at: datetime
    label: str
    points: int  # + earned, - spent
    reference: str


_POINTS_KINDS = {
    "points.granted": gettext_lazy("Points received"),
    "points.redeemed": gettext_lazy("Paid with points"),
    "points.refunded": gettext_lazy("Points returned by a refund"),
}


def points_history(*, user_id: int, limit: int = 50) -> list[PointsMove]:
    """The user's points movements, newest first, from the ledger (points are a liability:
    a credit is points received)."""
    from apps.ledger.selectors import account_lines
    from apps.payments.services import POINTS_ACCOUNT

    return [
        PointsMove(
            line.at,
            str(_POINTS_KINDS.get(line.kind, line.description or line.kind)),
            -line.amount_fen,
            line.reference.removeprefix("order:"),
        )
        for line in account_lines(code=POINTS_ACCOUNT.format(user_id=user_id), limit=limit)
    ]
