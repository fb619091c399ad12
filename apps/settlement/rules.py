"""The settlement arithmetic: a period's classified lines and the rules in force -> the figures.

Pure functions over plain data, so every rule kind is tested without a database. Amounts are
"owed" fen (positive when a line adds to what is owed between the platform and the party, see
``counterparties.Kind.owed``).

- percentage: the party's share is ``rate`` of its sales;
- tiered: the rate of the highest tier the period's whole sales volume reaches applies to all
  of the period's sales (a monthly-volume tier, not a marginal bracket);
- per unit: a fixed fee for each unit (each sale line);
- no rule: the party's figure is the amount itself (a partner's invoice, say).

Each line is priced by the rule in force on its own date (the latest ``effective_from`` on or
before it), so a rule change applies from its date and never to earlier lines. Refunds and
chargebacks are taken back at the rule's rate when the rule says so; a complaint line is taken
back in full plus the rule's complaint fee. A period whose total (with what was carried in)
stays below the minimum payout pays nothing and carries the total over to the next period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from apps.core.money import apply_rate

SALE, REFUND, CHARGEBACK, COMPLAINT, ADJUSTMENT, SETTLEMENT = (
    "sale",
    "refund",
    "chargeback",
    "complaint",
    "adjustment",
    "settlement",
)
CATEGORIES = (SALE, REFUND, CHARGEBACK, COMPLAINT, ADJUSTMENT, SETTLEMENT)

PERCENTAGE, TIERED, PER_UNIT = "percentage", "tiered", "per_unit"
METHODS = (PERCENTAGE, TIERED, PER_UNIT)


def classify(*, journal_kind: str, reference: str, owed_fen: int) -> str:
    """The category of a line by its journal's kind; settlement's own journals (commission,
    payout, and their reversals, all referenced ``settlement:...``) stand apart."""
    kind = journal_kind.lower()
    if kind.startswith("settlement") or reference.startswith("settlement:"):
        return SETTLEMENT
    if "chargeback" in kind:
        return CHARGEBACK
    if "complaint" in kind:
        return COMPLAINT
    if "refund" in kind or kind == "reversal":
        return REFUND
    return SALE if owed_fen > 0 else ADJUSTMENT


@dataclass(frozen=True)
class Terms:
    """One rule version: how a party's lines are priced from ``effective_from`` on."""

    effective_from: dt.date
    method: str
    rate: Decimal = Decimal(0)  # percentage: the party's share, 0..1
    tiers: tuple[tuple[int, Decimal], ...] = ()  # tiered: (volume from, in fen; rate), ascending
    unit_fee_fen: int = 0  # per unit
    deduct_refunds: bool = True
    deduct_chargebacks: bool = True
    complaint_fee_fen: int = 0
    minimum_payout_fen: int = 0

    def rate_for(self, volume_fen: int) -> Decimal:
        if self.method == PERCENTAGE:
            return self.rate
        reached = [rate for start, rate in self.tiers if volume_fen >= start]
        return reached[-1] if reached else Decimal(0)


@dataclass(frozen=True)
class Line:
    on: dt.date  # the line's Asia/Shanghai date
    category: str
    owed_fen: int


@dataclass
class Figures:
    volume_fen: int = 0  # sales
    units: int = 0  # sale lines
    refunds_fen: int = 0  # positive: what refunds took back
    chargebacks_fen: int = 0
    complaints_fen: int = 0
    adjustments_fen: int = 0
    share_fen: int = 0  # the party's figure on its sales
    deductions_fen: int = 0
    party_fen: int = 0  # share - deductions + adjustments
    net_owed_fen: int = 0  # every non-settlement line
    commission_fen: int = 0  # what the platform keeps: net_owed - party
    carried_in_fen: int = 0
    payout_fen: int = 0
    carry_out_fen: int = 0
    minimum_payout_fen: int = 0
    rules: list[str] = field(default_factory=list)  # the effective dates that priced lines


def rule_on(rules: Sequence[Terms], day: dt.date) -> Terms | None:
    """The rule in force on ``day``: the latest ``effective_from`` on or before it."""
    current = None
    for rule in sorted(rules, key=lambda r: r.effective_from):
        if rule.effective_from <= day:
            current = rule
    return current


def compute(
    *, lines: Iterable[Line], rules: Sequence[Terms], carried_in_fen: int, last_day: dt.date
) -> Figures:
    """The period's figures; ``lines`` is consumed once (it may be a stream)."""
    figures = Figures(carried_in_fen=carried_in_fen)
    # Sums per (rule, category): amount and count, so each rule rounds once per category.
    sums: dict[tuple[dt.date | None, str], list[int]] = {}
    by_date = {rule.effective_from: rule for rule in rules}
    for line in lines:
        if line.category == SETTLEMENT:
            continue
        figures.net_owed_fen += line.owed_fen
        rule = rule_on(rules, line.on)
        total = sums.setdefault((rule.effective_from if rule else None, line.category), [0, 0])
        total[0] += line.owed_fen
        total[1] += 1
    for (_, category), (amount, count) in sums.items():
        if category == SALE:
            figures.volume_fen += amount
            figures.units += count
    for (effective, category), (amount, count) in sorted(
        sums.items(), key=lambda item: (item[0][0] or dt.date.min, item[0][1])
    ):
        rule = by_date.get(effective) if effective else None
        if effective and effective.isoformat() not in figures.rules:
            figures.rules.append(effective.isoformat())
        if category == SALE:
            figures.share_fen += _priced(rule, amount, count, figures.volume_fen)
        elif category == REFUND:
            figures.refunds_fen -= amount
            if rule is None or rule.deduct_refunds:
                figures.deductions_fen += _priced(rule, -amount, count, figures.volume_fen)
        elif category == CHARGEBACK:
            figures.chargebacks_fen -= amount
            if rule is None or rule.deduct_chargebacks:
                figures.deductions_fen += _priced(rule, -amount, count, figures.volume_fen)
        elif category == COMPLAINT:
            figures.complaints_fen -= amount
            figures.deductions_fen += -amount + count * (rule.complaint_fee_fen if rule else 0)
        else:
            figures.adjustments_fen += amount
    figures.party_fen = figures.share_fen - figures.deductions_fen + figures.adjustments_fen
    figures.commission_fen = figures.net_owed_fen - figures.party_fen
    closing = rule_on(rules, last_day)
    figures.minimum_payout_fen = closing.minimum_payout_fen if closing else 0
    owed = figures.party_fen + carried_in_fen
    figures.payout_fen = owed if owed > 0 and owed >= figures.minimum_payout_fen else 0
    figures.carry_out_fen = owed - figures.payout_fen
    return figures


def _priced(rule: Terms | None, amount_fen: int, count: int, volume_fen: int) -> int:
    if rule is None:
        return amount_fen
    if rule.method == PER_UNIT:
        return count * rule.unit_fee_fen
    return apply_rate(amount_fen, rule.rate_for(volume_fen))
