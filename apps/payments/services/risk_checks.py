"""Risk control when a payment starts: one decision per new intent, phone-bill caps included.

The caps that used to be settings here are risk caps now (``phone-bill-user-day`` and
``phone-bill-user-month``, seeded by risk's migration); their refusals keep this app's codes.
A ``challenge`` is answered with an SMS code from accounts (purpose ``risk``): the code is
sent and checked outside the intent's transaction, so a wrong code counts even though the
start fails.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from apps.accounts import selectors as accounts_selectors
from apps.core.phone import mask_phone
from apps.payments.errors import (
    CarrierBillingDailyLimit,
    CarrierBillingMonthlyLimit,
    MethodUnavailable,
)
from apps.payments.models import Method, PaymentIntent
from apps.risk import services as risk
from apps.risk.errors import RiskBlocked, RiskChallengeRequired

PHONE_BILL_CAPS = {
    "CAP_PHONE_BILL_USER_DAY": ("phone-bill-user-day", CarrierBillingDailyLimit),
    "CAP_PHONE_BILL_USER_MONTH": ("phone-bill-user-month", CarrierBillingMonthlyLimit),
}


def intent_decide(
    intent: PaymentIntent, *, client_ip: str, challenge_passed: bool, msisdn: str = ""
) -> risk.Decision:
    """Decide on a new intent (in its transaction; a refusal rolls it back). ``msisdn``: the
    user's number when the caller holds it; read from the user (one query outside a request
    of that user) only when it did not pass it."""
    billing = intent.method == Method.CARRIER_BILLING
    if billing and intent.user_id is None:
        raise MethodUnavailable()
    phone = _phone(intent.user_id, msisdn)
    event = risk.Event(
        kind=risk.Kind.PHONE_BILL_CHARGE if billing else risk.Kind.PAYMENT_START,
        user_id=intent.user_id, msisdn=phone, ip=client_ip, product=intent.purpose,
        amount_fen=intent.amount_fen, reference=intent.reference,
    )  # fmt: skip
    try:
        decision = risk.enforce(event=event, owner="payments", reference=intent.idempotency_key)
    except RiskBlocked as blocked:
        for reason in blocked.details["reasons"]:
            if reason in PHONE_BILL_CAPS:
                code, error = PHONE_BILL_CAPS[reason]
                spent = blocked.decision.totals.get(code, 0)  # type: ignore[attr-defined]
                raise error(
                    details={"limit_fen": _cap_limit(code), "spent_fen": spent}
                ) from blocked
        raise
    if decision.outcome == risk.Outcome.CHALLENGE and not challenge_passed:
        risk.decision_release(decision=decision)
        raise RiskChallengeRequired(
            details={"phone": mask_phone(phone), "reasons": list(decision.reasons)}
        )
    return decision


def _phone(user_id: int | None, msisdn: str) -> str:
    """The number the caller passed, or the user's."""
    if msisdn or not user_id:
        return msisdn
    return accounts_selectors.user_phone(user_id=user_id)


def _cap_limit(code: str) -> int | None:
    from apps.risk.selectors import cap_limit

    return cap_limit(code=code)


def challenges_by_sms(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Around ``intent_start``: check a ``risk_code`` first; when risk asks for a challenge,
    text the subscriber a code (accounts' OTP, purpose ``risk``) and let the error go on."""
    from apps.accounts import services as accounts
    from apps.accounts.models import OtpChallenge

    @functools.wraps(fn)
    def wrapper(*, risk_code: str = "", **kwargs: Any) -> Any:
        user_id, msisdn = kwargs.get("user_id"), kwargs.get("msisdn", "")
        phone = _phone(user_id, msisdn) if risk_code else ""
        if risk_code:
            accounts.otp_sign_in(phone=phone, code=risk_code, purpose=OtpChallenge.Purpose.RISK)
        try:
            return fn(challenge_passed=bool(risk_code), **kwargs)
        except RiskChallengeRequired:
            phone = _phone(user_id, msisdn)
            accounts.otp_request(
                phone=phone, ip=kwargs.get("client_ip") or None, purpose=OtpChallenge.Purpose.RISK
            )
            raise

    return wrapper
