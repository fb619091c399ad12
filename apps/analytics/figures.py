"""The key figures analytics puts on the workbench home page: today's rollup, so far.

They read ``DailyMetrics`` / ``GatewayDaily`` of today, which ``rollup_recent_task`` refreshes
every few minutes; no raw table is read on a page view.
"""

from __future__ import annotations

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.analytics.models import DailyMetrics, GatewayDaily, SalesDaily
from apps.core.workbench import register_figure


def _today(field: str) -> int:
    row = DailyMetrics.objects.filter(day=timezone.localdate()).values_list(field, flat=True)
    return int(row.first() or 0)


def _gateway_calls() -> int:
    total = GatewayDaily.objects.filter(day=timezone.localdate()).aggregate(n=Sum("calls"))["n"]
    return int(total or 0)


def _cp_orders() -> int:
    total = (
        SalesDaily.objects.filter(day=timezone.localdate(), dimension=SalesDaily.Dimension.CP)
        .exclude(value="")
        .aggregate(n=Sum("orders"))["n"]
    )
    return int(total or 0)


def _page(slug: str) -> str:
    return f"/admin/analytics/{slug}/"


def register() -> None:
    ops, fin, risk = Role.OPERATOR, Role.FINANCE, Role.RISK
    register_figure("analytics.gmv", _("GMV today"), lambda: _today("gmv_fen"), {ops, fin},
                    url=_page("overview"), money=True)  # fmt: skip
    register_figure("analytics.paid_orders", _("Orders paid today"),
                    lambda: _today("paid_orders"), {ops, fin}, url=_page("overview"))  # fmt: skip
    register_figure("analytics.product_views", _("Product views today"),
                    lambda: _today("product_views"), {ops}, url=_page("funnel"))  # fmt: skip
    register_figure("analytics.deliveries_failed", _("Lines failed today"),
                    lambda: _today("deliveries_failed"), {ops}, url=_page("fulfilment"))  # fmt: skip
    register_figure("analytics.refund_fen", _("Refunded today"), lambda: _today("refund_fen"),
                    {fin, risk}, url=_page("overview"), money=True)  # fmt: skip
    register_figure("analytics.complaints", _("Complaints today"),
                    lambda: _today("complaints"), {ops, risk}, url=_page("overview"))  # fmt: skip
    register_figure("analytics.new_users", _("New users today"), lambda: _today("new_users"),
                    {ops, risk}, url=_page("users"))  # fmt: skip
    register_figure("analytics.cp_orders", _("Orders of CP products today"), _cp_orders,
                    {Role.CP_REVIEWER}, url=_page("sales"))  # fmt: skip
    register_figure("analytics.gateway_calls", _("Capability calls today"), _gateway_calls,
                    {ops, Role.PARTNER_REVIEWER}, url=_page("gateway"))  # fmt: skip
