"""Workbench: subscribers' own plan changes and add-ons, with a send-again action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.carrier.errors import CarrierUnavailable
from apps.mobile import services as line_services
from apps.mobile.models import LineRequest


@admin.register(LineRequest)
class LineRequestAdmin(admin.ModelAdmin):
    """Subscribers' own plan changes and add-ons, with their carrier outcome."""

    list_display = ["id", "msisdn", "kind", "offer_code", "status", "attempts", "error_code", "effective_from", "created_at"]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["msisdn", "offer_code", "carrier_request_id"]
    readonly_fields = [f.name for f in LineRequest._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send selected requests to the carrier again now"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[LineRequest]) -> None:
        for request_id in queryset.values_list("pk", flat=True):
            try:
                outcome = line_services.line_request_apply(request_id=request_id)
            except CarrierUnavailable as exc:
                messages.warning(request, f"{request_id}: {exc.code}")
            else:
                messages.info(request, f"{request_id}: {outcome}")
