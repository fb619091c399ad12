"""Workbench for physical goods: ship an order's lines, import a dispatch file, parcels, returns."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.fulfilment.models import (
    Courier,
    Delivery,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from apps.fulfilment.shipping import services, shipment_import, tracking_import
from apps.fulfilment.shipping.shipments import SHIPPABLE


class ShipForm(forms.Form):
    lines = forms.TypedMultipleChoiceField(
        label=_("Lines in this parcel"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    courier = forms.ChoiceField(label=_("Courier"), choices=Courier.choices)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=40)

    def __init__(self, *args: Any, lines: list[Delivery], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedMultipleChoiceField, self.fields["lines"])
        field.choices = [
            (line.line_id, f"#{line.line_id} {line.label} × {line.units}") for line in lines
        ]
        field.initial = [line.line_id for line in lines]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Dispatch file (.csv or .xlsx)"),
        help_text=_("Columns: order_number, line, courier, tracking_number."),
    )


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    fields = [
        "occurred_at",
        "status",
        "location",
        "description",
        "applied",
        "event_id",
        "received_at",
    ]
    readonly_fields = [
        "occurred_at",
        "status",
        "location",
        "description",
        "applied",
        "event_id",
        "received_at",
    ]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    fields = ["line_id"]
    readonly_fields = ["line_id"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = [
        "tracking_number",
        "courier",
        "order_number",
        "status",
        "status_at",
        "tracking",
        "created_at",
    ]
    list_filter = ["status", "courier", "tracking", "created_at"]
    search_fields = ["tracking_number", "order_number"]
    readonly_fields = [f.name for f in Shipment._meta.fields]
    inlines = [ShipmentLineInline, TrackingEventInline]
    actions = ["register_again"]
    change_list_template = "admin/fulfilment/shipment/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # parcels are made by shipping an order's lines or by a dispatch file

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("ship/<str:number>/", self.admin_site.admin_view(self.ship_view), name="fulfilment_shipment_ship"),
            path("import/", self.admin_site.admin_view(self.import_view), name="fulfilment_shipment_import"),
            path("import-tracking/", self.admin_site.admin_view(self.tracking_view),
                 name="fulfilment_shipment_import_tracking"),
        ]  # fmt: skip
        return own + super().get_urls()

    @admin.action(description=_("Register selected parcels with their courier again"),
                  permissions=["change"])  # fmt: skip
    def register_again(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        for shipment in queryset:
            state = services.shipment_register(shipment_id=shipment.pk)
            messages.info(request, f"{shipment}: {Shipment.Tracking(state).label}")

    def tracking_view(self, request: HttpRequest) -> HttpResponse:
        return _tracking_view(self, request)

    def ship_view(self, request: HttpRequest, number: str) -> HttpResponse:
        """One parcel of an order's lines, by hand."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        deliveries = Delivery.objects.filter(order_number=number)
        if not deliveries.exists():
            messages.error(request, _("This order does not exist."))
            return redirect("admin:orders_order_changelist")
        lines = list(
            deliveries.filter(kind__in=SHIPPABLE, status=Delivery.Status.PENDING).order_by(
                "line_id"
            )
        )
        form = ShipForm(request.POST or None, lines=lines)
        status = 200
        if request.method == "POST" and form.is_valid():
            try:
                result = services.shipment_create(
                    order_number=number, line_ids=form.cleaned_data["lines"],
                    courier=form.cleaned_data["courier"], tracking_number=form.cleaned_data["tracking_number"],
                    actor_id=cast(int, request.user.pk),
                )  # fmt: skip
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                messages.success(request, _("Shipped with %(courier)s %(number)s.") % {
                    "courier": Courier(result.courier).label, "number": result.tracking_number})  # fmt: skip
                return redirect(reverse("admin:fulfilment_shipment_changelist") + f"?q={number}")
        elif request.method == "POST":
            status = 400
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": _("Ship order %(number)s") % {"number": number}, "form": form, "number": number,
                   "shipping": lines[0].shipping if lines else {}}  # fmt: skip
        return TemplateResponse(request, "admin/fulfilment/ship.html", context, status=status)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """A dispatch file: all rows or none, with a row-by-row report."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        report, status = None, 200
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = shipment_import.shipment_file_read(name=upload.name, content=upload.read())
            except DomainError as exc:
                form.add_error("file", exc.message)
                status = 400
            else:
                report = shipment_import.shipments_import(
                    rows=rows, actor_id=cast(int, request.user.pk)
                )
                status = 200 if report.applied else 400
        elif request.method == "POST":
            status = 400
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": _("Import a dispatch file"), "form": form, "report": report,
                   "created": report.count("created") if report else 0,
                   "already": report.count("already") if report else 0}  # fmt: skip
        return render(request, "admin/fulfilment/shipment_import.html", context, status=status)


def _tracking_view(model_admin: ShipmentAdmin, request: HttpRequest) -> HttpResponse:
    """A courier's tracking file: each row applied like a pushed update, with its outcome."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    form.fields["file"].help_text = _(
        "Columns: courier, tracking_number, status, occurred_at (location, description, event_id optional)."
    )
    rows, status = None, 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = tracking_import.tracking_file_import(name=upload.name, content=upload.read())
        except DomainError as exc:
            form.add_error("file", exc.message)
            status = 400
    elif request.method == "POST":
        status = 400
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
               "title": _("Import a courier's tracking file"), "form": form, "rows": rows}  # fmt: skip
    return render(request, "admin/fulfilment/tracking_import.html", context, status=status)


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order_number",
        "product",
        "status",
        "amount",
        "tracking_number",
        "created_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["order_number", "user__phone", "tracking_number"]
    readonly_fields = [f.name for f in ReturnRequest._meta.fields]
    actions = ["approve", "reject", "receive"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # buyers ask for returns on their order page

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("product"))
    def product(self, obj: ReturnRequest) -> str:
        line = Delivery.objects.filter(line_id=obj.line_id).first()
        return f"{line.label} × {line.units}" if line else f"#{obj.line_id}"

    @admin.display(description=_("refund (fen)"), ordering="amount_fen")
    def amount(self, obj: ReturnRequest) -> str:
        return format_fen(obj.amount_fen)

    def _each(self, request: HttpRequest, queryset: QuerySet[ReturnRequest], call: Any) -> None:
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                call(pk)
                done += 1
            except DomainError as exc:
                messages.warning(request, f"#{pk}: {exc.message}")
        messages.success(request, _("%(n)d returns updated.") % {"n": done})

    @admin.action(description=_("Approve selected returns"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        actor = cast(int, request.user.pk)
        self._each(
            request,
            queryset,
            lambda pk: services.return_decide(return_id=pk, approve=True, actor_id=actor),
        )

    @admin.action(description=_("Reject selected returns"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        actor = cast(int, request.user.pk)
        self._each(
            request,
            queryset,
            lambda pk: services.return_decide(return_id=pk, approve=False, actor_id=actor),
        )

    @admin.action(
        description=_("Mark selected returns received unopened (stock back, refund to finance)"),
        permissions=["change"],
    )
    def receive(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        actor = cast(int, request.user.pk)
        self._each(
            request, queryset, lambda pk: services.return_receive(return_id=pk, actor_id=actor)
        )
