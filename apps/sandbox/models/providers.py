"""The payment providers' trades, refunds and the notifications sent to merchants."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


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
