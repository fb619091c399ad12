"""The buyer's service pages: points, invoices (ask, list, download), help centre, tickets."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.catalog.selectors import affordable_with_points
from apps.core.errors import DomainError
from apps.orders.selectors import order_get, orders_in_tab
from apps.payments.services import points_balance
from apps.service import selectors, services
from apps.service.models import Invoice, Ticket
from apps.service.pdf import invoice_pdf


def _uid(request: HttpRequest) -> int:
    return cast(int, request.user.pk)


# --- Points -----------------------------------------------------------------------------------


@login_required
@require_GET
def points(request: HttpRequest) -> HttpResponse:
    """Balance, history from the ledger, and what the points buy outright."""
    balance = points_balance(user_id=_uid(request))
    context = {
        "balance": balance,
        "history": selectors.points_history(user_id=_uid(request)),
        "affordable": affordable_with_points(points=balance, limit=8),
    }
    return render(request, "service/points.html", context)


# --- Invoices ---------------------------------------------------------------------------------


class InvoiceForm(forms.Form):
    title_type = forms.ChoiceField(
        label=gettext_lazy("Title type"), choices=Invoice.TitleType.choices,
        widget=forms.RadioSelect, initial=Invoice.TitleType.PERSONAL,
    )  # fmt: skip
    title = forms.CharField(label=gettext_lazy("Invoice title"), max_length=100)
    tax_number = forms.CharField(label=gettext_lazy("Taxpayer ID"), max_length=18, required=False)
    email = forms.EmailField(label=gettext_lazy("Email (optional)"), required=False)


_INVOICE_FIELDS = {"INVALID_TAX_NUMBER": "tax_number", "INVALID_INVOICE_TITLE": "title"}


@login_required
@require_http_methods(["GET", "POST"])
def invoice_request(request: HttpRequest, number: str) -> HttpResponse:
    order = order_get(number=number, user_id=_uid(request))
    if order is None:
        raise Http404
    existing = selectors.invoice_for_order(order_number=number, user_id=_uid(request))
    form = InvoiceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.invoice_request(
                    user_id=_uid(request), order_number=number, **form.cleaned_data
                )
            except DomainError as exc:
                form.add_error(_INVOICE_FIELDS.get(exc.code), exc.message)
                status = exc.http_status
            else:
                messages.success(
                    request, _("Your invoice request was sent; finance will issue it.")
                )
                return redirect("service:invoices")
        else:
            status = 400
    context = {"order": order, "form": form, "existing": existing,
               "allowed": order.status in services.INVOICEABLE}  # fmt: skip
    return render(request, "service/invoice_request.html", context, status=status)


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    context = {"invoices": selectors.invoices_for_user(user_id=_uid(request))}
    return render(request, "service/invoices.html", context)


@login_required
@require_GET
def invoice_download(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.invoice_get(invoice_id=invoice_id, user_id=_uid(request))
    if invoice is None or invoice.status != Invoice.Status.ISSUED:
        raise Http404
    order = order_get(number=invoice.order_number, user_id=_uid(request))
    if order is None:
        raise Http404
    response = HttpResponse(
        invoice_pdf(invoice=invoice, order=order), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.invoice_number}.pdf"'
    return response


# --- Help centre and tickets ------------------------------------------------------------------


@require_GET
def help_centre(request: HttpRequest) -> HttpResponse:
    return render(request, "service/help.html", {"topics": selectors.help_centre()})


class TicketForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What is it about?"), choices=Ticket.Kind.choices)
    order_number = forms.ChoiceField(label=gettext_lazy("Order"), required=False)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=120, required=False)
    body = forms.CharField(
        label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )

    def __init__(self, *args: object, orders: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["order_number"].choices = [("", _("No order")), *orders]  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def ticket_list(request: HttpRequest) -> HttpResponse:
    """The buyer's tickets and a form to open one (on an order chosen from a list)."""
    recent = orders_in_tab(user_id=_uid(request), tab="all", limit=20)
    choices = [
        (o.number, f"{o.number} · {o.lines[0].product_name if o.lines else ''}") for o in recent
    ]
    form = TicketForm(request.POST or None, orders=choices,
                      initial={"order_number": request.GET.get("order", ""), "kind": request.GET.get("kind", ""),
                               "subject": request.GET.get("subject", "")[:120]})  # fmt: skip
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ticket = services.ticket_open(user_id=_uid(request), **form.cleaned_data)
            except DomainError as exc:
                form.add_error("order_number" if "ORDER" in exc.code else None, exc.message)
                status = exc.http_status
            else:
                return redirect("service:ticket", ticket_id=ticket.id)
        else:
            status = 400
    context = {"tickets": selectors.tickets_for_user(user_id=_uid(request)), "form": form}
    return render(request, "service/tickets.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    thread = selectors.ticket_thread(ticket_id=ticket_id, user_id=_uid(request))
    if thread is None:
        raise Http404
    status = 200
    if request.method == "POST":
        try:
            services.ticket_reply(ticket_id=ticket_id, author_id=_uid(request),
                                  body=request.POST.get("body", ""), from_staff=False)  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.http_status
        else:
            return redirect("service:ticket", ticket_id=ticket_id)
    return render(request, "service/ticket.html", {"thread": thread}, status=status)


@login_required
@require_POST
def ticket_close(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        services.ticket_close(ticket_id=ticket_id, actor_id=_uid(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("service:ticket", ticket_id=ticket_id)
