"""The typed event ``decide`` takes, the decision it returns, and what each kind may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from django.conf import settings


class Kind(StrEnum):
    SIGN_IN = "sign_in"
    OTP_REQUEST = "otp_request"
    CHECKOUT = "checkout"
    PAYMENT_START = "payment_start"
    PHONE_BILL_CHARGE = "phone_bill_charge"
    CONTENT_CHARGE = "content_charge"
    CARD_REDEMPTION = "card_redemption"
    SIM_PURCHASE = "sim_purchase"
    GATEWAY_SMS = "gateway_sms"
    GATEWAY_BILLING = "gateway_billing"
    REFUND_REQUEST = "refund_request"


class Outcome(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"
    REVIEW = "review"
    BLOCK = "block"


class Severity(IntEnum):
    allow = 0
    challenge = 1
    review = 2
    block = 3


@dataclass(frozen=True)
class KindPolicy:
    """What a path can do with a decision, and what happens when Redis is down.

    ``challenge``: the caller can ask the subscriber for an SMS code; ``review``: the caller can
    hold the thing for an operator. An outcome the path cannot carry out becomes the next
    stricter one it can (a challenge becomes a review, a review a block).
    """

    challenge: bool
    review: bool
    fail_closed: bool


# Fail closed where an outage would let money leave unchecked towards a third party (the
# subscriber's phone bill, a partner's traffic we pay the carrier for); fail open where the
# money path has its own check (a payment provider, an order's payment) or where a closed
# door locks every subscriber out (sign-in, codes). docs/risk.md explains each row.
POLICIES: dict[Kind, KindPolicy] = {
    Kind.SIGN_IN: KindPolicy(challenge=False, review=False, fail_closed=False),
    Kind.OTP_REQUEST: KindPolicy(challenge=False, review=False, fail_closed=False),
    Kind.CHECKOUT: KindPolicy(challenge=False, review=True, fail_closed=False),
    Kind.PAYMENT_START: KindPolicy(challenge=False, review=True, fail_closed=False),
    Kind.PHONE_BILL_CHARGE: KindPolicy(challenge=True, review=True, fail_closed=True),
    Kind.CONTENT_CHARGE: KindPolicy(challenge=True, review=True, fail_closed=True),
    Kind.CARD_REDEMPTION: KindPolicy(challenge=False, review=False, fail_closed=False),
    Kind.SIM_PURCHASE: KindPolicy(challenge=False, review=True, fail_closed=False),
    Kind.GATEWAY_SMS: KindPolicy(challenge=False, review=True, fail_closed=False),
    Kind.GATEWAY_BILLING: KindPolicy(challenge=False, review=False, fail_closed=True),
    Kind.REFUND_REQUEST: KindPolicy(challenge=False, review=True, fail_closed=False),
}


def fails_closed(kind: Kind) -> bool:
    """The configured behaviour when Redis is down: ``RISK_FAIL_CLOSED`` / ``RISK_FAIL_OPEN``
    (lists of kinds) override the table above."""
    if kind.value in getattr(settings, "RISK_FAIL_CLOSED", ()):
        return True
    if kind.value in getattr(settings, "RISK_FAIL_OPEN", ()):
        return False
    return POLICIES[kind].fail_closed


def canonical_msisdn(value: str) -> str:
    """Numbers as risk keeps them: digits only, a Chinese number without its country code
    (``+8613800138000`` and ``13800138000`` are one subscriber, on lists and in counters)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


@dataclass(frozen=True)
class Event:
    """Something about to happen. Fields a kind has no use for stay empty.

    ``reference`` names the order, payment or charge the event is about (labels and holds
    find it by that); ``amount_fen`` is the money at stake.
    """

    kind: Kind
    user_id: int | None = None
    msisdn: str = ""
    device_id: str = ""
    ip: str = ""
    cp_id: str = ""
    partner_id: str = ""
    product: str = ""
    amount_fen: int = 0
    id_hash: str = ""
    reference: str = ""


@dataclass(frozen=True)
class Decision:
    """What the caller must do. ``rules`` are ``code@version`` of the active rules (and caps,
    lists) that fired; ``shadow_rules`` fired in shadow and changed nothing."""

    id: str
    kind: Kind
    outcome: Outcome
    reasons: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    shadow_rules: tuple[str, ...] = ()
    degraded: bool = False
    counted: tuple[tuple[str, int, int], ...] = field(default=(), repr=False)
    totals: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def allowed(self) -> bool:
        return self.outcome == Outcome.ALLOW
