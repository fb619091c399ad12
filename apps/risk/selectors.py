"""Risk reads for other apps and home pages: queue lengths, caps, holds, complaint rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.risk.models import Cap, Case, DecisionRecord, Hold


def cap_limit(*, code: str) -> int | None:
    """The limit of a cap (None when it has none or does not exist)."""
    return Cap.objects.filter(code=code).values_list("limit", flat=True).first()


def open_cases_count() -> int:
    return Case.objects.filter(status=Case.Status.OPEN).count()


def review_queue_length() -> int:
    return Hold.objects.filter(status=Hold.Status.HELD).count()


def hold_status(*, owner: str, reference: str) -> str | None:
    """``held``, ``released``, ``refused``, or None when the thing was never held."""
    return (
        Hold.objects.filter(owner=owner, reference=reference)
        .values_list("status", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Dashboard:
    days: int
    rows: list[dict[str, Any]]  # day, kind, outcome, n
    top_reasons: list[tuple[str, int]]
    open_cases: int
    review_queue: int


def dashboard(*, days: int = 7) -> Dashboard:
    """Decisions per day, kind and outcome, the commonest reasons, the queues' lengths."""
    since = timezone.now() - timedelta(days=days)
    recent = DecisionRecord.objects.filter(created_at__gte=since)
    rows = list(
        recent.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "kind", "outcome")
        .annotate(n=Count("*"))
        .order_by("-day", "kind", "outcome")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reason, count(*) FROM risk_decisionrecord, unnest(reasons) AS reason "
            "WHERE created_at >= %s GROUP BY reason ORDER BY 2 DESC, 1 LIMIT 10",
            [since],
        )
        top = [(r, int(n)) for r, n in cursor.fetchall()]
    return Dashboard(days, rows, top, open_cases_count(), review_queue_length())


@dataclass(frozen=True)
class ShadowResult:
    label: str
    fired: int
    would_change: int  # fired on events the active rules allowed


def rule_shadow_result(*, label: str, days: int = 7) -> ShadowResult:
    """What a rule version in shadow did over the last days: the events it fired on, and
    those among them it would have changed (they were allowed)."""
    since = timezone.now() - timedelta(days=days)
    fired = DecisionRecord.objects.filter(created_at__gte=since, shadow_rules__contains=[label])
    return ShadowResult(label, fired.count(), fired.filter(outcome="allow").count())


def decisions_counted(*, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
    """Decisions made in [start, end) per kind and outcome, as ``(kind, outcome, n)`` sorted
    by kind and outcome (the analytics rollup reads this; the partitions prune to the range)."""
    rows = (
        DecisionRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("kind", "outcome")
        .annotate(n=Count("*"))
        .order_by("kind", "outcome")
    )
    return [(kind, outcome, int(n)) for kind, outcome, n in rows]


def decisions_latest(*, limit: int = 50) -> list[DecisionRecord]:
    return list(DecisionRecord.objects.order_by("-created_at")[:limit])


def complaint_rate(*, cp_id: str, days: int = 30) -> float | None:
    """A CP's complaints per allowed charge over the last days (None without charges)."""
    from apps.risk.cases import CHARGE_KINDS
    from apps.risk.models import Label

    since = timezone.now() - timedelta(days=days)
    charges = DecisionRecord.objects.filter(
        created_at__gte=since, cp_id=cp_id, kind__in=CHARGE_KINDS, outcome="allow"
    ).count()
    if not charges:
        return None
    complaints = Label.objects.filter(
        created_at__gte=since, cp_id=cp_id, source="complaint"
    ).count()
    return complaints / charges


def vetting_needs_second_reviewer(*, price_fen: int, cp_id: str = "") -> list[str]:
    """The vetting hook for whoever approves a CP's product or price point (the content app):
    the reasons a second reviewer must approve it, empty when one is enough. A price above
    ``RISK_VETTING_PRICE_FEN`` (default 30 yuan), or a CP whose complaint rate over 30 days is
    above ``RISK_COMPLAINT_RATE_MAX`` (default 2 %)."""
    from django.conf import settings

    reasons = []
    if price_fen > int(getattr(settings, "RISK_VETTING_PRICE_FEN", 3000)):
        reasons.append("PRICE_ABOVE_THRESHOLD")
    rate = complaint_rate(cp_id=cp_id) if cp_id else None
    if rate is not None and rate > float(getattr(settings, "RISK_COMPLAINT_RATE_MAX", 0.02)):
        reasons.append("CP_COMPLAINT_RATE")
    return reasons


@dataclass(frozen=True)
class CpWarningView:
    reason: str
    case_id: int
    suspended: bool
    created_at: datetime


def cp_warnings(*, cp_id: str) -> list[CpWarningView]:
    """The warnings risk cases gave a CP, newest first (its console shows them)."""
    from apps.risk.models import CpWarning

    return [
        CpWarningView(reason=w.reason, case_id=w.case_id, suspended=w.suspended, created_at=w.created_at)
        for w in CpWarning.objects.filter(cp_id=cp_id).order_by("-created_at")
    ]  # fmt: skip
