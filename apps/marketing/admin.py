"""Workbench: operators set up campaigns and issue coupon batches; budgets and uses are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.marketing import services
from apps.marketing.models import (
    Campaign,
    Channel,
    ChannelCode,
    ChannelOrder,
    ChannelProduct,
    CommissionRule,
    Coupon,
    CouponBatch,
    FlashClaim,
    FlashSale,
    Redemption,
)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "rule",
        "status",
        "starts_at",
        "ends_at",
        "spent",
        "budget",
        "spent_units",
    ]
    list_filter = ["status", "rule", "target"]
    search_fields = ["name"]
    readonly_fields = ["status", "spent_fen", "spent_units", "created_at"]
    actions = ["start", "pause"]

    @admin.display(description=_("Spent"), ordering="spent_fen")
    def spent(self, obj: Campaign) -> str:
        return format_fen(obj.spent_fen)

    @admin.display(description=_("Budget"), ordering="budget_fen")
    def budget(self, obj: Campaign) -> str:
        return format_fen(obj.budget_fen) if obj.budget_fen else "—"

    def _move(self, request: HttpRequest, queryset: QuerySet[Campaign], status: str) -> None:
        for campaign_id in queryset.values_list("pk", flat=True):
            try:
                services.campaign_set_status(
                    campaign_id=campaign_id, status=status, actor_id=request.user.pk
                )
            except DomainError as exc:
                messages.error(request, f"{campaign_id}: {exc.message}")

    @admin.action(description=_("Start (or resume) the selected campaigns"), permissions=["change"])
    def start(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, Campaign.Status.ACTIVE)

    @admin.action(description=_("Pause the selected campaigns"), permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, Campaign.Status.PAUSED)


class CouponBatchForm(forms.ModelForm):
    count = forms.IntegerField(
        label=_("Number of codes"), min_value=1, max_value=100_000, initial=100
    )

    class Meta:
        model = CouponBatch
        fields = ["campaign", "name", "per_user_limit", "valid_from", "valid_until", "claimable"]


@admin.register(CouponBatch)
class CouponBatchAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "per_user_limit", "valid_from", "valid_until", "claimable"]
    list_filter = ["claimable"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = CouponBatchForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["campaign", "per_user_limit", "valid_from", "claimable"] if obj else []

    def save_model(self, request: HttpRequest, obj: CouponBatch, form: Any, change: bool) -> None:
        if change:  # the name and the end of validity may change
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        obj.pk = services.coupon_batch_create(
            campaign_id=data["campaign"].pk, name=data["name"], count=data["count"],
            per_user_limit=data["per_user_limit"], valid_from=data["valid_from"],
            valid_until=data["valid_until"], claimable=data["claimable"], actor_id=request.user.pk,
        )  # fmt: skip


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ["code", "batch", "status", "user_id", "claimed_at", "order_number"]
    list_filter = ["status"]
    search_fields = ["code", "order_number"]
    readonly_fields = ["batch", "code", "status", "user_id", "claimed_at", "order_number"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = [
        "order_number",
        "campaign",
        "discount_fen",
        "gift_points",
        "status",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["order_number"]
    readonly_fields = [f.name for f in Redemption._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(FlashSale)
class FlashSaleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "sku_id",
        "price_fen",
        "stock",
        "per_user_limit",
        "starts_at",
        "ends_at",
        "is_active",
    ]
    actions = ["prime"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Units are slots 1..stock: a running sale's stock and SKU stay as they are.
        return ["sku_id", "stock", "price_fen"] if obj else []

    @admin.action(
        description=_("Rebuild the Redis count from the database"), permissions=["change"]
    )
    def prime(self, request: HttpRequest, queryset: QuerySet[FlashSale]) -> None:
        for sale_id in queryset.values_list("pk", flat=True):
            services.flash_prime(sale_id=sale_id, force=True)
        messages.success(request, _("Rebuilt."))


@admin.register(FlashClaim)
class FlashClaimAdmin(admin.ModelAdmin):
    list_display = [
        "sale",
        "user_id",
        "quantity",
        "status",
        "order_number",
        "release_code",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["order_number"]
    readonly_fields = ["sale", "user_id", "quantity", "status", "order_number", "release_code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ChannelCodeInline(admin.TabularInline):
    model = ChannelCode
    extra = 1


class ChannelProductInline(admin.TabularInline):
    model = ChannelProduct
    extra = 0


class CommissionRuleInline(admin.TabularInline):
    model = CommissionRule
    extra = 0


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    """Operators configure a channel: its codes, the products it may sell at its prices, the
    campaigns that apply, and its commission rules per product kind."""

    list_display = ["name", "kind", "status", "partner_id", "owner_user_id", "created_at"]
    list_filter = ["status", "kind"]
    filter_horizontal = ["campaigns"]
    inlines = [ChannelCodeInline, ChannelProductInline, CommissionRuleInline]
    actions = ["approve", "refuse"]
    # The status moves only through the audited review actions (a new channel starts active).
    readonly_fields = ["status"]

    def _review(self, request: HttpRequest, queryset: QuerySet[Channel], approve: bool) -> None:
        from apps.marketing.channels import channel_review

        for channel_id in queryset.values_list("pk", flat=True):
            try:
                channel_review(channel_id=channel_id, approve=approve, actor_id=request.user.pk)
            except DomainError as exc:
                messages.error(request, exc.message)

    @admin.action(
        description=_("Approve the selected applications (or restore suspended channels)"),
        permissions=["change"],
    )
    def approve(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        self._review(request, queryset, approve=True)

    @admin.action(
        description=_("Refuse the selected applications (or suspend active channels)"),
        permissions=["change"],
    )
    def refuse(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        self._review(request, queryset, approve=False)


@admin.register(ChannelOrder)
class ChannelOrderAdmin(admin.ModelAdmin):
    list_display = [
        "order_number",
        "channel",
        "code",
        "status",
        "paid_fen",
        "commission_fen",
        "reversed_fen",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["order_number", "code"]
    readonly_fields = [f.name for f in ChannelOrder._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
