"""Workbench: fulfilment jobs, with a retry action for operators."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.carrier.errors import CarrierUnavailable
from apps.core.errors import DomainError
from apps.fulfilment import cards, services
from apps.fulfilment.models import Card, CardBatch, FulfilmentJob


@admin.register(FulfilmentJob)
class FulfilmentJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order_number",
        "kind",
        "msisdn",
        "units",
        "delivered_units",
        "status",
        "attempts",
        "last_error",
        "updated_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["order_number", "msisdn"]
    readonly_fields = [f.name for f in FulfilmentJob._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Deliver selected jobs again now"))
    def retry(self, request: HttpRequest, queryset: QuerySet[FulfilmentJob]) -> None:
        for job_id in queryset.values_list("pk", flat=True):
            try:
                messages.info(request, f"{job_id}: {services.job_deliver(job_id=job_id)}")
            except CarrierUnavailable as exc:
                messages.warning(request, f"{job_id}: {exc.code}")


@admin.register(CardBatch)
class CardBatchAdmin(admin.ModelAdmin):
    list_display = ["batch_no", "face_value_fen", "quantity", "status", "expires_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["batch_no"]
    readonly_fields = [f.name for f in CardBatch._meta.fields]
    actions = ["freeze", "unfreeze", "void"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # generate_cards writes the PINs once, to a file

    def _set(self, request: HttpRequest, queryset: QuerySet[CardBatch], status: str) -> None:
        for batch in queryset:
            try:
                cards.card_batch_set_status(
                    batch_id=batch.pk, status=status, actor_id=request.user.pk
                )
            except DomainError as exc:
                messages.warning(request, f"{batch.batch_no}: {exc.message}")

    @admin.action(description=_("Freeze selected batches"), permissions=["change"])
    def freeze(self, request: HttpRequest, queryset: QuerySet[CardBatch]) -> None:
        self._set(request, queryset, CardBatch.Status.FROZEN)

    @admin.action(description=_("Unfreeze selected batches"), permissions=["change"])
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[CardBatch]) -> None:
        self._set(request, queryset, CardBatch.Status.ACTIVE)

    @admin.action(description=_("Void selected batches"), permissions=["change"])
    def void(self, request: HttpRequest, queryset: QuerySet[CardBatch]) -> None:
        self._set(request, queryset, CardBatch.Status.VOIDED)


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ["number", "batch", "status", "wrong_pins", "redeemed_msisdn", "redeemed_at"]
    list_filter = ["status"]
    search_fields = ["number", "redeemed_msisdn"]
    exclude = ["pin_hash"]
    readonly_fields = [
        "batch",
        "number",
        "status",
        "wrong_pins",
        "redeemed_msisdn",
        "redeemed_by",
        "redeemed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Bulk distribution registers its workbench pages from its own module.
import apps.fulfilment.bulk.admin  # noqa: E402, F401
