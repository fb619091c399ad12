"""The risk seed: at least 20 rules that all compile, live at once, and a second run adds nothing."""

import pytest

from apps.demo.risk_seed import seed_risk
from apps.risk import services as risk
from apps.risk.models import Rule

pytestmark = pytest.mark.django_db


def test_the_risk_seed_makes_twenty_rules_once_and_they_decide():
    assert seed_risk() >= 20
    assert seed_risk() == 0
    assert Rule.objects.filter(state__in=["active", "shadow"]).count() >= 20

    blocked = risk.decide(event=risk.Event(kind=risk.Kind.SIGN_IN, msisdn="13800000666"))
    big = risk.decide(event=risk.Event(kind=risk.Kind.REFUND_REQUEST, amount_fen=600_000))
    plain = risk.decide(event=risk.Event(kind=risk.Kind.CHECKOUT, user_id=1, amount_fen=1000))

    assert (blocked.outcome, big.outcome, big.reasons, plain.outcome) == (
        "block",
        "review",
        ("REFUND_BIG",),
        "allow",
    )
