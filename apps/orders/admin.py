"""Workbench view of carts (read-only: customers change them)."""

from django.contrib import admin

from apps.orders.models import Cart, CartLine


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

    def has_add_permission(self, request):
        return False
