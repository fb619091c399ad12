"""Workbench: carts and orders (with lines and their fulfilment), read-only but for actions."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.orders import services
from apps.orders.admin_shipments import ShipmentInline, ship_link
from apps.orders.models import Cart, CartLine, Order, OrderLine
from apps.orders.selectors import shipping_lines


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


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ("id", "product_name", "sku_name", "kind", "unit_price", "quantity",
                       "line_total", "recipient_msisdn", "fulfilment")  # fmt: skip
    fields = readonly_fields
    can_delete = False

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
    inlines = [OrderLineInline, ShipmentInline]
    actions = ["complete", "request_refund"]
    # Amounts in yuan and the address as written, never fen or raw JSON.
    readonly_fields = ("number", "user", "status", "total", "points", "payable", "refunded",
                       "address", "expires_at", "paid_at", "created_at", "updated_at", "ship")  # fmt: skip
    fields = readonly_fields

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
        return ship_link(obj)

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
        description=_("Ask for a full refund of selected paid orders (finance approves)"),
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
