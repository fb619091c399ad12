"""The demo CP app's server: the platform's notifications it received (one row per event id)."""

from __future__ import annotations

from django.db import models


class CpAppEvent(models.Model):
    event_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=40)
    body = models.JSONField()
    deliveries = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[CpAppEvent] = models.Manager()

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"
