"""Customer-service writes: invoice requests and their issue, tickets and their replies.

Orders are read through ``orders.selectors`` (this app sits above orders). Locks: the user
row for a buyer's request, the invoice or ticket row for finance's and operators' moves; no
network call is made here (the buyer's SMS is queued and sent after commit).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.selectors import user_profile
from apps.carrier.services import sms_queue
from apps.core.audit import audit_record, audited_transition
from apps.orders.selectors import order_get
from apps.risk import services as risk
from apps.service.errors import (
    EmptyMessage,
    InvalidInvoiceTitle,
    InvalidTaxNumber,
    InvoiceAlreadyRequested,
    InvoiceNotAllowed,
    InvoiceNotFound,
    InvoiceStateConflict,
    TicketClosed,
    TicketNotFound,
    TicketOrderRequired,
)
from apps.service.locks import invoice_lock, ticket_lock, user_lock
from apps.service.models import Invoice, Ticket, TicketMessage
from apps.service.tax import uscc_valid

INVOICEABLE = ("paid", "completed")
# Kinds of ticket that are always about one order.
ORDER_KINDS = (Ticket.Kind.NOT_RECEIVED, Ticket.Kind.WRONG_AMOUNT, Ticket.Kind.REFUND)


@dataclass(frozen=True)
class InvoiceView:
    id: int
    order_number: str
    status: str
    status_label: str
    title_type: str
    title: str
    tax_number: str
    amount_fen: int
    invoice_number: str
    requested_at: datetime
    issued_at: datetime | None
    note: str


def invoice_view(invoice: Invoice) -> InvoiceView:
    return InvoiceView(
        id=invoice.pk, order_number=invoice.order_number, status=invoice.status,
        status_label=str(Invoice.Status(invoice.status).label), title_type=invoice.title_type,
        title=invoice.title, tax_number=invoice.tax_number, amount_fen=invoice.amount_fen,
        invoice_number=invoice.invoice_number, requested_at=invoice.requested_at,
        issued_at=invoice.issued_at, note=invoice.note,
    )  # fmt: skip


def invoice_title_check(*, title_type: str, title: str, tax_number: str) -> tuple[str, str]:
    """The title and tax number cleaned: a company needs a valid unified social credit code,
    a person none."""
    title = " ".join(title.split())
    if title_type not in Invoice.TitleType.values or not 2 <= len(title) <= 100:
        raise InvalidInvoiceTitle()
    tax_number = tax_number.strip().upper()
    if title_type == Invoice.TitleType.COMPANY:
        if not uscc_valid(tax_number):
            raise InvalidTaxNumber()
    else:
        tax_number = ""
    return title, tax_number


def invoice_request(
    *, user_id: int, order_number: str, title_type: str, title: str, tax_number: str = "",
    email: str = "",
) -> InvoiceView:  # fmt: skip
    """Ask for an electronic invoice on one's own paid order (once per order; a rejected
    request may be made again). Locks the user row."""
    title, tax_number = invoice_title_check(
        title_type=title_type, title=title, tax_number=tax_number
    )
    order = order_get(number=order_number, user_id=user_id)
    if order is None or order.status not in INVOICEABLE:
        raise InvoiceNotAllowed()
    amount = order.goods_fen - order.discount_fen - order.refunded_fen
    if amount <= 0:
        raise InvoiceNotAllowed()
    try:
        with transaction.atomic():
            user_lock(user_id=user_id)
            invoice = Invoice.objects.create(
                user_id=user_id, order_number=order_number, title_type=title_type, title=title,
                tax_number=tax_number, email=email.strip()[:254], amount_fen=amount,
            )  # fmt: skip
            audit_record(action="invoice.requested", object_type="invoice", object_id=invoice.pk,
                         actor_id=user_id, after={"order": order_number, "amount_fen": amount})  # fmt: skip
    except IntegrityError as exc:
        raise InvoiceAlreadyRequested() from exc
    return invoice_view(invoice)


def _locked_invoice(invoice_id: int) -> Invoice:
    invoice = invoice_lock(invoice_id=invoice_id)
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


def _invoice_move(invoice: Invoice, status: str, *, actor_id: int | None, **after: object) -> None:
    audited_transition(
        invoice, status, object_type="invoice", object_id=invoice.pk, actor_id=actor_id,
        refused=lambda details: InvoiceStateConflict(details=details), after=after,
    )  # fmt: skip


def invoice_issue(*, invoice_id: int, actor_id: int | None = None) -> InvoiceView:
    """Finance issues a requested invoice: it gets its number and date. Issuing an issued
    invoice again changes nothing. Locks the invoice row."""
    with transaction.atomic():
        invoice = _locked_invoice(invoice_id)
        if invoice.status == Invoice.Status.ISSUED:
            return invoice_view(invoice)
        now = timezone.now()
        number = f"{timezone.localtime(now):%y}{secrets.randbelow(10**18):018d}"
        _invoice_move(invoice, Invoice.Status.ISSUED, actor_id=actor_id, number=number)
        invoice.invoice_number, invoice.issued_at = number, now
        invoice.save(update_fields=["status", "invoice_number", "issued_at"])
    return invoice_view(invoice)


def invoice_reject(*, invoice_id: int, note: str, actor_id: int | None = None) -> InvoiceView:
    """Finance turns a request down with a reason the buyer sees. Locks the invoice row."""
    with transaction.atomic():
        invoice = _locked_invoice(invoice_id)
        _invoice_move(invoice, Invoice.Status.REJECTED, actor_id=actor_id, note=note[:200])
        invoice.note = note[:200]
        invoice.save(update_fields=["status", "note"])
    return invoice_view(invoice)


# --- Tickets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketView:
    id: int
    order_number: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    is_charge_complaint: bool
    subject: str
    created_at: datetime
    updated_at: datetime


def ticket_view(ticket: Ticket) -> TicketView:
    return TicketView(
        id=ticket.pk, order_number=ticket.order_number, kind=ticket.kind,
        kind_label=str(Ticket.Kind(ticket.kind).label), status=ticket.status,
        status_label=str(Ticket.Status(ticket.status).label),
        is_charge_complaint=ticket.is_charge_complaint, subject=ticket.subject,
        created_at=ticket.created_at, updated_at=ticket.updated_at,
    )  # fmt: skip


def ticket_open(
    *, user_id: int, kind: str, subject: str, body: str, order_number: str = ""
) -> TicketView:
    """A buyer opens a ticket, on one of their orders when it is about one. A wrong amount,
    or a complaint on a paid order, is marked a charge complaint (risk control counts them).
    Locks the user row."""
    body, subject = body.strip(), " ".join(subject.split())[:120]
    if kind not in Ticket.Kind.values:
        raise TicketOrderRequired()
    if not body:
        raise EmptyMessage()
    order = order_get(number=order_number, user_id=user_id) if order_number else None
    if (order_number and order is None) or (kind in ORDER_KINDS and order is None):
        raise TicketOrderRequired()
    paid = order is not None and order.paid_at is not None
    charge = kind == Ticket.Kind.WRONG_AMOUNT or (kind == Ticket.Kind.COMPLAINT and paid)
    with transaction.atomic():
        user_lock(user_id=user_id)
        ticket = Ticket.objects.create(
            user_id=user_id, order_number=order_number, kind=kind, is_charge_complaint=charge,
            subject=subject or str(Ticket.Kind(kind).label),
        )  # fmt: skip
        TicketMessage.objects.create(ticket=ticket, author_id=user_id, body=body[:4000])
        audit_record(action="ticket.opened", object_type="ticket", object_id=ticket.pk,
                     actor_id=user_id, after={"kind": kind, "charge_complaint": charge})  # fmt: skip
        if charge:  # a label for risk control's backtests and complaint rates
            risk.complaint_label(
                origin=f"ticket:{ticket.pk}", reference=order_number, note=ticket.subject
            )
    return ticket_view(ticket)


def ticket_reply(*, ticket_id: int, author_id: int, body: str, from_staff: bool) -> TicketView:
    """Add to a ticket's thread. Customer service's answer moves it to answered and tells
    the buyer by SMS (queued, sent after commit); the buyer's reply reopens it. A buyer
    replies only to their own ticket. Locks the ticket row."""
    body = body.strip()
    if not body:
        raise EmptyMessage()
    with transaction.atomic():
        ticket = ticket_lock(ticket_id=ticket_id, user_id=None if from_staff else author_id)
        if ticket is None:
            raise TicketNotFound()
        if ticket.status == Ticket.Status.CLOSED:
            raise TicketClosed()
        TicketMessage.objects.create(
            ticket=ticket, author_id=author_id, body=body[:4000], from_staff=from_staff
        )
        target = Ticket.Status.ANSWERED if from_staff else Ticket.Status.OPEN
        if ticket.status != target:
            audited_transition(
                ticket, target, object_type="ticket", object_id=ticket.pk, actor_id=author_id,
                refused=lambda details: TicketClosed(details=details),
            )  # fmt: skip
        ticket.save(update_fields=["status", "updated_at"])
        if from_staff:
            phone = user_profile(user_id=ticket.user_id).phone
            text = _(
                "[CarrierHub] Customer service answered your ticket #%(id)s. "
                "See it under My tickets."
            ) % {"id": ticket.pk}
            sms_queue(msisdn=phone, text=text, purpose="service_ticket")
    return ticket_view(ticket)


def ticket_close(*, ticket_id: int, actor_id: int, by_staff: bool = False) -> TicketView:
    """Close a ticket (the buyer's own, or any by customer service). Locks the ticket row."""
    with transaction.atomic():
        ticket = ticket_lock(ticket_id=ticket_id, user_id=None if by_staff else actor_id)
        if ticket is None:
            raise TicketNotFound()
        if ticket.status != Ticket.Status.CLOSED:
            audited_transition(
                ticket, Ticket.Status.CLOSED, object_type="ticket", object_id=ticket.pk,
                actor_id=actor_id, refused=lambda details: TicketClosed(details=details),
            )  # fmt: skip
            ticket.save(update_fields=["status", "updated_at"])
    return ticket_view(ticket)
