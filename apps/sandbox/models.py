"""What the carrier's network remembers: subscribers (HLR/BOSS), short messages (SMSC), knobs."""

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


class PayTrade(models.Model):
    """A payment a merchant opened with one of the providers the sandbox plays."""

    class Provider(models.TextChoices):
        ALIPAY = "alipay", "支付宝"
        WECHAT = "wechat", "微信支付"
        UNIONPAY = "unionpay", "银联"

    class Status(models.TextChoices):
        PENDING = "pending", "待支付"
        SUCCEEDED = "succeeded", "已支付"
        CLOSED = "closed", "已关闭"

    provider = models.CharField(max_length=16, choices=Provider.choices)
    merchant_id = models.CharField(max_length=64)
    out_trade_no = models.CharField(max_length=64)
    trade_no = models.CharField(max_length=64, unique=True)
    amount_fen = models.BigIntegerField()
    subject = models.CharField(max_length=256, blank=True)
    channel = models.CharField(max_length=16, blank=True)
    notify_url = models.URLField(max_length=500, blank=True)
    return_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # How the notification for this trade goes out; empty means the global knob.
    notify_mode = models.CharField(max_length=16, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    objects: models.Manager[PayTrade] = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "merchant_id", "out_trade_no"], name="sandbox_pay_trade_once"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="sandbox_pay_trade_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.out_trade_no}"


class PayRefund(models.Model):
    trade = models.ForeignKey(PayTrade, on_delete=models.CASCADE, related_name="refunds")
    out_request_no = models.CharField(max_length=64)
    refund_no = models.CharField(max_length=64, unique=True)
    amount_fen = models.BigIntegerField()
    status = models.CharField(max_length=16, default="succeeded")
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[PayRefund] = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trade", "out_request_no"], name="sandbox_pay_refund_once"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="sandbox_pay_refund_amount"),
        ]

    def __str__(self) -> str:
        return f"refund {self.out_request_no}"


class PayNotification(models.Model):
    """Every notification the sandbox sent (or chose to lose), for the pages and the tests."""

    trade = models.ForeignKey(PayTrade, on_delete=models.CASCADE, related_name="notifications")
    url = models.URLField(max_length=500)
    body = models.TextField()
    headers = models.JSONField(default=dict)
    mode = models.CharField(max_length=16)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[PayNotification] = models.Manager()

    def __str__(self) -> str:
        return f"notification {self.mode} {self.response_status}"


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


# --- Network capabilities: SIM changes, network-based device authentication, voice calls -------


class SimChange(models.Model):
    """A new SIM card put on a line (a SIM swap), as the HLR records it."""

    msisdn = models.CharField(max_length=16)
    changed_at = models.DateTimeField()
    iccid = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[SimChange] = models.Manager()

    class Meta:
        indexes = [models.Index(fields=["msisdn", "-changed_at"], name="sandbox_simchange_latest")]

    def __str__(self) -> str:
        return f"{self.msisdn} {self.changed_at:%Y-%m-%d %H:%M}"


class DeviceToken(models.Model):
    """A token the network gave a device it recognised on its data bearer (stored hashed)."""

    token_hash = models.CharField(max_length=64, unique=True)
    msisdn = models.CharField(max_length=16)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[DeviceToken] = models.Manager()

    def __str__(self) -> str:
        return f"device token for {self.msisdn}"


class VoiceCall(models.Model):
    """A click-to-dial call: the network rings the caller's and callee's lines and bridges them."""

    class Status(models.TextChoices):
        INITIATED = "initiated", "已发起"
        RINGING = "ringing", "振铃中"
        ANSWERED = "answered", "通话中"
        COMPLETED = "completed", "已结束"
        BUSY = "busy", "忙线"
        NO_ANSWER = "no-answer", "无人接听"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已取消"

    call_id = models.CharField(max_length=32, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    caller = models.CharField(max_length=16)
    callee = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INITIATED)
    reason = models.CharField(max_length=32, blank=True)
    reference = models.CharField(max_length=128, blank=True)
    callback_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects: models.Manager[VoiceCall] = models.Manager()

    def __str__(self) -> str:
        return f"{self.call_id} {self.status}"


class CallBehaviour(models.Model):
    """How a number answers calls in the sandbox (tests and the demo set it per callee)."""

    class Outcome(models.TextChoices):
        ANSWER = "answer", "接听"
        BUSY = "busy", "忙线"
        NO_ANSWER = "no-answer", "不接听"

    msisdn = models.CharField(max_length=16, unique=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.ANSWER)
    ring_ms = models.PositiveIntegerField(default=1000, validators=[MaxValueValidator(60_000)])
    talk_ms = models.PositiveIntegerField(default=2000, validators=[MaxValueValidator(600_000)])

    objects: models.Manager[CallBehaviour] = models.Manager()

    def __str__(self) -> str:
        return f"{self.msisdn} {self.outcome}"


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


class IdentityRecord(models.Model):
    """What the national identity register (NCIIC, asked through the carrier) knows of one ID.

    IDs not recorded here are taken as genuine under the name given; a record makes a wrong name
    fail and can count numbers the person holds at other carriers.
    """

    id_number_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField("姓名", max_length=30)
    other_numbers = models.PositiveSmallIntegerField("其他运营商号码数", default=0)

    objects: models.Manager[IdentityRecord] = models.Manager()

    def __str__(self) -> str:
        return f"{self.name[:1]}* {self.id_number_hash[:8]}"


class SimRegistration(models.Model):
    """A line the BOSS opened for a new SIM card under its owner's identity (once per key)."""

    request_id = models.CharField(max_length=32, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    msisdn = models.CharField(max_length=20, unique=True)
    owner_name = models.CharField(max_length=30)
    id_number_hash = models.CharField(max_length=64, db_index=True)
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[SimRegistration] = models.Manager()

    def __str__(self) -> str:
        return f"{self.msisdn} {self.request_id}"


# The couriers' tables live in their own module; imported here so Django registers them.
from apps.sandbox.courier_models import CourierKnobs, CourierParcel, CourierPush  # noqa: E402, F401


class DeviceState(models.Model):
    """What the network knows of a line's device now (the HLR/HSS and the location server):
    roaming, reachability and position. A line without a row is at home, reachable by data
    and SMS, at its home city's centre."""

    msisdn = models.CharField(max_length=16, unique=True)
    roaming_country_code = models.PositiveSmallIntegerField(null=True, blank=True)  # MCC
    roaming_country_name = models.CharField(max_length=8, blank=True)  # ISO 3166 alpha-2
    reachable_data = models.BooleanField(default=True)
    reachable_sms = models.BooleanField(default=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(default=500)
    # False: the location server has never located the device (switched off since joining).
    locatable = models.BooleanField(default=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: models.Manager[DeviceState] = models.Manager()

    def __str__(self) -> str:
        return f"device of {self.msisdn}"


class RealNameRecord(models.Model):
    """The carrier's real-name register entry of a line (实名登记): who registered it. Matched
    against what a partner holds (KYC match); never handed out."""

    msisdn = models.CharField(max_length=16, unique=True)
    id_document = models.CharField(max_length=32)
    name = models.CharField(max_length=60)
    given_name = models.CharField(max_length=30, blank=True)
    family_name = models.CharField(max_length=30, blank=True)
    birthdate = models.DateField()
    address = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    region = models.CharField(max_length=32, blank=True)
    locality = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=2, default="CN")
    email = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=8, blank=True)
    # Whether the carrier verified the record against an ID document in a shop.
    verified = models.BooleanField(default=True)
    parental_control = models.BooleanField(default=False)
    content_lock = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects: models.Manager[RealNameRecord] = models.Manager()

    def __str__(self) -> str:
        return f"real-name record of {self.msisdn}"
