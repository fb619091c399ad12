"""What the sandbox's couriers remember: registered parcels, the updates pushed, their knobs."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

MAX_STEP_MS = 600_000


class CourierKnobs(models.Model):
    """The one row (pk=1) that shapes how every courier pushes status updates."""

    class Trouble(models.TextChoices):
        NONE = "none", "无异常"
        RECOVER = "recover", "异常后恢复派送"
        RETURN = "return", "异常后退回寄件人"

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    step_ms = models.PositiveIntegerField(
        "推送间隔(毫秒)",
        default=5000,
        validators=[MaxValueValidator(MAX_STEP_MS)],
        help_text="登记单号后每隔这么久推送下一个状态（揽收、运输中、派送中、签收）。",
    )
    duplicate = models.BooleanField("重复推送", default=False, help_text="每个状态推送两次。")
    out_of_order = models.BooleanField(
        "乱序推送", default=False, help_text="“派送中”先于更早的“运输中”送达。"
    )
    exception = models.CharField(
        "派送异常", max_length=8, choices=Trouble.choices, default=Trouble.NONE
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects: models.Manager[CourierKnobs] = models.Manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="sandbox_courier_knobs_singleton"),
            models.CheckConstraint(
                condition=Q(step_ms__lte=MAX_STEP_MS), name="sandbox_courier_step_bounded"
            ),
        ]

    def __str__(self) -> str:
        return "courier knobs"


class CourierParcel(models.Model):
    """A tracking number a merchant registered, and where its updates go."""

    courier = models.CharField(max_length=8)
    tracking_number = models.CharField(max_length=40)
    subscription_id = models.CharField(max_length=24, unique=True)
    callback_url = models.CharField(max_length=500)
    reference = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[CourierParcel] = models.Manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["courier", "tracking_number"], name="sandbox_parcel_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.courier} {self.tracking_number}"


class CourierPush(models.Model):
    """One status update of a parcel, planned at registration and pushed when due."""

    parcel = models.ForeignKey(CourierParcel, on_delete=models.CASCADE, related_name="pushes")
    event_id = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=20)
    occurred_at = models.DateTimeField()
    location = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The HTTP status of the last attempt, or the error; empty until the first attempt.
    outcome = models.CharField(max_length=100, blank=True)
    acknowledged = models.BooleanField(default=False)

    objects: models.Manager[CourierPush] = models.Manager()

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.status}"
