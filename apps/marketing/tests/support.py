"""Test helpers: campaigns open now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.marketing.models import Campaign


def campaign(**fields: Any) -> Campaign:
    now = timezone.now()
    values: dict[str, Any] = {
        "name": "活动", "status": "active", "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(days=1), "rule": "fixed",
    }  # fmt: skip
    values.update(fields)
    return Campaign.objects.create(**values)
