"""Rollup tables: one row per day (and dimension), rebuilt whole by ``rollups.day_rollup``.

Pages read only these tables, never the raw ones. Every table is keyed by its day and
dimensions (unique constraints), so recomputing a day deletes and rewrites the same rows.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyMetrics(models.Model):
    """The day's scalar figures across the flow (Asia/Shanghai days)."""

    day = models.DateField(_("day"), unique=True)
    product_views = models.BigIntegerField(_("product views"), default=0)
    carts = models.BigIntegerField(_("carts with an addition"), default=0)
    checkouts = models.BigIntegerField(_("orders placed"), default=0)
    paid_orders = models.BigIntegerField(_("orders paid"), default=0)
    delivered_orders = models.BigIntegerField(_("orders delivered"), default=0)
    gmv_fen = models.BigIntegerField(_("GMV (fen)"), default=0)
    refunds = models.BigIntegerField(_("refunds"), default=0)
    refund_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    complaints = models.BigIntegerField(_("complaints"), default=0)
    deliveries = models.BigIntegerField(_("lines delivered"), default=0)
    deliveries_failed = models.BigIntegerField(_("lines failed"), default=0)
    pay_to_delivery_p50_s = models.IntegerField(_("pay to delivery p50 (s)"), null=True)
    pay_to_delivery_p95_s = models.IntegerField(_("pay to delivery p95 (s)"), null=True)
    new_users = models.BigIntegerField(_("new users"), default=0)
    active_users = models.BigIntegerField(_("active users"), default=0)
    buyers = models.BigIntegerField(_("buyers"), default=0)
    repeat_buyers = models.BigIntegerField(_("repeat buyers"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily metrics")
        verbose_name_plural = _("daily metrics")

    def __str__(self) -> str:
        return f"{self.day}"


class SalesDaily(models.Model):
    """Paid orders and GMV of a day by one dimension's value (lines paid that day)."""

    class Dimension(models.TextChoices):
        KIND = "kind", _("Product kind")
        CATEGORY = "category", _("Category")
        CHANNEL = "channel", _("Channel")
        CP = "cp", _("Content provider")
        PROVINCE = "province", _("Province")
        METHOD = "method", _("Payment method")

    day = models.DateField(_("day"))
    dimension = models.CharField(_("dimension"), max_length=16, choices=Dimension.choices)
    # "" when the order has no value for it (no shipping province, no channel yet).
    value = models.CharField(_("value"), max_length=64, blank=True)
    label = models.CharField(_("label"), max_length=120, blank=True)
    orders = models.BigIntegerField(_("paid orders"))
    gmv_fen = models.BigIntegerField(_("GMV (fen)"))

    class Meta:
        verbose_name = _("daily sales")
        verbose_name_plural = _("daily sales")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "dimension", "value"], name="analytics_sales_day_dim_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.value}"


class SalesHourly(models.Model):
    """Paid orders and GMV per hour: the shape of a day."""

    hour = models.DateTimeField(_("hour"), unique=True)
    orders = models.BigIntegerField(_("paid orders"))
    gmv_fen = models.BigIntegerField(_("GMV (fen)"))

    class Meta:
        verbose_name = _("hourly sales")
        verbose_name_plural = _("hourly sales")

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00"


class PaymentDaily(models.Model):
    """Payment attempts of a day by method: started, paid, failed, the amount paid."""

    day = models.DateField(_("day"))
    method = models.CharField(_("payment method"), max_length=20)
    attempts = models.BigIntegerField(_("attempts"))
    succeeded = models.BigIntegerField(_("paid"))
    failed = models.BigIntegerField(_("failed or abandoned"))
    amount_fen = models.BigIntegerField(_("paid (fen)"))

    class Meta:
        verbose_name = _("daily payments")
        verbose_name_plural = _("daily payments")
        constraints = [
            models.UniqueConstraint(fields=["day", "method"], name="analytics_payment_day_method")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.method}"


class FulfilmentDaily(models.Model):
    """Lines delivered or failed on a day by delivery kind, with pay-to-delivery times."""

    day = models.DateField(_("day"))
    kind = models.CharField(_("delivery kind"), max_length=16)
    delivered = models.BigIntegerField(_("delivered"))
    failed = models.BigIntegerField(_("failed"))
    p50_s = models.IntegerField(_("pay to delivery p50 (s)"), null=True)
    p95_s = models.IntegerField(_("pay to delivery p95 (s)"), null=True)

    class Meta:
        verbose_name = _("daily fulfilment")
        verbose_name_plural = _("daily fulfilment")
        constraints = [
            models.UniqueConstraint(fields=["day", "kind"], name="analytics_fulfilment_day_kind")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}"


class GatewayDaily(models.Model):
    """Capability calls of a day per capability and partner (from the gateway's hourly usage)."""

    day = models.DateField(_("day"))
    capability = models.CharField(_("capability"), max_length=40)
    partner_id = models.BigIntegerField(_("partner"))
    partner_name = models.CharField(_("partner name"), max_length=120, blank=True)
    calls = models.BigIntegerField(_("calls"))
    errors = models.BigIntegerField(_("errors"))
    latency_avg_ms = models.FloatField(_("average latency (ms)"))
    latency_p95_ms = models.IntegerField(_("latency p95 (ms)"), null=True)

    class Meta:
        verbose_name = _("daily gateway calls")
        verbose_name_plural = _("daily gateway calls")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "capability", "partner_id"], name="analytics_gateway_day_cap_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.capability} #{self.partner_id}"


class ProductViewDaily(models.Model):
    """Product page views of a day, flushed from the Redis counters the beacon increments."""

    day = models.DateField(_("day"))
    product_id = models.BigIntegerField(_("product"))
    views = models.BigIntegerField(_("views"))

    class Meta:
        verbose_name = _("daily product views")
        verbose_name_plural = _("daily product views")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "product_id"], name="analytics_views_day_product"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} #{self.product_id}"


class RiskDecisionDaily(models.Model):
    """Risk decisions of a day per kind and outcome (from ``risk.selectors.decisions_counted``)."""

    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=24)
    outcome = models.CharField(_("outcome"), max_length=12)
    decisions = models.BigIntegerField(_("decisions"))

    class Meta:
        verbose_name = _("daily risk decisions")
        verbose_name_plural = _("daily risk decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "outcome"], name="analytics_risk_day_kind_outcome"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.outcome}"
