"""Settlement demo data: each kind's default rule, seeded once."""

import pytest

from apps.demo.settlement_seed import seed_settlement_rules
from apps.settlement.models import SettlementRule

pytestmark = pytest.mark.django_db


def test_the_default_rules_are_seeded_once():
    assert seed_settlement_rules() == 2
    assert seed_settlement_rules() == 0
    rates = dict(SettlementRule.objects.values_list("kind", "rate"))
    assert {kind: str(rate) for kind, rate in rates.items()} == {
        "cp": "1.000000",
        "channel": "1.000000",
    }
