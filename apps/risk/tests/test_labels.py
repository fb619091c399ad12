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
