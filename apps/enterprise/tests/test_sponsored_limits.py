"""Sponsored data limits per partner: the agreement's own monthly limits (the settings where it
has none), set in the workbench with an audit event, and held under real concurrency."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import Role, User
from apps.core.models import AuditEvent
from apps.enterprise import billing, sponsored
from apps.enterprise.errors import SponsorMonthlyLimitReached, SubscriberMonthlyLimitReached
from apps.enterprise.models import SponsorAgreement, SponsoredGrant
from apps.enterprise.tests.bulk_support import data_packs, enterprise, together
from tests.fixtures.sandbox_support import unique_msisdn


def _numbers(carrier_sandbox: Any, count: int) -> list[str]:
    numbers = [unique_msisdn() for _ in range(count)]
    for msisdn in numbers:
        carrier_sandbox.put_subscriber(msisdn, status="active")
    return numbers


def _grant(owner: User, request_id: str, msisdn: str, pack: str = "DATA-1G") -> Any:
    return sponsored.sponsored_grant(sponsor_id=owner.pk, sponsor_name="演示科技",
                                     request_id=request_id, msisdn=msisdn, pack_code=pack)  # fmt: skip


@pytest.fixture
def no_delivery(monkeypatch):
    """The broker's edge: grants stay held and waiting (their delivery is not the point here)."""
    from apps.enterprise import tasks

    monkeypatch.setattr(tasks.sponsored_deliver_task, "apply_async", lambda *a, **k: None)


@pytest.mark.django_db
def test_each_partner_has_its_own_limits_and_the_settings_are_the_default(
    carrier_sandbox, settings, no_delivery
):
    settings.SPONSORED_DATA_MONTHLY_FEN_PER_PARTNER = 1_000
    settings.SPONSORED_DATA_MONTHLY_GRANTS_PER_SUBSCRIBER = 1
    data_packs()
    one, two, three = _numbers(carrier_sandbox, 3)
    generous, plain = enterprise("13900000001"), enterprise("13900000002")
    sponsored.sponsor_agreement_save(sponsor_id=generous.pk, monthly_limit_fen=1_500,
                                     grants_per_number=2, actor_id=None)  # fmt: skip

    # The agreement's limits: two packs to one number, 1,500 fen in the month.
    _grant(generous, "g-1", one)
    _grant(generous, "g-2", one)
    with pytest.raises(SubscriberMonthlyLimitReached) as per_number:
        _grant(generous, "g-3", one)
    _grant(generous, "g-4", two)
    with pytest.raises(SponsorMonthlyLimitReached) as per_partner:
        _grant(generous, "g-5", three)
    # The settings' limits for a partner without an agreement of its own.
    _grant(plain, "p-1", one)
    with pytest.raises(SubscriberMonthlyLimitReached):
        _grant(plain, "p-2", one)
    _grant(plain, "p-3", two)
    with pytest.raises(SponsorMonthlyLimitReached):
        _grant(plain, "p-4", three)

    assert per_number.value.details == {"limit": 2}
    assert per_partner.value.details == {"limitFen": 1_500, "spentFen": 1_500, "priceFen": 500}
    assert sorted(SponsoredGrant.objects.values_list("request_id", flat=True)) == [
        "g-1", "g-2", "g-4", "p-1", "p-3",
    ]  # fmt: skip
    assert billing.prepaid_balance(enterprise_id=generous.pk).held_fen == 1_500
    assert billing.prepaid_balance(enterprise_id=plain.pk).held_fen == 1_000
    # Emptied again: back to the settings.
    sponsored.sponsor_agreement_save(sponsor_id=generous.pk, monthly_limit_fen=None,
                                     grants_per_number=None, actor_id=None)  # fmt: skip
    limits = sponsored.sponsor_limits(sponsor_id=generous.pk)
    assert (limits.monthly_limit_fen, limits.grants_per_number) == (1_000, 1)


@pytest.mark.django_db(transaction=True)
def test_grants_racing_at_the_partners_limit_cannot_both_pass(carrier_sandbox, no_delivery):
    data_packs()
    owner = enterprise(topup_fen=100_000)
    sponsored.sponsor_agreement_save(sponsor_id=owner.pk, monthly_limit_fen=1_000,
                                     grants_per_number=None, actor_id=None)  # fmt: skip
    numbers = _numbers(carrier_sandbox, 6)

    results = together(
        *[lambda n=n, i=i: _grant(owner, f"race-{i}", n) for i, n in enumerate(numbers)]
    )

    granted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(granted) == 2, results  # 2 x 500 fen = the limit
    assert all(isinstance(r, SponsorMonthlyLimitReached) for r in refused), refused
    assert SponsoredGrant.objects.count() == 2
    assert billing.prepaid_balance(enterprise_id=owner.pk).held_fen == 1_000


@pytest.mark.django_db(transaction=True)
def test_grants_racing_at_the_numbers_limit_cannot_both_pass(carrier_sandbox, no_delivery):
    data_packs()
    owner = enterprise(topup_fen=100_000)
    sponsored.sponsor_agreement_save(sponsor_id=owner.pk, monthly_limit_fen=None,
                                     grants_per_number=1, actor_id=None)  # fmt: skip
    [msisdn] = _numbers(carrier_sandbox, 1)

    results = together(*[lambda i=i: _grant(owner, f"same-{i}", msisdn) for i in range(6)])

    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert all(
        isinstance(r, SubscriberMonthlyLimitReached) for r in results if isinstance(r, Exception)
    ), results
    assert SponsoredGrant.objects.filter(msisdn=msisdn).count() == 1
    assert billing.prepaid_balance(enterprise_id=owner.pk).held_fen == 500


@pytest.mark.django_db
def test_an_operator_sets_a_partners_limits_in_the_workbench_with_an_audit_event(client):
    owner = enterprise(topup_fen=0)
    operator = User.objects.create_user("13800000012", password="pw", is_staff=True)
    operator.groups.add(Group.objects.get(name=Role.OPERATOR))  # not a superuser: the role's rights
    client.force_login(operator)
    url = "/admin/enterprise/sponsoragreement/"

    added = client.post(f"{url}add/", {"sponsor": owner.pk, "monthly_limit_fen": "20000",
                                       "grants_per_number": ""})  # fmt: skip
    assert added.status_code == 302, added.content
    agreement = SponsorAgreement.objects.get(sponsor=owner)
    changed = client.post(f"{url}{agreement.pk}/change/", {"sponsor": owner.pk,
                          "monthly_limit_fen": "30000", "grants_per_number": "5"})  # fmt: skip
    assert changed.status_code == 302, changed.content
    negative = client.post(f"{url}{agreement.pk}/change/", {"sponsor": owner.pk,
                           "monthly_limit_fen": "-1", "grants_per_number": "5"})  # fmt: skip
    assert negative.status_code == 200  # a form error, nothing saved

    agreement.refresh_from_db()
    assert (agreement.monthly_limit_fen, agreement.grants_per_number) == (30_000, 5)
    assert agreement.updated_by == operator.pk
    events = AuditEvent.objects.filter(action="sponsored.limits_set").order_by("id")
    assert [(e.actor_id, e.before, e.after) for e in events] == [
        (operator.pk, {"monthly_limit_fen": None, "grants_per_number": None},
         {"monthly_limit_fen": 20_000, "grants_per_number": None}),
        (operator.pk, {"monthly_limit_fen": 20_000, "grants_per_number": None},
         {"monthly_limit_fen": 30_000, "grants_per_number": 5}),
    ]  # fmt: skip
    listing = client.get(url)
    assert listing.status_code == 200
    assert "300.00" in listing.content.decode()  # the limit, in yuan
