"""Gateway demo data: packages covering every capability and an approved partner, seeded once."""

import pytest

from apps.demo.gateway_seed import DEMO_PARTNER_PHONE, DEMO_SPONSOR_TOPUP_FEN, seed_gateway
from apps.demo.seed import seed_users
from apps.enterprise.billing import prepaid_balance
from apps.gateway.capabilities_catalog import CAPABILITIES
from apps.gateway.models import Package, Partner

pytestmark = pytest.mark.django_db


def test_gateway_seed_is_idempotent_and_covers_every_capability():
    seed_users()
    assert seed_gateway() == 4
    assert seed_gateway() == 0
    packages = {p.code: p for p in Package.objects.all()}
    assert sorted(packages) == ["identity-pro", "messaging-pro", "network-pro", "sandbox-trial"]
    trial = packages["sandbox-trial"]
    assert (trial.price_fen, trial.price_per_call_fen, trial.quota_calls) == (0, 0, 1_000)
    assert set(trial.capabilities) == set(CAPABILITIES)
    paid = {c for code, p in packages.items() if code != "sandbox-trial" for c in p.capabilities}
    assert paid == set(CAPABILITIES)
    assert all(
        p.price_fen or p.price_per_call_fen for c, p in packages.items() if c != "sandbox-trial"
    )
    partner = Partner.objects.get()
    assert (partner.owner.phone, partner.status) == (DEMO_PARTNER_PHONE, "approved")
    assert partner.owner.groups.filter(name="partner").exists()
    # Its prepaid account pays for sponsored data, credited once however often it is seeded.
    assert "sponsored-data" in packages["network-pro"].capabilities
    balance = prepaid_balance(enterprise_id=partner.owner_id)
    assert (balance.available_fen, balance.held_fen) == (DEMO_SPONSOR_TOPUP_FEN, 0)
