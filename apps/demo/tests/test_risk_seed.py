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


def test_the_seeded_content_caps_and_rule_govern_content_charges():
    seed_risk()

    def charge(amount: int) -> risk.Decision:
        return risk.decide(event=risk.Event(kind=risk.Kind.CONTENT_CHARGE, user_id=9, cp_id="3",
                                            msisdn="13800000009", amount_fen=amount))  # fmt: skip

    first, near, over = charge(10_000), charge(6_000), charge(5_000)

    assert (first.outcome, near.outcome, near.reasons) == (
        "allow",
        "challenge",
        ("CONTENT_NEAR_DAY_CAP",),
    )
    # 16,000 counted today: 5,000 more passes the 20,000 a day.
    assert over.outcome == "block"
    assert "CAP_CONTENT_USER_DAY" in over.reasons
