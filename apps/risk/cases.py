"""Post-event: per-subject scores, the nightly anomaly search, cases and what they end in.

Scores live in Redis beside the counters (``risk:score:<msisdn>``, seven days after the last
change), so ``decide`` reads them in its one round trip and rules use them as ``score``.
Anomalies open one case per anomaly, subject and day (a unique key: running the job twice,
or on two beat nodes, opens nothing new).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.core import outbox
from apps.core.audit import audit_record
from apps.core.errors import InvalidArgument
from apps.core.redis import get_redis
from apps.risk.counters import score_key
from apps.risk.errors import RefundPermissionRequired

if TYPE_CHECKING:
    from apps.risk.models import Case

SCORE_POINTS = {"block": 10.0, "review": 5.0, "challenge": 2.0, "allow": 0.0}
SCORE_TTL_SECONDS = 7 * 86400
CHARGE_KINDS = ["phone_bill_charge", "content_charge", "gateway_billing", "payment_start"]


def scores_update(*, decision_ids: list[str]) -> int:
    """Add each recorded decision's points to its subscriber's score; returns the subjects
    touched. A watch-list hit adds a point."""
    from apps.risk.models import DecisionRecord

    points: dict[str, float] = {}
    rows = DecisionRecord.objects.filter(id__in=decision_ids).values_list(
        "msisdn", "outcome", "context"
    )
    for msisdn, outcome, context in rows:
        if msisdn:
            gained = SCORE_POINTS.get(outcome, 0.0) + (1.0 if context.get("watch") else 0.0)
            points[msisdn] = points.get(msisdn, 0.0) + gained
    points = {k: v for k, v in points.items() if v}
    if not points:
        return 0
    try:
        pipe = get_redis().pipeline(transaction=False)
        for msisdn, value in points.items():
            pipe.incrbyfloat(score_key(msisdn), value)
            pipe.expire(score_key(msisdn), SCORE_TTL_SECONDS)
        pipe.execute()
    except redis.RedisError:
        return 0
    return len(points)


def subject_score(*, msisdn: str) -> float:
    try:
        return float(get_redis().get(score_key(msisdn)) or 0)
    except redis.RedisError:
        return 0.0


# --- anomalies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anomaly:
    anomaly: str
    subject: str
    title: str
    evidence: dict[str, Any]
    references: list[str]


def _threshold(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _day_range(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def anomalies_find(*, day: date) -> list[Anomaly]:
    """What looked wrong on ``day`` (Asia/Shanghai), from the recorded decisions and labels."""
    from apps.risk.models import DecisionRecord, Label

    start, end = _day_range(day)
    today = DecisionRecord.objects.filter(created_at__gte=start, created_at__lt=end)
    found: list[Anomaly] = []
    charges = today.filter(kind__in=CHARGE_KINDS, outcome="allow")

    # Complaint and refund rates per CP (or product where no CP).
    min_volume = int(_threshold("RISK_RATE_MIN_CHARGES", 20))
    for field in ("cp_id", "product"):
        volume = dict(
            charges.exclude(**{field: ""})
            .values_list(field)
            .annotate(n=Count("*"))
            .values_list(field, "n")
        )
        labels = Label.objects.filter(created_at__gte=start, created_at__lt=end).exclude(
            **{field: ""}
        )
        for source, limit_name, default in (("complaint", "RISK_COMPLAINT_RATE_MAX", 0.02),
                                            ("refund_fraud", "RISK_REFUND_RATE_MAX", 0.05),
                                            ("chargeback", "RISK_CHARGEBACK_RATE_MAX", 0.01)):  # fmt: skip
            counts = (
                labels.filter(source=source)
                .values_list(field)
                .annotate(n=Count("*"))
                .values_list(field, "n")
            )
            for subject, n in counts:
                charged = volume.get(subject, 0)
                if charged >= min_volume and n / charged > _threshold(limit_name, default):
                    refs = list(
                        labels.filter(source=source, **{field: subject}).values_list(
                            "reference", flat=True
                        )[:50]
                    )
                    found.append(Anomaly(f"{source}_rate", f"{field}:{subject}",
                                         f"{source} rate {n}/{charged} for {field} {subject}",
                                         {"labels": n, "charges": charged}, refs))  # fmt: skip

    # Night bursts per CP: most of a CP's charges between 00:00 and 06:00.
    night_end = start + timedelta(hours=6)
    burst_min = int(_threshold("RISK_NIGHT_BURST_MIN", 50))
    per_cp = (
        charges.exclude(cp_id="")
        .values("cp_id")
        .annotate(total=Count("id"), night=Count("id", filter=Q(created_at__lt=night_end)))
    )
    for row in per_cp:
        if row["night"] >= burst_min and row["night"] * 2 > row["total"]:
            found.append(Anomaly("night_burst", f"cp_id:{row['cp_id']}", f"night burst for CP {row['cp_id']}",
                                 {"night": row["night"], "total": row["total"]}, []))  # fmt: skip

    # One device, many numbers.
    device_max = int(_threshold("RISK_DEVICE_NUMBERS_MAX", 5))
    for row in (
        today.exclude(device_id="")
        .exclude(msisdn="")
        .values("device_id")
        .annotate(numbers=Count("msisdn", distinct=True))
    ):
        if row["numbers"] >= device_max:
            found.append(Anomaly("device_many_numbers", f"device:{row['device_id']}",
                                 f"device {row['device_id']} used {row['numbers']} numbers",
                                 {"numbers": row["numbers"]}, []))  # fmt: skip

    # Many code attempts per number (a sign-in decision comes before every code check).
    codes_max = int(_threshold("RISK_CODE_ATTEMPTS_MAX", 10))
    for row in (
        today.filter(kind="sign_in").exclude(msisdn="").values("msisdn").annotate(n=Count("*"))
    ):
        if row["n"] >= codes_max:
            found.append(Anomaly("many_code_attempts", f"msisdn:{row['msisdn']}",
                                 f"{row['n']} code attempts for {row['msisdn']}", {"attempts": row["n"]}, []))  # fmt: skip

    # Spikes per kind against the trailing seven days' daily average.
    spike_min = int(_threshold("RISK_SPIKE_MIN", 100))
    factor = _threshold("RISK_SPIKE_FACTOR", 3.0)
    week = DecisionRecord.objects.filter(
        created_at__gte=start - timedelta(days=7), created_at__lt=start
    )
    baseline = dict(week.values_list("kind").annotate(n=Count("*")).values_list("kind", "n"))
    for kind, n in today.values_list("kind").annotate(n=Count("*")).values_list("kind", "n"):
        average = baseline.get(kind, 0) / 7
        if n >= spike_min and n > factor * average:
            found.append(Anomaly("spike", f"kind:{kind}", f"{kind}: {n} decisions against {average:.0f} a day",
                                 {"today": n, "average": round(average, 1)}, []))  # fmt: skip
    return found


def anomalies_open_cases(*, day: date) -> int:
    """Open a case for each anomaly of ``day`` that has none yet; returns how many opened."""
    from apps.risk.models import Case

    opened = 0
    for a in anomalies_find(day=day):
        try:
            with transaction.atomic():
                _case, created = Case.objects.get_or_create(
                    anomaly=a.anomaly, subject=a.subject[:80], day=day,
                    defaults={"title": a.title[:200], "evidence": a.evidence, "references": a.references},
                )  # fmt: skip
        except IntegrityError:
            created = False
        opened += created
    return opened


_FEEDS = {
    # outcome → list action for the case's subject
    "list_entry": "block",
    "cp_suspended": "block",
    "cp_warned": "watch",
}
_SUBJECT_DIMENSION = {
    "msisdn": "msisdn",
    "device": "device",
    "cp_id": "cp",
    "id_hash": "id_hash",
    "ip": "ip",
}


def _cp_warn(case: Any, *, cp_id: str, actor_id: int | None) -> bool:
    """Record the case's warning of CP ``cp_id``; True when it is the CP's
    ``RISK_CP_WARNINGS_BEFORE_SUSPENSION``-th, which suspends it. Counting waits on a lock per
    CP, so two cases closed at once cannot both stop short of the threshold."""
    from apps.core.locks import advisory_xact_lock
    from apps.risk.models import CpWarning

    advisory_xact_lock("risk-cp-warning", cp_id)
    warning = CpWarning.objects.create(
        cp_id=cp_id, case=case, reason=case.title[:200], created_by_id=actor_id
    )
    count = CpWarning.objects.filter(cp_id=cp_id).count()
    suspend = count >= settings.RISK_CP_WARNINGS_BEFORE_SUSPENSION
    if suspend:
        warning.suspended = True
        warning.save(update_fields=["suspended"])
    audit_record(action="risk.cp.warned", object_type="content_provider", object_id=cp_id,
                 actor_id=actor_id, after={"case": case.pk, "warnings": count, "suspended": suspend})  # fmt: skip
    return suspend


# Closing a case as "refunds issued" refunds its linked payments with no second approval: the
# acting user must hold finance's refund approval (the permission string: risk imports no app).
REFUND_APPROVAL_PERMISSION = "payments.change_refund"


def _may_issue_refunds(actor_id: int | None) -> bool:
    from django.contrib.auth import get_user_model

    if actor_id is None:
        return False
    actor = get_user_model().objects.filter(pk=actor_id, is_active=True).first()
    return actor is not None and actor.has_perm(REFUND_APPROVAL_PERMISSION)


def refunds_refused(case: Case, outcome: str, *, may_issue_refunds: bool) -> bool:
    """Closing an open case as "refunds issued" refunds its linked payments automatically:
    only a user who may approve refunds (finance's right) may do it (the service's check, and
    the case form's, which says it before the save)."""
    from apps.risk.models import Case

    closing = case.status == Case.Status.OPEN
    return closing and outcome == Case.Outcome.REFUNDS and not may_issue_refunds


def case_update(
    *, case_id: int, assignee_id: int | None, notes: str, outcome: str, actor_id: int | None
) -> Any:
    """Assign, note and close a case. An outcome closes it (once: a case closed already keeps
    its outcome, and acting on it again does nothing); a list entry, CP warning or suspension
    puts the case's subject on the block or watch list (source ``case:<id>``). A CP warning is
    recorded for the CP's console and its ``RISK_CP_WARNINGS_BEFORE_SUSPENSION``-th suspends
    the CP (blocked, ``suspend`` in the event). Closing publishes ``risk.case.closed``
    (outbox, once per case) with the case's linked references for the apps above: content
    warns or suspends the CP, payments refunds the linked payments of a case closed as
    "refunds issued" — which only a user holding ``REFUND_APPROVAL_PERMISSION`` may choose
    (anyone else, or no user, is ``RefundPermissionRequired`` and nothing is written). Locks the
    case row."""
    from apps.risk.models import Case
    from apps.risk.services import list_entry_add

    if outcome and outcome not in Case.Outcome.values:
        raise InvalidArgument(f"Unknown outcome {outcome!r}.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        before = {"status": case.status, "outcome": case.outcome}
        case.assignee_id, case.notes = assignee_id, notes
        closing = bool(outcome) and case.status == Case.Status.OPEN
        if refunds_refused(case, outcome, may_issue_refunds=_may_issue_refunds(actor_id)):
            raise RefundPermissionRequired()
        if closing:
            case.outcome, case.status, case.closed_at = outcome, Case.Status.CLOSED, timezone.now()
        case.save()
        audit_record(action="risk.case.updated", object_type="risk_case", object_id=case.pk, actor_id=actor_id,
                     before=before, after={"status": case.status, "outcome": case.outcome})  # fmt: skip
        dimension, _sep, value = case.subject.partition(":")
        suspend = outcome == Case.Outcome.CP_SUSPENDED
        if closing and outcome == Case.Outcome.CP_WARNED and dimension == "cp_id" and value:
            suspend = _cp_warn(case, cp_id=value, actor_id=actor_id)
        if closing:  # the apps above act on it
            outbox.publish(
                "risk.case.closed",
                {"case_id": case.pk, "anomaly": case.anomaly, "subject": case.subject,
                 "outcome": outcome, "title": case.title, "actor_id": actor_id,
                 "references": list(case.references), "suspend": suspend},
                key=f"risk-case:{case.pk}:closed",
            )  # fmt: skip
        if closing and outcome in _FEEDS and dimension in _SUBJECT_DIMENSION:
            list_entry_add(
                action="block" if suspend else _FEEDS[outcome], dimension=_SUBJECT_DIMENSION[dimension],
                value=value, reason=f"case {case.pk}: {case.title}"[:200], source=f"case:{case.pk}",
                actor_id=actor_id,
            )  # fmt: skip
    return case
