"""Labels through risk's service API: chargebacks count like refunds marked fraud."""

from __future__ import annotations

import uuid
from datetime import datetime, time

import pytest
from django.utils import timezone

from apps.core.errors import InvalidArgument
from apps.risk import services
from apps.risk.cases import anomalies_find, subject_score
from apps.risk.events import Event, Kind
from apps.risk.models import DecisionRecord, Label
from apps.risk.tests.support import active_rule

pytestmark = pytest.mark.django_db
NUMBER = "13800000077"


def test_a_chargeback_label_raises_the_score_the_rules_read(django_capture_on_commit_callbacks):
    active_rule("labelled-number", "score >= 20", kinds=["content_charge"])
    before = services.decide(event=Event(kind=Kind.CONTENT_CHARGE, msisdn=NUMBER, cp_id="3"))

    with django_capture_on_commit_callbacks(execute=True):
        first = services.label_record(source="chargeback", origin="cb:CC1", reference="CC1",
                                      msisdn=f"+86{NUMBER}", cp_id="3")  # fmt: skip
        repeat = services.label_record(source="chargeback", origin="cb:CC1", reference="CC1",
                                       msisdn=NUMBER, cp_id="3")  # fmt: skip
    after = services.decide(event=Event(kind=Kind.CONTENT_CHARGE, msisdn=NUMBER, cp_id="3"))

    assert (first, repeat) == (True, False)
    assert before.outcome == "allow"
    assert subject_score(msisdn=NUMBER) == services.LABEL_POINTS["chargeback"] == 20.0
    assert services.LABEL_POINTS["chargeback"] == services.LABEL_POINTS["refund_fraud"]
    assert (after.outcome, after.reasons) == ("block", ("LABELLED_NUMBER",))
    assert Label.objects.get().msisdn == NUMBER


def test_an_unknown_label_kind_is_refused_and_nothing_is_written():
    with pytest.raises(InvalidArgument):
        services.label_record(source="rumour", origin="x:1", reference="CC1", msisdn=NUMBER)
    assert not Label.objects.exists()


def test_chargebacks_over_the_rate_open_a_chargeback_anomaly(settings):
    settings.RISK_RATE_MIN_CHARGES = 10
    day = timezone.localdate()
    at = timezone.make_aware(datetime.combine(day, time(12)))
    DecisionRecord.objects.bulk_create(
        DecisionRecord(created_at=at, id=uuid.uuid4(), kind="content_charge", outcome="allow",
                       cp_id="7", reference=f"CC{i}")
        for i in range(10)
    )  # fmt: skip
    services.label_record(source="chargeback", origin="cb:CC0", reference="CC0")

    found = [(a.anomaly, a.subject, a.references) for a in anomalies_find(day=day)]

    # The label took the CP from the charge's recorded decision: 1 in 10 > 1 %.
    assert ("chargeback_rate", "cp_id:7", ["CC0"]) in found


@pytest.mark.django_db(transaction=True)
def test_label_points_lost_to_a_redis_outage_are_applied_once_when_it_is_back(settings):
    """Redis really unreachable (a closed port) when the label commits: the label is written
    with its points pending; the beat task applies them once Redis answers again, exactly once
    (run twice, or after a crash between Redis and the row's mark, it adds nothing more)."""
    from apps.core.redis import get_redis
    from apps.risk.labels import label_points_apply_pending
    from apps.risk.tasks import label_points_task

    reachable = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    get_redis.cache_clear()
    try:
        assert services.label_record(source="refund_fraud", origin="rf:R1", reference="PI1",
                                     msisdn=NUMBER, cp_id="3")  # fmt: skip
        assert label_points_task() == 0  # still down: nothing applied, nothing lost
    finally:
        settings.REDIS_URL = reachable
        get_redis.cache_clear()
    label = Label.objects.get(origin="rf:R1")
    assert label.points_applied_at is None
    assert subject_score(msisdn=NUMBER) == 0.0

    assert label_points_task() == 1  # Redis is back
    assert label_points_task() == 0
    label.refresh_from_db()
    assert label.points_applied_at is not None
    assert subject_score(msisdn=NUMBER) == services.LABEL_POINTS["refund_fraud"] == 20.0

    # A worker that applied the points and died before marking the row: applied again, the
    # points do not move (the label's own marker in Redis says they landed).
    Label.objects.filter(pk=label.pk).update(points_applied_at=None)
    assert label_points_apply_pending() == 1
    assert subject_score(msisdn=NUMBER) == 20.0


@pytest.mark.django_db(transaction=True)
def test_a_label_recorded_with_redis_up_has_its_points_at_once_and_nothing_pending():
    services.label_record(source="complaint", origin="cx:1", reference="O1", msisdn=NUMBER)

    assert subject_score(msisdn=NUMBER) == services.LABEL_POINTS["complaint"]
    assert Label.objects.get().points_applied_at is not None
    from apps.risk.tasks import label_points_task

    assert label_points_task() == 0
    assert subject_score(msisdn=NUMBER) == services.LABEL_POINTS["complaint"]
