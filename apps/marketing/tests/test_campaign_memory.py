"""Running campaigns remembered per process for a bounded time (issue #18)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.marketing import selectors
from apps.marketing.models import Campaign
from apps.marketing.tests.support import campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory(settings):
    settings.MARKETING_CAMPAIGNS_CACHE_SECONDS = 2.0
    selectors.campaigns_forget()
    yield
    selectors.campaigns_forget()


def _running() -> tuple[set[int], int]:
    with CaptureQueriesContext(connection) as captured:
        found = selectors.automatic_campaigns(user_id=None, now=timezone.now())
    return {c.pk for c in found}, len(captured.captured_queries)


def test_a_second_read_within_the_bound_runs_no_statement(memory):
    first = campaign()
    assert _running() == ({first.pk}, 1)
    assert _running() == ({first.pk}, 0)


def test_a_campaign_saved_in_this_process_is_seen_at_once(memory):
    first = campaign()
    assert _running()[0] == {first.pk}
    second = campaign(name="二")  # post_save: forgotten
    assert _running()[0] == {first.pk, second.pk}
    first.status = "paused"
    first.save(update_fields=["status"])
    assert _running()[0] == {second.pk}


def test_a_change_from_another_process_is_seen_after_the_bound(memory, monkeypatch):
    first = campaign()
    assert _running()[0] == {first.pk}
    Campaign.objects.filter(pk=first.pk).update(status="paused")  # no signal: "elsewhere"
    now = selectors.time.monotonic()
    monkeypatch.setattr(selectors.time, "monotonic", lambda: now + 1.9)
    assert _running()[0] == {first.pk}  # within the documented bound
    monkeypatch.setattr(selectors.time, "monotonic", lambda: now + 2.1)
    assert _running()[0] == set()


def test_off_when_the_bound_is_zero(settings):
    settings.MARKETING_CAMPAIGNS_CACHE_SECONDS = 0
    selectors.campaigns_forget()
    first = campaign()
    assert _running() == ({first.pk}, 1)
    assert _running() == ({first.pk}, 1)
