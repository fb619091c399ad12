"""Workbench: carts and orders (with lines and their fulfilment), read-only but for actions."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.orders import services
from apps.orders.models import Cart, CartLine, Order, OrderLine
from apps.orders.selectors import shipping_lines
from apps.orders.services.refunds import line_refundability


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    fields = ["sku", "recipient_msisdn", "quantity", "added_at"]
    readonly_fields = ["sku", "recipient_msisdn", "quantity", "added_at"]
    can_delete = False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "session_key", "updated_at"]
    search_fields = ["user__phone"]
    list_select_related = ["user"]
    readonly_fields = ["user", "session_key", "updated_at"]
    inlines = [CartLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# What a refund may do with a line, by its delivery (orders.services.refunds).
REFUND_VERDICTS = {
    "undelivered": _("Refundable (not delivered)"),
    "delivering": _("Wait: being delivered"),
    "return": _("Through a return"),
    "override_needed": _("Delivered: operator override needed"),
    "override": _("Refundable (operator override)"),
    "done": _("Nothing left"),
}


class RefundForm(forms.Form):
    override_reason = forms.CharField(
        label=_("Why delivered lines are refunded anyway (leave empty to refund only undelivered lines)"),
        max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip


_LINE_FIELDS = [
    "id",
    "product_name",
    "sku_name",
    "kind",
    "unit_price",
    "quantity",
    "line_total",
    "recipient_msisdn",
    "fulfilment",
    "refund_verdict",
    "refund_requested_at",
    "refund_note",
]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = list(_LINE_FIELDS)
    readonly_fields = _LINE_FIELDS
    can_delete = False

    @admin.display(description=_("Refund"))
    def refund_verdict(self, obj: OrderLine) -> str:
        return str(REFUND_VERDICTS[line_refundability(obj, override=False).verdict])

    @admin.display(description=_("Unit price"))
    def unit_price(self, obj: OrderLine) -> str:
        return format_fen(obj.unit_price_fen)

    @admin.display(description=_("Total"))
    def line_total(self, obj: OrderLine) -> str:
        return format_fen(obj.total_fen)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "user",
        "status",
        "total",
        "points",
        "refunded",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["number", "user__phone"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline]
    actions = ["complete", "request_refund"]
    # Amounts in yuan and the address as written, never fen or raw JSON.
    readonly_fields = ("number", "user", "status", "total", "points", "payable", "refunded",
                       "address", "expires_at", "paid_at", "delivery_settled_at", "created_at",
                       "updated_at", "ship", "refund")  # fmt: skip
    fields = readonly_fields

    def get_urls(self) -> list[URLPattern]:
        own = [path("<int:pk>/refund/", self.admin_site.admin_view(self.refund_view),
                    name="orders_order_refund")]  # fmt: skip
        return own + super().get_urls()

    @admin.display(description=_("Refund"))
    def refund(self, obj: Order) -> str:
        url = reverse("admin:orders_order_refund", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Ask for a refund, line by line"))

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The refund request page: each line's delivery and what a refund may do with it;
        delivered lines only with the operator's reason (audited)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=pk)
        form = RefundForm(request.POST or None)
        status = 200
        if request.method == "POST" and form.is_valid():
            try:
                ids = services.order_refund_request(
                    number=order.number, user_id=order.user_id, reason=str(_("Requested by an operator")),
                    requested_by=cast(int, request.user.pk), override_reason=form.cleaned_data["override_reason"],
                )  # fmt: skip
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                messages.success(
                    request, _("%(n)d refunds asked for; finance approves.") % {"n": len(ids)}
                )
                return redirect("admin:orders_order_change", order.pk)
        elif request.method == "POST":
            status = 400
        lines = [
            (line, REFUND_VERDICTS[line.verdict])
            for line in services.order_refund_lines(number=order.number)
        ]
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "order": order,
                   "title": _("Refund order %(number)s") % {"number": order.number}, "form": form, "lines": lines}  # fmt: skip
        return TemplateResponse(request, "admin/orders/refund.html", context, status=status)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Total"), ordering="goods_fen")
    def total(self, obj: Order) -> str:
        return format_fen(obj.goods_fen)

    @admin.display(description=_("Points"))
    def points(self, obj: Order) -> str:
        return format_fen(obj.points_fen)

    @admin.display(description=_("Shipping"))
    def ship(self, obj: Order) -> str:
        """Links to fulfilment's shipping workbench (by URL name: orders imports nothing of it)."""
        parcels = format_html(
            '<a href="{}?q={}">{}</a>', reverse("admin:fulfilment_shipment_changelist"), obj.number,
            _("Parcels"),
        )  # fmt: skip
        if (
            obj.status != Order.Status.PAID
            or not obj.lines.filter(kind="physical", fulfilment=OrderLine.Fulfilment.READY).exists()
        ):
            return parcels
        url = reverse("admin:fulfilment_shipment_ship", args=[obj.number])
        return format_html(
            '<a class="button" href="{}">{}</a> {}', url, _("Ship physical lines"), parcels
        )

    @admin.display(description=_("To pay"))
    def payable(self, obj: Order) -> str:
        return format_fen(obj.payable_fen)

    @admin.display(description=_("Delivery address"))
    def address(self, obj: Order) -> str:
        return " ".join(shipping_lines(shipping=obj.shipping)) or "—"

    @admin.display(description=_("Refunded"))
    def refunded(self, obj: Order) -> str:
        return format_fen(obj.refunded_fen)

    @admin.action(description=_("Mark selected paid orders complete"), permissions=["change"])
    def complete(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        done = 0
        for number in queryset.values_list("number", flat=True):
            try:
                services.order_complete(number=number, actor_id=request.user.pk)
                done += 1
            except DomainError as exc:
                messages.warning(request, f"{number}: {exc.message}")
        messages.success(request, _("%(n)d orders completed.") % {"n": done})

    @admin.action(
        description=_(
            "Ask for a refund of the undelivered lines of selected orders (finance approves)"
        ),
        permissions=["change"],
    )
    def request_refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset:
            try:
                ids = services.order_refund_request(
                    number=order.number, user_id=order.user_id, reason=str(_("Requested by an operator")),
                    requested_by=cast(int, request.user.pk),
                )  # fmt: skip
                messages.success(request, f"{order.number}: {len(ids)}")
            except DomainError as exc:
                messages.warning(request, f"{order.number}: {exc.message}")
