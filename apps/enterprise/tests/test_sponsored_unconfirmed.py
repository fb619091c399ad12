"""A sponsored grant given up while the carrier cannot answer, after a request that may have
reached it, is not released blind: it waits ``unconfirmed`` until the carrier says, by key,
whether it applied the pack: delivered (charged, texted) if it did, released once if not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.carrier.models import SmsMessage
from apps.core.workbench import todos
from apps.enterprise import billing, sponsored
from apps.enterprise.models import SponsoredGrant
from apps.enterprise.tests.bulk_support import held_grant, sandbox_applied
from apps.ledger.models import Journal
from apps.ledger.selectors import ledger_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(carrier_sandbox, settings) -> SponsoredGrant:
    """A grant held, its delivery task not run yet, past its attempts."""
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    grant = held_grant(carrier_sandbox)
    SponsoredGrant.objects.filter(pk=grant.pk).update(attempts=sponsored.MAX_ATTEMPTS)
    return grant


def _sweep() -> None:
    """The beat's sweep, as if minutes had passed since the grant last moved."""
    SponsoredGrant.objects.update(updated_at=timezone.now() - timedelta(minutes=10))
    sponsored.sponsored_retry_stuck()


def _todo() -> int:
    [todo] = [t for t in todos() if t.key == "enterprise.sponsored_unconfirmed"]
    return todo.count()


def _money(grant: SponsoredGrant) -> tuple[int, int, list[str]]:
    balance = billing.prepaid_balance(enterprise_id=grant.sponsor_id)
    kinds = Journal.objects.filter(kind__startswith="sponsored").order_by("id")
    return balance.available_fen, balance.held_fen, list(kinds.values_list("kind", flat=True))


def test_applied_then_timed_out_is_delivered_and_charged_not_released(
    granted, carrier_sandbox, django_capture_on_commit_callbacks
):
    # The carrier applies the pack but answers after we gave up; asking by key times out too.
    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    _sweep()
    granted.refresh_from_db()
    assert (granted.status, granted.maybe_applied) == ("unconfirmed", True)
    assert _money(granted) == (10_000 - 500, 500, ["sponsored_hold"])  # still held
    # The carrier is down when the sweep asks: the grant waits, shown as a to-do.
    carrier_sandbox.set_knobs(lost_response_rate=0.0, hang_ms=0, error_rate=1.0)
    _sweep()
    assert SponsoredGrant.objects.get().status == "unconfirmed"
    assert _todo() == 1
    assert _money(granted)[2] == ["sponsored_hold"]
    # Back: the carrier says it applied the key.
    carrier_sandbox.reset_knobs()
    with django_capture_on_commit_callbacks(execute=True):
        _sweep()
    granted.refresh_from_db()
    assert (granted.status, granted.error_code, granted.maybe_applied) == ("delivered", "", False)
    assert granted.carrier_request_id
    assert _money(granted) == (10_000 - 500, 0, ["sponsored_hold", "sponsored_charge"])
    assert sandbox_applied(granted.idempotency_key) == 1
    [sms] = SmsMessage.objects.filter(msisdn=granted.msisdn)
    assert "演示科技" in sms.preview
    assert _todo() == 0
    _sweep()  # nothing more
    assert _money(granted)[2] == ["sponsored_hold", "sponsored_charge"]
    assert ledger_check() == []


def test_never_applied_is_released_once_when_the_carrier_says_so(granted, carrier_sandbox):
    # Requests time out at the carrier without being applied; we cannot tell from here.
    carrier_sandbox.set_knobs(timeout_rate=1.0, hang_ms=1500)
    _sweep()
    assert SponsoredGrant.objects.get().status == "unconfirmed"
    assert _money(granted)[2] == ["sponsored_hold"]
    carrier_sandbox.reset_knobs()
    _sweep()
    granted.refresh_from_db()
    assert (granted.status, granted.error_code) == ("failed", "CARRIER_NOT_APPLIED")
    assert _money(granted) == (10_000, 0, ["sponsored_hold", "sponsored_release"])
    _sweep()
    assert sponsored.sponsored_confirm(grant_id=granted.pk) == "failed"
    assert _money(granted)[2] == ["sponsored_hold", "sponsored_release"]  # released once
    assert sandbox_applied(granted.idempotency_key) == 0
    assert not SmsMessage.objects.filter(msisdn=granted.msisdn).exists()
    assert ledger_check() == []


def test_a_request_refused_before_it_was_sent_is_released_at_once(granted, carrier_sandbox):
    carrier_sandbox.set_knobs(error_rate=1.0)  # 503: refused, nothing can have been applied
    _sweep()
    carrier_sandbox.reset_knobs()
    granted.refresh_from_db()
    assert (granted.status, granted.error_code) == ("failed", "CARRIER_UNAVAILABLE")
    assert _money(granted) == (10_000, 0, ["sponsored_hold", "sponsored_release"])


def test_the_workers_last_retry_asks_too(granted, carrier_sandbox):
    from apps.enterprise.tasks import sponsored_deliver_task

    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    sponsored_deliver_task.push_request(retries=sponsored.MAX_ATTEMPTS - 1, is_eager=False)
    try:
        assert sponsored_deliver_task.run(granted.pk) == "unconfirmed"
    finally:
        sponsored_deliver_task.pop_request()
    assert _money(granted)[2] == ["sponsored_hold"]
    carrier_sandbox.reset_knobs()
    _sweep()
    assert SponsoredGrant.objects.get().status == "delivered"
    assert _money(granted)[2] == ["sponsored_hold", "sponsored_charge"]
    assert sandbox_applied(granted.idempotency_key) == 1


def test_the_workbench_lists_unconfirmed_grants(granted, client):
    SponsoredGrant.objects.filter(pk=granted.pk).update(status="unconfirmed", maybe_applied=True)
    client.force_login(User.objects.create_superuser("13800000011", password="pw"))
    page = client.get("/admin/enterprise/sponsoredgrant/?status__exact=unconfirmed")
    assert page.status_code == 200
    assert granted.request_id in page.content.decode()
