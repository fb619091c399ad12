"""What the sandbox's WeChat official-account server remembers: OAuth codes it issued, and
the template messages and menus platforms sent it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class MpOAuthCode(models.Model):
    """A code the authorize page handed out; exchanged for the openid once, within 5 minutes."""

    code = models.CharField(max_length=64, unique=True)
    appid = models.CharField(max_length=64)
    openid = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    objects: models.Manager[MpOAuthCode] = models.Manager()

    def __str__(self) -> str:
        return f"{self.openid} {self.created_at:%H:%M:%S}"


class MpReceived(models.Model):
    """A template message or a menu a platform sent (the page lists them)."""

    class Kind(models.TextChoices):
        TEMPLATE = "template", "模板消息"
        MENU = "menu", "自定义菜单"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    appid = models.CharField(max_length=64)
    openid = models.CharField(max_length=64, blank=True)
    template_id = models.CharField(max_length=64, blank=True)
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    objects: models.Manager[MpReceived] = models.Manager()

    class Meta:
        indexes = [models.Index(fields=["kind", "openid", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.openid} {self.created_at:%H:%M:%S}"
