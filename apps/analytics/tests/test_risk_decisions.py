"""Risk decisions by kind and outcome per day: the rollup (read through risk's selector) equals
the figures counted by hand, and the chart page reads the rollup only."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.analytics import rollups
from apps.analytics.models import RiskDecisionDaily
from apps.analytics.tests.support import at
from apps.risk.models import DecisionRecord

pytestmark = pytest.mark.django_db


def decisions(when, kind: str, outcome: str, n: int) -> None:
    DecisionRecord.objects.bulk_create(
        DecisionRecord(created_at=when, id=uuid.uuid4(), kind=kind, outcome=outcome)
        for _ in range(n)
    )


@pytest.fixture
def three_days():
    """Given: on 3 Nov (Asia/Shanghai), 3 checkouts allowed (one at 00:00 sharp), 1 blocked,
    2 content charges challenged and 1 blocked; on 2 Nov at 23:59, 1 checkout blocked; on
    4 Nov at 00:00, 2 content charges allowed (each outside 3 Nov)."""
    decisions(at("2026-11-03", 0), "checkout", "allow", 1)
    decisions(at("2026-11-03", 9), "checkout", "allow", 2)
    decisions(at("2026-11-03", 10), "checkout", "block", 1)
    decisions(at("2026-11-03", 22), "content_charge", "challenge", 2)
    decisions(at("2026-11-03", 23, 59), "content_charge", "block", 1)
    decisions(at("2026-11-02", 23, 59), "checkout", "block", 1)
    decisions(at("2026-11-04", 0), "content_charge", "allow", 2)
    for day in (date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)):
        rollups.day_rollup(day=day)


def rows(day: date) -> set[tuple[str, str, int]]:
    return set(
        RiskDecisionDaily.objects.filter(day=day).values_list("kind", "outcome", "decisions")
    )


def test_the_rollup_counts_each_days_decisions_by_kind_and_outcome(three_days):
    assert rows(date(2026, 11, 3)) == {
        ("checkout", "allow", 3),
        ("checkout", "block", 1),
        ("content_charge", "challenge", 2),
        ("content_charge", "block", 1),
    }
    assert rows(date(2026, 11, 2)) == {("checkout", "block", 1)}
    assert rows(date(2026, 11, 4)) == {("content_charge", "allow", 2)}
    # Recomputing a day after a late decision replaces its rows.
    decisions(at("2026-11-03", 12), "checkout", "block", 1)
    rollups.day_rollup(day=date(2026, 11, 3))
    assert ("checkout", "block", 2) in rows(date(2026, 11, 3))
    assert RiskDecisionDaily.objects.filter(day=date(2026, 11, 3)).count() == 4


def test_the_risk_page_charts_the_rollup_without_reading_the_decisions(client, three_days):
    user = get_user_model().objects.create_user("13800000077", is_staff=True)
    user.groups.add(Group.objects.get(name="risk"))
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/analytics/risk/?start=2026-11-02&end=2026-11-04")
    assert page.status_code == 200
    assert not any("risk_decisionrecord" in q["sql"] for q in queries.captured_queries)
    charts = {c["key"]: c for c in page.context["charts_json"]}
    per_day = {s["name"]: s["values"] for s in charts["risk-days"]["series"]}
    assert charts["risk-days"]["x"] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert per_day == {
        "放行": [None, 3, 2],
        "短信验证": [None, 2, None],
        "拦截": [1, 2, None],
    }
    by_kind = {s["name"]: s["values"] for s in charts["risk-kinds"]["series"]}
    assert charts["risk-kinds"]["x"] == ["checkout", "content_charge"]
    # Over the range: checkout 3 allowed, 2 blocked; content 2 allowed, 2 challenged, 1 blocked.
    assert by_kind == {"放行": [3, 2], "短信验证": [0, 2], "拦截": [2, 1]}


def test_finance_cannot_open_the_risk_page(client):
    user = get_user_model().objects.create_user("13800000078", is_staff=True)
    user.groups.add(Group.objects.get(name="finance"))
    client.force_login(user)
    assert client.get("/admin/analytics/risk/").status_code == 403
