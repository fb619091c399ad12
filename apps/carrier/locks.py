"""The carrier app's row locks. An SMS is locked after anything of the caller's (global order in
apps/core/locks.py); a caller never locks another row of its own after an SMS."""

from __future__ import annotations

import uuid

from apps.carrier.models import SmsMessage


def sms_lock(message_id: uuid.UUID) -> SmsMessage | None:
    """Lock one SMS (None when there is none)."""
    return SmsMessage.objects.select_for_update().filter(pk=message_id).first()
