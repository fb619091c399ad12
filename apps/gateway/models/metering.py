"""Metering: one row per capability call (partitioned by time) and the hourly rollup."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.gateway.models.partners import Environment


class CallRecord(models.Model):
    """One capability call, as metered. Append-only raw data.

    The table is range-partitioned on ``created_at`` (the migration creates it with
    ``PARTITION BY RANGE`` and a default partition; ``gateway_partitions_ensure`` adds monthly
    ones), hence the composite key: PostgreSQL wants the partition key in every unique index.
    ``id`` is made when the call is served, so a batch written twice lands once.
    """

    pk = models.CompositePrimaryKey("created_at", "id")
    created_at = models.DateTimeField()
    id = models.UUIDField(default=uuid.uuid4)
    app_id = models.BigIntegerField()
    partner_id = models.BigIntegerField()
    environment = models.CharField(max_length=16, choices=Environment.choices)
    capability = models.CharField(max_length=40)
    operation = models.CharField(max_length=64)
    subscription_id = models.BigIntegerField(null=True)
    status_code = models.PositiveSmallIntegerField()
    error_code = models.CharField(max_length=64, blank=True)
    latency_us = models.PositiveIntegerField(help_text="time spent in the platform, microseconds")
    correlator = models.CharField(max_length=256, blank=True)
    client_id = models.CharField(max_length=40)

    class Meta:
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        indexes = [
            models.Index(fields=["app_id", "created_at"], name="gateway_call_app_time"),
        ]

    def __str__(self) -> str:
        return f"{self.capability} {self.status_code} @{self.created_at:%Y-%m-%d %H:%M:%S}"


# Upper bounds (ms) of the latency buckets kept per hour; the last bucket is everything above.
LATENCY_BUCKETS_MS: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


class UsageHourly(models.Model):
    """Calls of an app's capability in one hour: counts, latency sum and histogram.

    Rebuilt from ``CallRecord`` by ``usage_rollup`` (a recount, so running it twice changes
    nothing). ``latency_buckets[i]`` counts calls at or under ``LATENCY_BUCKETS_MS[i]``
    milliseconds (not cumulative), with one extra bucket for slower ones: enough for p95.
    """

    app_id = models.BigIntegerField(verbose_name=_("app id"))
    partner_id = models.BigIntegerField()
    environment = models.CharField(_("environment"), max_length=16, choices=Environment.choices)
    capability = models.CharField(_("capability"), max_length=40)
    hour = models.DateTimeField(_("hour"))
    calls = models.BigIntegerField(_("calls"), default=0)
    errors = models.BigIntegerField(
        _("errors"), default=0, help_text="answers with status 400 or above"
    )
    throttled = models.BigIntegerField(
        _("throttled"), default=0, help_text="answers with status 429"
    )
    latency_sum_us = models.BigIntegerField(default=0)
    latency_buckets = ArrayField(models.BigIntegerField(), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("hourly usage")
        verbose_name_plural = _("hourly usage")
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "environment", "capability", "hour"],
                name="gateway_usage_hour_unique",
            )
        ]
        indexes = [
            models.Index(fields=["partner_id", "hour"], name="gateway_usage_partner_hour"),
            models.Index(fields=["hour"], name="gateway_usage_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.app_id} {self.capability} {self.hour:%Y-%m-%d %H:00}"


# --- Capabilities (gwcaps): partner SMS, OTP codes, voice calls, phone-bill charges, callbacks ---
