"""The carrier network's own records: subscribers, SMS, fault knobs, provisioning, carrier billing."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

MSISDN_REGEX = r"^\+861[0-9]{10}$"
MAX_LATENCY_MS = 60_000
# Longer than any client's timeout; longer hangs would only tie up the server's threads.
MAX_HANG_MS = 60_000
MAX_DLR_DELAY_MS = 600_000


class Subscriber(models.Model):
    """A number on the carrier's own network, as its HLR and billing system (BOSS) see it."""

    class Status(models.TextChoices):
        ACTIVE = "active", "正常"
        SUSPENDED = "suspended", "停机"
        CANCELLED = "cancelled", "销户"

    msisdn = models.CharField("号码", max_length=16, unique=True)
    operator = models.CharField("运营商", max_length=8, default="CMCC")
    province = models.CharField("省份", max_length=32)
    city = models.CharField("城市", max_length=32)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    balance_fen = models.BigIntegerField("余额(分)", default=0)
    # Real-name registration has been compulsory in China since 2013, so a new number is verified.
    real_name_verified = models.BooleanField("已实名", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Declared because the type checker reads the platform's settings, which lack this app.
    objects: models.Manager[Subscriber] = models.Manager()

    class Meta:
        ordering = ["msisdn"]
        constraints = [
            models.CheckConstraint(
                condition=Q(msisdn__regex=MSISDN_REGEX), name="sandbox_subscriber_msisdn_e164"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "cancelled"]),
                name="sandbox_subscriber_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.msisdn

    @property
    def balance_yuan(self) -> str:
        """The balance for display, e.g. ``50.00``, by integer arithmetic (never float)."""
        sign = "-" if self.balance_fen < 0 else ""
        yuan, fen = divmod(abs(self.balance_fen), 100)
        return f"{sign}{yuan}.{fen:02d}"


class SmsMessage(models.Model):
    """A short message the SMSC accepted, stored under the caller's idempotency key."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "已受理"
        DELIVERED = "delivered", "已送达"
        UNDELIVERED = "undelivered", "未送达"

    message_id = models.CharField(max_length=22, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    to = models.CharField(max_length=16)
    text = models.TextField()
    sender = models.CharField(max_length=20, blank=True)
    segments = models.PositiveSmallIntegerField()
    reference = models.CharField(max_length=128, blank=True)
    callback_url = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACCEPTED)
    error_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the final status (delivered or not) was reached; null while only accepted.
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The first answer, replayed verbatim to a repeat under the same idempotency key.
    response = models.JSONField()

    objects: models.Manager[SmsMessage] = models.Manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["to", "-created_at"], name="sandbox_sms_to_created")]
        constraints = [
            models.CheckConstraint(condition=Q(segments__gte=1), name="sandbox_sms_segments_gte_1"),
            models.CheckConstraint(
                condition=Q(status__in=["accepted", "delivered", "undelivered"]),
                name="sandbox_sms_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.message_id


def _rate_field(verbose_name: str, help_text: str) -> models.FloatField:
    return models.FloatField(
        verbose_name,
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=help_text,
    )


class Knobs(models.Model):
    """The one row (pk=1) of fault settings applied to every carrier API call."""

    class DlrStatus(models.TextChoices):
        DELIVERED = "delivered", "送达"
        UNDELIVERED = "undelivered", "未送达"

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    latency_ms = models.PositiveIntegerField(
        "延迟(毫秒)",
        default=0,
        validators=[MaxValueValidator(MAX_LATENCY_MS)],
        help_text="每次调用先等待这么久再处理。",
    )
    error_rate = _rate_field("错误率", "按此概率直接返回 503 而请求不生效。")
    timeout_rate = _rate_field("超时率", "按此概率挂起“挂起时长”后返回 504 而请求不生效。")
    lost_response_rate = _rate_field(
        "响应丢失率", "按此概率请求照常生效但挂起“挂起时长”后才应答。调用方多半已超时。"
    )
    hang_ms = models.PositiveIntegerField(
        "挂起时长(毫秒)",
        default=5000,
        validators=[MaxValueValidator(MAX_HANG_MS)],
        help_text="超时与响应丢失时挂起的时长。",
    )
    dlr_delay_ms = models.PositiveIntegerField(
        "状态报告延迟(毫秒)",
        default=300,
        validators=[MaxValueValidator(MAX_DLR_DELAY_MS)],
        help_text="短信受理后过多久产生状态报告。",
    )
    dlr_status = models.CharField(
        "状态报告结果",
        max_length=16,
        choices=DlrStatus.choices,
        default=DlrStatus.DELIVERED,
        help_text="停机或销户号码总是未送达。",
    )
    dlr_duplicate = models.BooleanField(
        "重复推送状态报告", default=False, help_text="同一份状态报告推送两次。"
    )
    pay_notify_delay_ms = models.PositiveIntegerField(
        "支付通知延迟(毫秒)",
        default=200,
        validators=[MaxValueValidator(MAX_DLR_DELAY_MS)],
        help_text="付款成功后过多久推送异步通知。",
    )
    pay_notify_mode = models.CharField(
        "支付通知方式",
        max_length=16,
        choices=[
            ("normal", "正常推送"),
            ("duplicate", "重复推送三次"),
            ("out_of_order", "乱序（先推送旧状态）"),
            ("lost", "丢失（不推送）"),
            ("wrong_amount", "金额错误"),
        ],
        default="normal",
        help_text="收银台未单独选择时的默认通知方式。",
    )
    # Per provincial BOSS: {"gd": {"error_rate": 1.0, "latency_ms": 3000}}; the rest inherit.
    province_knobs = models.JSONField("分省设置", default=dict, blank=True)
    # Differences the daily bill files carry, by "<provider>:<YYYY-MM-DD>" (sandbox/bills.py).
    bill_differences = models.JSONField("对账单差异", default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: models.Manager[Knobs] = models.Manager()

    class Meta:
        verbose_name_plural = "knobs"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="sandbox_knobs_singleton"),
            models.CheckConstraint(
                condition=Q(error_rate__gte=0, error_rate__lte=1)
                & Q(timeout_rate__gte=0, timeout_rate__lte=1)
                & Q(lost_response_rate__gte=0, lost_response_rate__lte=1),
                name="sandbox_knobs_rates_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=Q(latency_ms__lte=MAX_LATENCY_MS)
                & Q(hang_ms__lte=MAX_HANG_MS)
                & Q(dlr_delay_ms__lte=MAX_DLR_DELAY_MS),
                name="sandbox_knobs_durations_bounded",
            ),
            models.CheckConstraint(
                condition=Q(dlr_status__in=["delivered", "undelivered"]),
                name="sandbox_knobs_dlr_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return "knobs"


KNOB_FIELDS = (
    "latency_ms",
    "error_rate",
    "timeout_rate",
    "lost_response_rate",
    "hang_ms",
    "dlr_delay_ms",
    "dlr_status",
    "dlr_duplicate",
    "pay_notify_delay_ms",
    "pay_notify_mode",
)


class CarrierPayment(models.Model):
    """A charge to a subscriber's phone bill (CAMARA carrier billing: prepare, validate, confirm)."""

    class Status(models.TextChoices):
        PREPARED = "prepared", "待验证"
        VALIDATED = "validated", "已验证"
        SUCCEEDED = "succeeded", "已扣费"
        CANCELLED = "cancelled", "已取消"

    payment_id = models.CharField(max_length=32, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    msisdn = models.CharField(max_length=20)
    amount_fen = models.BigIntegerField()
    description = models.CharField(max_length=200, blank=True)
    merchant_reference = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREPARED)
    code = models.CharField(max_length=6)
    attempts = models.PositiveSmallIntegerField(default=0)
    refunded_fen = models.BigIntegerField(default=0)
    refunds = models.JSONField(default=dict, blank=True, help_text="refund reference -> amount")
    # When the bill was charged and each refund credited: the daily billing statement's days.
    charged_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.JSONField(
        default=dict, blank=True, help_text="refund reference -> ISO time"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[CarrierPayment] = models.Manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0), name="sandbox_carrier_payment_amount"
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0) & Q(refunded_fen__lte=models.F("amount_fen")),
                name="sandbox_carrier_payment_refund_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.msisdn} {self.status}"


class Provisioning(models.Model):
    """A change the BOSS applied to a subscriber: an airtime top-up or a data pack."""

    class Kind(models.TextChoices):
        RECHARGE = "recharge", "话费充值"
        DATA_PACK = "data_pack", "流量包"
        PLAN_CHANGE = "plan_change", "套餐变更"
        ADDON = "addon", "叠加包"

    request_id = models.CharField(max_length=32, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    msisdn = models.CharField(max_length=20, db_index=True)
    amount_fen = models.BigIntegerField(default=0)
    volume_mb = models.PositiveIntegerField(default=0)
    validity_days = models.PositiveIntegerField(default=0)
    reference = models.CharField(max_length=64, blank=True)
    # Plan changes and add-ons: the offer, when it takes effect, what the balance was charged.
    offer_code = models.CharField(max_length=32, blank=True)
    effective_from = models.DateField(null=True, blank=True)
    fee_fen = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[Provisioning] = models.Manager()

    def __str__(self) -> str:
        return f"{self.kind} {self.msisdn} {self.request_id}"
