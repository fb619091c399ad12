"""Rules refused when they do not compile, list CSV import, backtests against labels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import InvalidArgument
from apps.risk import recorder, services
from apps.risk.engine import RuleInvalid
from apps.risk.events import Event, Kind
from apps.risk.models import Label, ListEntry, Rule
from apps.risk.tests.support import cap

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("expression", "error", "says"),
    [
        ("amount_fen >", "syntax", "does not parse"),
        ("amount_yuan > 3", "unknown_field", "Unknown field 'amount_yuan'"),
        ("msisdn > 3", "invalid", "not valid"),
        ('counters["nope"] > 3', "unknown_counter", "Unknown counter 'nope'"),
        ("__import__('os')", "unknown_field", "Unknown field"),
    ],
)
def test_a_rule_that_does_not_compile_is_refused_with_a_clear_message(expression, error, says):
    with pytest.raises(RuleInvalid) as refused:
        services.rule_create(code="bad", expression=expression, outcome="block", reason_code="BAD",
                             kinds=[], actor_id=None, why="test")  # fmt: skip

    assert refused.value.details["error"] == error
    assert says in refused.value.message
    assert not Rule.objects.exists()


def test_a_rule_whose_counter_went_away_is_never_activated():
    made = cap(
        "gone", kinds=["checkout"], dimension="msisdn", window="hour", metric="count", limit=None
    )
    rule = services.rule_create(code="uses-gone", expression='counters["gone"] > 1', outcome="block",
                                reason_code="X", kinds=[], actor_id=None, why="t")  # fmt: skip
    made.active = False
    services.cap_saved(cap=made, actor_id=None)

    with pytest.raises(RuleInvalid):
        services.rule_transition(rule_id=rule.pk, to="active", actor_id=None, why="go")

    rule.refresh_from_db()
    assert rule.state == "draft"


def test_activating_a_new_version_retires_the_old_one():
    first = services.rule_create(code="r", expression="amount_fen > 1", outcome="block", reason_code="R",
                                 kinds=[], actor_id=None, why="t")  # fmt: skip
    services.rule_transition(rule_id=first.pk, to="active", actor_id=None, why="go")
    second = services.rule_create(code="r", expression="amount_fen > 2", outcome="block", reason_code="R",
                                  kinds=[], actor_id=None, why="tighter")  # fmt: skip
    services.rule_transition(rule_id=second.pk, to="active", actor_id=None, why="go")

    assert sorted(Rule.objects.values_list("version", "state")) == [(1, "retired"), (2, "active")]
    assert services.decide(event=Event(kind=Kind.CHECKOUT, amount_fen=2)).outcome == "allow"


def test_a_csv_import_writes_every_row_or_none():
    good = "action,dimension,value,reason,expires_at\nblock,msisdn,13800000010,fraud,\nwatch,ip,10.1.0.0/16,farm,2030-01-01T00:00:00\n"
    bad = "block,msisdn,13800000011,fraud\nblock,ip,not-an-ip,farm\n"

    assert services.lists_import_csv(text=good, actor_id=None) == 2
    with pytest.raises(InvalidArgument) as refused:
        services.lists_import_csv(text=bad, actor_id=None)

    assert "Line 2" in refused.value.message
    assert sorted(ListEntry.objects.values_list("dimension", "value")) == [
        ("ip", "10.1.0.0/16"),
        ("msisdn", "13800000010"),
    ]
    assert services.decide(event=Event(kind=Kind.SIGN_IN, msisdn="13800000010")).outcome == "block"


def test_a_backtest_counts_hits_and_scores_them_against_the_labels():
    # Six checkouts: the three above 100 yuan and one small one were complained about.
    for i, amount in enumerate([50_00, 200_00, 300_00, 400_00, 20_00, 30_00]):
        services.decide(event=Event(kind=Kind.CHECKOUT, amount_fen=amount, reference=f"O{i}"))
    services.decide(event=Event(kind=Kind.SIGN_IN, reference="O1"))
    recorder.decisions_flush()
    for ref in ["O1", "O2", "O4"]:
        Label.objects.create(source="complaint", reference=ref, origin=f"T-{ref}")
    start, end = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(minutes=1)

    result = services.backtest(
        expression="amount_fen > 10000", kinds=["checkout"], start=start, end=end
    )

    assert (result.events, result.hits, result.labelled, result.true_positives) == (6, 3, 3, 2)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    outside = services.backtest(
        expression="amount_fen > 10000", kinds=["checkout"], start=end, end=end + timedelta(hours=1)
    )
    assert (outside.events, outside.hits, outside.precision, outside.recall) == (0, 0, None, None)
