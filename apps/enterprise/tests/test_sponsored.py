"""Sponsored data grants at the service: a lost carrier answer is asked by key, never applied twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.carrier.errors import CarrierUnavailable
from apps.carrier.models import SmsMessage
from apps.enterprise import billing, sponsored
from apps.enterprise.models import SponsoredGrant
from apps.enterprise.tests.bulk_support import held_grant, sandbox_applied
from apps.ledger.selectors import ledger_check

pytestmark = pytest.mark.django_db


def test_a_lost_answer_is_asked_by_key_and_the_sweep_delivers_once(
    carrier_sandbox, settings, django_capture_on_commit_callbacks
):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    # Granted; its delivery task is never run here (as if the task were lost).
    grant = held_grant(carrier_sandbox)
    owner, msisdn = grant.sponsor, grant.msisdn
    assert billing.prepaid_balance(enterprise_id=owner.pk).held_fen == 500

    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    with pytest.raises(CarrierUnavailable):
        sponsored.sponsored_deliver(grant_id=grant.pk)  # applied, answer lost
    carrier_sandbox.set_knobs(lost_response_rate=0.0, hang_ms=0)
    assert SponsoredGrant.objects.get().status == "delivering"
    SponsoredGrant.objects.update(updated_at=timezone.now() - timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert sponsored.sponsored_retry_stuck() == 1

    grant.refresh_from_db()
    assert (grant.status, grant.attempts, grant.error_code) == ("delivered", 2, "")
    assert sandbox_applied(grant.idempotency_key) == 1  # once, not twice
    balance = billing.prepaid_balance(enterprise_id=owner.pk)
    assert (balance.available_fen, balance.held_fen) == (10_000 - 500, 0)
    [sms] = SmsMessage.objects.filter(msisdn=msisdn)
    assert "演示科技" in sms.preview
    # Running it again changes nothing.
    assert sponsored.sponsored_deliver(grant_id=grant.pk) == "delivered"
    assert sponsored.sponsored_retry_stuck() == 0
    assert sandbox_applied(grant.idempotency_key) == 1
    assert ledger_check() == []


def test_grants_move_through_the_states_of_a_bulk_row():
    """One prepaid delivery step moves both (``prepaid_delivery``): they share its states."""
    from apps.enterprise.models import BulkRow

    shared = {"pending", "delivering", "delivered", "failed"}
    assert shared <= set(BulkRow.Status.values) & set(SponsoredGrant.Status.values)
