"""The price of a cart under campaigns and one coupon: a pure function over plain data.

Stacking, in this order (docs/marketing.md):
1. item discounts (fixed per unit, percent with a cap) on products or categories: at most one
   per line; the campaign that gives most takes its lines first, the next the lines left;
2. one full reduction (满减), the largest whose threshold the eligible lines reach after (1);
3. one coupon, on what is left after (1) and (2); an *exclusive* coupon drops (1) and (2);
4. points and data-pack gifts add to the others and take nothing off the price.
The order never costs less than ``floor_fen`` (1 fen, or the goods if they cost less): every
discount is cut to the room left above it. Each discount is also cut to its campaign's budget
left. Order-wide amounts are spread over the lines in proportion to what the lines still cost
(largest remainder), so the lines' discounts add up to the order's to the fen; percentages use
``core.money.apply_rate`` (the one rounding rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from apps.core.money import apply_rate

FLOOR_FEN = 1
ITEM_RULES = ("fixed", "percent")


@dataclass(frozen=True)
class PriceLine:
    key: int
    product_id: int
    category_path: str
    unit_price_fen: int
    quantity: int
    sku_id: int = 0

    @property
    def total_fen(self) -> int:
        return self.unit_price_fen * self.quantity


@dataclass(frozen=True)
class Offer:
    """A campaign as pricing sees it; ``budget_left_fen`` None means no money budget."""

    campaign_id: int
    name: str
    rule: str
    product_ids: tuple[int, ...] = ()
    category_paths: tuple[str, ...] = ()
    amount_fen: int = 0
    percent_off: int = 0
    cap_fen: int = 0
    threshold_fen: int = 0
    gift_points: int = 0
    gift_sku_id: int | None = None
    exclusive: bool = False
    budget_left_fen: int | None = None

    def covers(self, line: PriceLine) -> bool:
        if not self.product_ids and not self.category_paths:
            return True
        return line.product_id in self.product_ids or any(
            line.category_path == p or line.category_path.startswith(p + "/")
            for p in self.category_paths
        )


@dataclass(frozen=True)
class Applied:
    campaign_id: int
    name: str
    rule: str
    discount_fen: int
    gift_points: int = 0
    coupon_code: str = ""
    gift_sku_id: int | None = None
    line_discounts: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Pricing:
    goods_fen: int
    discount_fen: int
    total_fen: int
    line_discounts: dict[int, int]
    applied: list[Applied]
    gift_points: int
    # The coupon given but not applicable (threshold not reached, no covered goods).
    coupon_unused: bool = False


def spread(amount: int, weights: dict[int, int]) -> dict[int, int]:
    """``amount`` over the keys in proportion to ``weights`` (largest remainder, ties to the
    lower key); each share is at most its weight when ``amount <= sum(weights)``."""
    whole = sum(weights.values())
    if amount <= 0 or whole <= 0:
        return {}
    shares = {k: amount * w // whole for k, w in weights.items()}
    rest = amount - sum(shares.values())
    by_remainder = sorted(weights, key=lambda k: (-(amount * weights[k] % whole), k))
    for k in by_remainder[:rest]:
        shares[k] += 1
    return {k: v for k, v in shares.items() if v}


def _item_raw(offer: Offer, lines: list[PriceLine], net: dict[int, int]) -> dict[int, int]:
    raw = {}
    for line in lines:
        if not offer.covers(line) or net[line.key] <= 0:
            continue
        if offer.rule == "fixed":
            raw[line.key] = min(offer.amount_fen * line.quantity, net[line.key])
        else:
            raw[line.key] = min(
                apply_rate(net[line.key], Decimal(offer.percent_off) / 100), net[line.key]
            )
    return {k: v for k, v in raw.items() if v > 0}


def _order_amount(offer: Offer, eligible_fen: int) -> int:
    """What an order-wide rule (a full reduction, a coupon) takes off ``eligible_fen``."""
    if eligible_fen <= 0 or eligible_fen < offer.threshold_fen:
        return 0
    if offer.rule == "percent":
        amount = apply_rate(eligible_fen, Decimal(offer.percent_off) / 100)
        return min(amount, offer.cap_fen) if offer.cap_fen else amount
    return min(offer.amount_fen, eligible_fen)


def price(lines: list[PriceLine], offers: list[Offer], coupon: Offer | None = None,
          coupon_code: str = "") -> Pricing:  # fmt: skip
    """The discounts ``offers`` (automatic campaigns) and ``coupon`` give ``lines``."""
    goods = sum(line.total_fen for line in lines)
    floor = min(FLOOR_FEN, goods)
    net = {line.key: line.total_fen for line in lines}
    applied: list[Applied] = []

    def room(offer: Offer, wanted: int) -> int:
        left = sum(net.values()) - floor
        if offer.budget_left_fen is not None:
            left = min(left, offer.budget_left_fen)
        return max(0, min(wanted, left))

    def take(offer: Offer, amount: int, weights: dict[int, int], code: str = "") -> None:
        shares = spread(amount, weights)
        for k, v in shares.items():
            net[k] -= v
        applied.append(Applied(offer.campaign_id, offer.name, offer.rule, amount,
                               coupon_code=code, line_discounts=shares))  # fmt: skip

    automatic = [] if coupon is not None and coupon.exclusive else offers
    # 1. Item discounts: greedily, the campaign that gives most on the lines left.
    taken: set[int] = set()
    items = [o for o in automatic if o.rule in ITEM_RULES]
    while items:
        best, best_raw, best_amount = None, {}, 0
        for offer in items:
            raw = _item_raw(offer, [ln for ln in lines if ln.key not in taken], net)
            amount = sum(raw.values())
            if offer.rule == "percent" and offer.cap_fen:
                amount = min(amount, offer.cap_fen)
            amount = room(offer, amount)
            if amount > best_amount or (amount == best_amount and best is not None
                                        and amount and offer.campaign_id < best.campaign_id):  # fmt: skip
                best, best_raw, best_amount = offer, raw, amount
        if best is None or best_amount == 0:
            break
        take(best, best_amount, best_raw)
        taken |= set(best_raw)
        items.remove(best)
    # 2. One full reduction, the largest.
    reductions = []
    for offer in automatic:
        if offer.rule == "full_reduction":
            weights = {ln.key: net[ln.key] for ln in lines if offer.covers(ln) and net[ln.key] > 0}
            amount = room(offer, _order_amount(offer, sum(weights.values())))
            if amount:
                reductions.append((amount, -offer.campaign_id, offer, weights))
    if reductions:
        amount, _, offer, weights = max(reductions, key=lambda r: (r[0], r[1]))
        take(offer, amount, weights)
    # 3. The coupon.
    coupon_unused = False
    if coupon is not None:
        weights = {ln.key: net[ln.key] for ln in lines if coupon.covers(ln) and net[ln.key] > 0}
        amount = room(coupon, _order_amount(coupon, sum(weights.values())))
        if amount:
            take(coupon, amount, weights, code=coupon_code)
        else:
            coupon_unused = True
    # 4. Points gifts.
    for offer in automatic:
        if offer.rule == "gift_points" and offer.gift_points:
            eligible = sum(net[ln.key] for ln in lines if offer.covers(ln))
            fits = offer.budget_left_fen is None or offer.gift_points <= offer.budget_left_fen
            if eligible > 0 and eligible >= offer.threshold_fen and fits:
                applied.append(Applied(offer.campaign_id, offer.name, offer.rule, 0,
                                       gift_points=offer.gift_points))  # fmt: skip
        if offer.rule == "gift_data_pack" and offer.gift_sku_id:
            # A pack, not money: it counts against the budget in orders (units), not in fen.
            eligible = sum(net[ln.key] for ln in lines if offer.covers(ln))
            if eligible > 0 and eligible >= offer.threshold_fen:
                applied.append(Applied(offer.campaign_id, offer.name, offer.rule, 0,
                                       gift_sku_id=offer.gift_sku_id))  # fmt: skip
    line_discounts = {line.key: line.total_fen - net[line.key] for line in lines}
    discount = goods - sum(net.values())
    return Pricing(
        goods_fen=goods, discount_fen=discount, total_fen=goods - discount,
        line_discounts={k: v for k, v in line_discounts.items() if v},
        applied=applied, gift_points=sum(a.gift_points for a in applied), coupon_unused=coupon_unused,
    )  # fmt: skip
