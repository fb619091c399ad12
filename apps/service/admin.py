"""Workbench: finance issues invoices; operators keep the FAQs and answer tickets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.service import services
from apps.service.models import FaqEntry, Invoice, Ticket, TicketMessage


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["order_number", "title", "tax_number", "amount", "status", "invoice_number",
                    "requested_at", "issued_at"]  # fmt: skip
    list_filter = ["status", "title_type"]
    search_fields = ["order_number", "title", "tax_number", "invoice_number"]
    actions = ["issue"]
    readonly_fields = [f.name for f in Invoice._meta.fields]

    @admin.display(description=_("Amount"), ordering="amount_fen")
    def amount(self, obj: Invoice) -> str:
        return format_fen(obj.amount_fen)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Issue the selected invoices"), permissions=["change"])
    def issue(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        issued = 0
        for invoice_id in queryset.filter(status=Invoice.Status.REQUESTED).values_list(
            "pk", flat=True
        ):
            services.invoice_issue(invoice_id=invoice_id, actor_id=request.user.pk)
            issued += 1
        messages.success(request, _("%(n)d invoices issued.") % {"n": issued})


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "topic", "sort", "is_published", "updated_at"]
    list_filter = ["topic", "is_published"]
    list_editable = ["sort", "is_published"]
    search_fields = ["question", "answer"]


class TicketAnswerForm(forms.ModelForm):
    answer = forms.CharField(
        label=_("Answer the buyer"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the thread; the buyer is told by SMS."),
    )  # fmt: skip

    class Meta:
        model = Ticket
        fields: list[str] = []


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAnswerForm
    list_display = ["id", "subject", "kind", "order_number", "status", "is_charge_complaint",
                    "updated_at"]  # fmt: skip
    list_filter = ["status", "kind", "is_charge_complaint"]
    search_fields = ["subject", "order_number"]
    readonly_fields = ["user", "order_number", "kind", "status", "is_charge_complaint", "subject",
                       "created_at", "updated_at", "thread"]  # fmt: skip

    @admin.display(description=_("Thread"))
    def thread(self, obj: Ticket) -> str:
        rows = TicketMessage.objects.filter(ticket=obj)
        return format_html_join(
            "", "<p><strong>{}</strong> · {}<br>{}</p>",
            ((_("Customer service") if m.from_staff else _("Buyer"),
              timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M"), m.body) for m in rows),
        )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        # The ticket's fields are read-only here; the answer goes through the service.
        answer = form.cleaned_data.get("answer", "").strip()
        if not answer:
            return
        try:
            services.ticket_reply(ticket_id=obj.pk, author_id=request.user.pk, body=answer,  # type: ignore[arg-type]
                                  from_staff=True)  # fmt: skip
        except DomainError as exc:
            messages.error(request, exc.message)
