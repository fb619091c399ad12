"""Content charges ask risk control, and the content phone-bill caps are risk caps.

Every content charge (in-app, the web pay page, a subscription's renewal or proration) is a
``content_charge`` event for ``risk.enforce``. The caps that were settings here are risk caps
now (``content-user-day``, ``content-user-month``, ``content-cp-day``: amounts over sliding
windows, counted in Redis at the decision, edited in the workbench; seeded by risk's migration
0004 from the old ``CONTENT_CAPS`` setting); a charge past one keeps content's refusal
``CapExceeded`` with the cap's old name, its limit and what is spent. The payments app's own
phone-bill caps (all purposes) still apply on top when the bill is charged.

What each outcome means here: ``block`` refuses the charge before anything is written;
``review`` holds a charge the subscriber asked for (``RiskUnderReview`` goes to
``charge_create``, which writes it ``held`` in risk's review queue; an operator releases or
refuses it, ``charges.charge_hold_answered``) and refuses a renewal, which nobody waits for
(giving back to the caps what its decision counted);
``challenge`` is satisfied when the subscriber confirms the charge itself (the in-app and web
flows text a code or go through the provider's own confirmation), and refuses a renewal,
which nobody confirms.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.content.errors import CapExceeded
from apps.risk import selectors as risk_selectors
from apps.risk import services as risk
from apps.risk.errors import RiskBlocked, RiskUnderReview

# Content charges in risk's review queue are held under this owner and the charge id.
HOLD_OWNER = "content"

# The caps' old names (still the ``cap`` of ``CapExceeded``) and their risk cap codes.
CAP_CODES = {
    "subscriber_daily_fen": "content-user-day",
    "subscriber_monthly_fen": "content-user-month",
    "cp_daily_fen": "content-cp-day",
}
_BY_REASON = {f"CAP_{code.upper().replace('-', '_')}": name for name, code in CAP_CODES.items()}


@dataclass(frozen=True)
class Caps:
    """The limits in force (None: the cap is off or was removed in the workbench)."""

    subscriber_daily_fen: int | None
    subscriber_monthly_fen: int | None
    # All subscribers together, per CP and day (a runaway CP app stops here).
    cp_daily_fen: int | None


def caps_for(*, user_id: int, cp_id: int) -> Caps:
    """The caps for this subscriber and CP, read from risk (the same for all today: per-CP or
    per-subscriber exceptions are risk rules)."""
    return Caps(**{name: risk_selectors.cap_limit(code=code) for name, code in CAP_CODES.items()})


def charge_decide(
    *,
    user_id: int,
    msisdn: str,
    cp_id: int,
    product_id: int,
    amount_fen: int,
    reference: str,
    confirmed_by_subscriber: bool,
    ip: str = "",
) -> risk.Decision:
    """Ask risk about one content charge and carry out its answer (see the module docstring).

    Raises ``CapExceeded`` for a content cap, ``RiskBlocked`` for anything else risk refuses
    (a list, a rule, Redis down: the kind fails closed), ``RiskUnderReview`` (with the hold to
    place) for a review of a charge the subscriber confirms. An allowed charge that then does
    not happen gives its amount back with ``risk.decision_release``.
    """
    event = risk.Event(
        kind=risk.Kind.CONTENT_CHARGE, user_id=user_id, msisdn=msisdn, ip=ip, cp_id=str(cp_id),
        product=f"content:{product_id}", amount_fen=amount_fen, reference=reference,
    )  # fmt: skip
    try:
        decision = risk.enforce(event=event, owner=HOLD_OWNER, reference=reference)
    except RiskUnderReview as review:
        if confirmed_by_subscriber:
            raise
        # Refused, not held: the renewal never happens, so what the decision counted goes back
        # (as a refused hold gives back ``Hold.counted``).
        risk.decision_release(decision=review.decision)  # type: ignore[attr-defined]
        raise RiskBlocked(details={**review.details, "review": "unholdable"}) from review
    except RiskBlocked as blocked:
        decision = blocked.decision  # type: ignore[attr-defined]
        for reason in blocked.details["reasons"]:
            if reason in _BY_REASON:
                name = _BY_REASON[reason]
                code = CAP_CODES[name]
                raise CapExceeded(
                    details={
                        "cap": name,
                        "limit_fen": risk_selectors.cap_limit(code=code),
                        "spent_fen": decision.totals.get(code, 0),
                    }
                ) from blocked
        raise
    if decision.outcome == risk.Outcome.CHALLENGE and not confirmed_by_subscriber:
        risk.decision_release(decision=decision)
        raise RiskBlocked(details={"reasons": list(decision.reasons), "challenge": "unanswerable"})
    return decision
