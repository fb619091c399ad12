"""The gateway's to-dos on the workbench home page: partners and apps waiting for review."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.core.workbench import register_todo
from apps.gateway.models import App, Partner


def register() -> None:
    register_todo(
        "gateway.partner_applications",
        _("Partner applications"),
        Partner.objects.filter(status=Partner.Status.PENDING).count,
        "/admin/gateway/partner/?status__exact=pending",
        {Role.PARTNER_REVIEWER, Role.OPERATOR},
    )
    register_todo(
        "gateway.production_requests",
        _("Apps asking for production access"),
        App.objects.filter(production_status=App.ProductionStatus.REQUESTED).count,
        "/admin/gateway/app/?production_status__exact=requested",
        {Role.PARTNER_REVIEWER, Role.OPERATOR},
    )
