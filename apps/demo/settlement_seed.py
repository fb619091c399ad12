"""Settlement demo data: the default revenue-share rules of each counterparty kind (once)."""

from __future__ import annotations

from apps.settlement.models import SettlementRule
from apps.settlement.services import RuleInput, rule_create, today

# What the accounts already hold is owed in full: content books a CP's revenue share (its rate
# per CP, 70 % by default) to ``cp:<id>:payable`` and marketing books a channel's commission to
# ``channel:<id>:payable``, so settlement keeps nothing again (rate 1). A CP is paid once it is
# owed ¥100, a channel ¥50. A rate below 1 is for a party whose account holds gross revenue.
DEFAULT_RULES = (
    ("cp", "percentage", "1", 10_000),
    ("channel", "percentage", "1", 5_000),
)


def seed_settlement_rules() -> int:
    """Add the kinds' default rules from today where a kind has none; return how many."""
    added = 0
    for kind, method, rate, minimum in DEFAULT_RULES:
        if SettlementRule.objects.filter(kind=kind, party_id__isnull=True).exists():
            continue
        rule_create(rule=RuleInput(kind, None, method, today(), rate=rate,
                                   minimum_payout_fen=minimum))  # fmt: skip
        added += 1
    return added
