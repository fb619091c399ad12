"""Workbench: deliveries (every paid line, SIM activations included), with retry actions for
operators (cards: ``admin_cards``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.carrier.errors import CarrierUnavailable
from apps.fulfilment import admin_cards, services, sim
from apps.fulfilment.models import Delivery
from apps.fulfilment.shipping import admin as shipping_admin

__all__ = ["admin_cards", "shipping_admin"]  # register cards, parcels and returns


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order_number",
        "line_id",
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
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry", "activate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Deliver selected jobs again now"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        for job_id in queryset.values_list("pk", flat=True):
            try:
                messages.info(
                    request, f"{job_id}: {services.job_deliver(job_id=job_id, again=True)}"
                )
            except CarrierUnavailable as exc:
                messages.warning(request, f"{job_id}: {exc.code}")

    @admin.action(
        description=_("Activate the lines of selected SIM cards (the card was delivered)"),
        permissions=["change"],
    )
    def activate(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        for msisdn, line_id in queryset.filter(kind=Delivery.Kind.SIM).values_list(
            "msisdn", "line_id"
        ):
            try:
                messages.info(request, f"{msisdn}: {sim.sim_activate(line_id=line_id)}")
            except CarrierUnavailable as exc:
                messages.warning(request, f"{msisdn}: {exc.code}")
