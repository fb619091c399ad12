"""Phone-bill spending caps for content, from this one place (risk control may take it over).

``caps_for`` says the caps that apply to a subscriber buying from a CP; ``caps_check`` refuses a
charge that would pass one. Counted: content charges pending or paid. The caps come from
settings (``CONTENT_CAPS``) with the defaults below; the payments app's own phone-bill caps
for all purposes still apply on top.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from apps.content.errors import CapExceeded

DEFAULTS = {
    "subscriber_daily_fen": 200_00,
    "subscriber_monthly_fen": 500_00,
    "cp_daily_fen": 10_000_000_00,
}
COUNTED = ("pending", "succeeded")


@dataclass(frozen=True)
class Caps:
    subscriber_daily_fen: int
    subscriber_monthly_fen: int
    # All subscribers together, per CP and day (a runaway CP app stops here).
    cp_daily_fen: int


def caps_for(*, user_id: int, cp_id: int) -> Caps:
    """The caps for this subscriber and CP (the same for all today; the signature leaves room
    for per-subscriber or per-CP rules)."""
    values = {**DEFAULTS, **getattr(settings, "CONTENT_CAPS", {})}
    return Caps(**values)


def caps_check(*, user_id: int, cp_id: int, amount_fen: int, exclude_charge: str = "") -> None:
    """Raise ``CapExceeded`` (with which cap, its limit and what is spent) if ``amount_fen``
    more would pass a cap. The caller holds the subscriber's advisory lock."""
    from apps.content.models import Charge

    caps = caps_for(user_id=user_id, cp_id=cp_id)
    now = timezone.localtime()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = Charge.objects.filter(
        status__in=COUNTED, channel__in=["in_app", "web", "subscription"]
    ).exclude(pk=exclude_charge)

    def spent(**filters: object) -> int:
        return int(rows.filter(**filters).aggregate(total=Sum("amount_fen"))["total"] or 0)

    checks = (
        ("subscriber_daily_fen", caps.subscriber_daily_fen, {"user_id": user_id, "created_at__gte": day}),
        ("subscriber_monthly_fen", caps.subscriber_monthly_fen, {"user_id": user_id, "created_at__gte": day.replace(day=1)}),
        ("cp_daily_fen", caps.cp_daily_fen, {"cp_id": cp_id, "created_at__gte": day}),
    )  # fmt: skip
    for name, limit, filters in checks:
        used = spent(**filters)
        if used + amount_fen > limit:
            raise CapExceeded(details={"cap": name, "limit_fen": limit, "spent_fen": used})
