"""Workbench: fulfilment jobs, with a retry action for operators (cards: ``admin_cards``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.carrier.errors import CarrierUnavailable
from apps.fulfilment import admin_cards, services, sim
from apps.fulfilment.models import FulfilmentJob, SimActivation

__all__ = ["admin_cards"]  # registers the card batches and cards


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


@admin.register(SimActivation)
class SimActivationAdmin(admin.ModelAdmin):
    """Sold SIM numbers: who owns them, and whether the carrier has opened their line."""

    list_display = [
        "msisdn",
        "status",
        "order_line_id",
        "owner_id_masked",
        "sold_at",
        "activation_attempts",
        "activation_error",
        "activated_at",
    ]
    list_filter = ["status"]
    search_fields = ["msisdn"]
    _shown = (
        "msisdn", "status", "order_line_id", "owner_id_masked", "sold_at", "activation_attempts",
        "activation_error", "activation_request_id", "activated_at",
    )  # fmt: skip
    fields = _shown
    readonly_fields = _shown
    actions = ["activate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SimActivation]:
        return super().get_queryset(request).filter(status__in=["sold", "active"])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(
        description=_("Activate the lines of selected numbers (the card was delivered)"),
        permissions=["change"],
    )
    def activate(self, request: HttpRequest, queryset: QuerySet[SimActivation]) -> None:
        for msisdn, line_id in queryset.values_list("msisdn", "order_line_id"):
            if line_id is None:
                continue
            try:
                messages.info(request, f"{msisdn}: {sim.sim_activate(line_id=line_id)}")
            except CarrierUnavailable as exc:
                messages.warning(request, f"{msisdn}: {exc.code}")
