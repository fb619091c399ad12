"""Settlement demo data: the default revenue-share rules of each counterparty kind (once)."""

from __future__ import annotations

from apps.settlement.models import SettlementRule
from apps.settlement.services import RuleInput, rule_create, today

# CPs keep 70 % of their content revenue, paid once it reaches ¥100; channels earn 5 %.
DEFAULT_RULES = (
    ("cp", "percentage", "0.7", 10_000),
    ("channel", "percentage", "0.05", 5_000),
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
