"""Workbench reads for operators: what waits for review, and which apps call the most."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet, Sum
from django.utils import timezone

from apps.gateway.models import App, Partner, UsageHourly
from apps.gateway.portal.usage import UsageReport, usage_report


@dataclass(frozen=True)
class TopApp:
    app_id: int
    app_name: str
    company_name: str
    calls: int
    errors: int


@dataclass(frozen=True)
class Dashboard:
    pending_partners: list[Partner]
    production_requests: list[App]
    top_apps: list[TopApp]
    days: int
    report: UsageReport


def partners_pending() -> QuerySet[Partner]:
    """Registrations waiting for review, oldest first (first come, first served)."""
    return Partner.objects.filter(status=Partner.Status.PENDING).order_by("created_at", "pk")


def production_requests() -> QuerySet[App]:
    """Apps waiting for production access, oldest request first."""
    return (
        App.objects.select_related("partner")
        .filter(production_status=App.ProductionStatus.REQUESTED)
        .order_by("production_requested_at", "pk")
    )


def apps_top_by_calls(*, since: datetime, limit: int = 10) -> list[TopApp]:
    """The apps with the most calls since ``since`` (from the hourly rollup), busiest first."""
    rows = list(
        UsageHourly.objects.filter(hour__gte=since)
        .values("app_id")
        .annotate(calls=Sum("calls"), errors=Sum("errors"))
        .order_by("-calls", "app_id")[:limit]
    )
    apps = App.objects.select_related("partner").in_bulk([r["app_id"] for r in rows])
    return [
        TopApp(
            app_id=r["app_id"],
            app_name=apps[r["app_id"]].name if r["app_id"] in apps else "?",
            company_name=apps[r["app_id"]].partner.company_name if r["app_id"] in apps else "?",
            calls=r["calls"],
            errors=r["errors"],
        )
        for r in rows
    ]


def dashboard(*, days: int = 7, now: datetime | None = None) -> Dashboard:
    """Everything the gateway dashboard shows, for the last ``days`` days."""
    now = now or timezone.now()
    report = usage_report(app_ids=None, granularity="day", periods=days, now=now)
    return Dashboard(
        pending_partners=list(partners_pending()[:50]),
        production_requests=list(production_requests()[:50]),
        top_apps=apps_top_by_calls(since=report.start),
        days=days,
        report=report,
    )
