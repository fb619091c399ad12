"""The BOSS's mobile business: offers, each line's plan terms, data buckets and bill items."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.sandbox.models.carrier import Subscriber


class Offer(models.Model):
    """A plan (套餐, a monthly fee and allowance) or an add-on (叠加包, one month's extra data)."""

    class Kind(models.TextChoices):
        PLAN = "plan", "套餐"
        ADDON = "addon", "叠加包"

    code = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=64)
    # A plan's monthly fee, or an add-on's one-off fee for the current month.
    fee_fen = models.BigIntegerField()
    data_mb = models.PositiveIntegerField()
    voice_minutes = models.PositiveIntegerField(default=0)
    # Withdrawn offers stay on the lines that have them but cannot be chosen any more.
    on_sale = models.BooleanField(default=True)
    # Add-ons only: the plan codes they may be added to; empty means any plan.
    for_plans = models.JSONField(default=list, blank=True)
    sort = models.PositiveSmallIntegerField(default=0)

    objects: models.Manager[Offer] = models.Manager()

    class Meta:
        ordering = ["kind", "sort", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(fee_fen__gte=0), name="sandbox_offer_fee_gte_0"),
            models.CheckConstraint(
                condition=Q(kind__in=["plan", "addon"]), name="sandbox_offer_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PlanTerm(models.Model):
    """A line's plan from a day on; the latest term that has started is the current plan."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateField()
    request_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[PlanTerm] = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "effective_from"], name="sandbox_plan_term_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"plan term {self.pk} from {self.effective_from}"


class DataBucket(models.Model):
    """Data a line may use until ``valid_until``: the plan's month, an add-on, a top-up pack."""

    class Kind(models.TextChoices):
        PLAN = "plan", "套餐内"
        ADDON = "addon", "叠加包"
        PACK = "pack", "流量包"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=64)
    total_mb = models.PositiveIntegerField()
    used_mb = models.PositiveIntegerField(default=0)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    # The month (``month:2026-11``) or the provisioning request that made it: one bucket each.
    reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[DataBucket] = models.Manager()

    class Meta:
        ordering = ["valid_until", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(used_mb__lte=models.F("total_mb")), name="sandbox_bucket_used_bounded"
            ),
            models.UniqueConstraint(
                fields=["subscriber", "reference"], name="sandbox_bucket_once_per_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"bucket {self.pk} {self.name}"


class BillItem(models.Model):
    """One line of a monthly bill: a charge to the balance, or a top-up that paid into it."""

    class Kind(models.TextChoices):
        PLAN_FEE = "plan_fee", "套餐月费"
        ADDON = "addon", "叠加包"
        USAGE = "usage", "套外流量费"
        TOPUP = "topup", "充值缴费"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the bill's month")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=128)
    amount_fen = models.BigIntegerField()
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[BillItem] = models.Manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["subscriber", "month"], name="sandbox_bill_item_month")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="sandbox_bill_item_amount"),
            # The monthly fee is charged once a month, however many reads open the month.
            models.UniqueConstraint(
                fields=["subscriber", "month"],
                condition=Q(kind="plan_fee"),
                name="sandbox_bill_plan_fee_once",
            ),
        ]

    def __str__(self) -> str:
        return f"bill item {self.pk} {self.month:%Y-%m} {self.kind} {self.amount_fen}"
