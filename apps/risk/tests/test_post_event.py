"""Post-event: scores from recorded decisions, the nightly anomaly job, cases feeding lists."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from apps.risk import recorder, services, tasks
from apps.risk.cases import anomalies_open_cases, subject_score
from apps.risk.events import Event, Kind
from apps.risk.models import Case, DecisionRecord, Label, ListEntry
from apps.risk.tests.support import active_rule

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 30)


def _at(hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(DAY, time(hour, 15)))


def _decision(**fields: object) -> DecisionRecord:
    defaults: dict[str, object] = {
        "created_at": _at(12),
        "id": uuid.uuid4(),
        "kind": "phone_bill_charge",
        "outcome": "allow",
    }
    return DecisionRecord(**{**defaults, **fields})


def test_the_flush_task_scores_each_subscriber_and_rules_read_the_score():
    active_rule("blocked-twice", "score >= 20", kinds=["checkout"])
    services.list_entry_add(
        action="block", dimension="msisdn", value="13800000020", reason="t", actor_id=None
    )
    for _ in range(2):
        services.decide(event=Event(kind=Kind.SIGN_IN, msisdn="13800000020"))
    services.decide(event=Event(kind=Kind.SIGN_IN, msisdn="13800000021"))

    assert tasks.decisions_flush_task() == 3  # eager here: the scoring task ran too

    assert (subject_score(msisdn="13800000020"), subject_score(msisdn="13800000021")) == (20.0, 0.0)
    services.list_entry_remove(entry_id=ListEntry.objects.get().pk, actor_id=None, why="cleared")
    decision = services.decide(event=Event(kind=Kind.CHECKOUT, msisdn="13800000020"))
    assert (decision.outcome, decision.reasons) == ("block", ("BLOCKED_TWICE",))


def test_the_anomaly_job_opens_exactly_one_case_per_anomaly_per_day():
    rows = [_decision(cp_id="cp9", reference=f"C{i}") for i in range(20)]
    rows += [
        _decision(kind="sign_in", device_id="dev-farm", msisdn=f"1380000010{i}") for i in range(5)
    ]
    rows += [
        _decision(kind="sign_in", device_id="dev-home", msisdn="13800000200") for _ in range(3)
    ]
    rows += [_decision(cp_id="cp-ok", reference=f"K{i}") for i in range(20)]
    DecisionRecord.objects.bulk_create(rows)
    complaint = Label.objects.create(source="complaint", reference="C1", cp_id="cp9", origin="T1")
    Label.objects.filter(pk=complaint.pk).update(created_at=_at(13))

    first = anomalies_open_cases(day=DAY)
    again = anomalies_open_cases(day=DAY)
    next_day = anomalies_open_cases(day=DAY + timedelta(days=1))

    assert (first, again, next_day) == (2, 0, 0)
    assert sorted(Case.objects.values_list("anomaly", "subject")) == [
        ("complaint_rate", "cp_id:cp9"), ("device_many_numbers", "device:dev-farm"),
    ]  # fmt: skip
    assert Case.objects.get(anomaly="complaint_rate").references == ["C1"]


def test_a_night_burst_and_a_spike_are_anomalies():
    DecisionRecord.objects.bulk_create(
        [_decision(cp_id="cp-night", created_at=_at(3)) for _ in range(50)]
        + [_decision(kind="otp_request", created_at=_at(10)) for _ in range(100)]
        + [_decision(kind="otp_request", created_at=_at(10) - timedelta(days=3)) for _ in range(7)]
    )

    # 100 codes against 1 a day is a spike; 50 charges are under the spike minimum (100).
    assert tasks.anomalies_task(DAY.isoformat()) == 2
    assert sorted(Case.objects.values_list("anomaly", "subject")) == [
        ("night_burst", "cp_id:cp-night"), ("spike", "kind:otp_request"),
    ]  # fmt: skip


def test_closing_a_case_with_a_suspension_blocks_the_cp():
    case = Case.objects.create(
        anomaly="complaint_rate", subject="cp_id:cp9", day=DAY, title="complaints"
    )

    services.case_update(
        case_id=case.pk,
        assignee_id=None,
        notes="called them",
        outcome="cp_suspended",
        actor_id=None,
    )

    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "cp_suspended")
    entry = ListEntry.objects.get()
    assert (entry.action, entry.dimension, entry.value, entry.source) == (
        "block",
        "cp",
        "cp9",
        f"case:{case.pk}",
    )
    assert services.decide(event=Event(kind=Kind.CONTENT_CHARGE, cp_id="cp9")).outcome == "block"


def _user(phone: str, *codenames: str) -> int:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user(phone, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return int(user.pk)


def test_closing_a_case_as_refunds_issued_needs_the_refund_permission_in_the_service():
    """Not only the workbench form: the service itself refuses a user (or no user) who may not
    approve refunds, and nothing moves: the case stays open, no event, no audit of a close."""
    from apps.core.models import AuditEvent, OutboxEvent
    from apps.risk.errors import RefundPermissionRequired

    case = Case.objects.create(anomaly="refund_fraud_rate", subject="cp_id:cp8", day=DAY,
                               title="refunds", references=["CC1"])  # fmt: skip
    risk_only = _user("13900000031", "change_case")

    for actor_id in (risk_only, None):
        with pytest.raises(RefundPermissionRequired) as refused:
            services.case_update(case_id=case.pk, assignee_id=None, notes="pay them back",
                                 outcome="refunds", actor_id=actor_id)  # fmt: skip
        assert (refused.value.code, refused.value.http_status) == ("RISK_REFUND_PERMISSION", 403)

    case.refresh_from_db()
    assert (case.status, case.outcome, case.notes) == ("open", "", "")
    assert not OutboxEvent.objects.filter(topic="risk.case.closed").exists()
    assert not AuditEvent.objects.filter(action="risk.case.updated").exists()

    finance = _user("13900000032", "change_refund")
    services.case_update(case_id=case.pk, assignee_id=None, notes="pay them back",
                         outcome="refunds", actor_id=finance)  # fmt: skip
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "refunds")
    assert OutboxEvent.objects.get(topic="risk.case.closed").payload["actor_id"] == finance
    # Closed: saving it again by anyone acts on nothing and asks nothing.
    services.case_update(case_id=case.pk, assignee_id=None, notes="noted", outcome="refunds",
                         actor_id=risk_only)  # fmt: skip


def test_flushing_twice_writes_each_decision_once():
    services.decide(event=Event(kind=Kind.CHECKOUT))
    ids = recorder.decisions_flush()
    recorder._insert(
        [
            {**row, "id": ids[0]}
            for row in [
                {
                    "created_at": DecisionRecord.objects.get().created_at,
                    "kind": "checkout",
                    "outcome": "allow",
                }
            ]
        ]
    )
    assert DecisionRecord.objects.count() == 1


def test_vetting_asks_for_a_second_reviewer_over_the_price_or_a_complained_about_cp(settings):
    from apps.risk.selectors import complaint_rate, vetting_needs_second_reviewer

    now = timezone.now()
    DecisionRecord.objects.bulk_create(
        [_decision(cp_id="cp-bad", created_at=now) for _ in range(10)]
        + [_decision(cp_id="cp-good", created_at=now) for _ in range(10)]
    )
    Label.objects.create(source="complaint", reference="X1", cp_id="cp-bad", origin="T-X1")

    assert (
        complaint_rate(cp_id="cp-bad"),
        complaint_rate(cp_id="cp-good"),
        complaint_rate(cp_id="cp-new"),
    ) == (0.1, 0.0, None)
    assert vetting_needs_second_reviewer(price_fen=500, cp_id="cp-good") == []
    assert vetting_needs_second_reviewer(price_fen=5000, cp_id="cp-good") == [
        "PRICE_ABOVE_THRESHOLD"
    ]
    assert vetting_needs_second_reviewer(price_fen=5000, cp_id="cp-bad") == [
        "PRICE_ABOVE_THRESHOLD",
        "CP_COMPLAINT_RATE",
    ]
