"""Payment writes: start an intent, apply what providers report, refund; post every move to the ledger.

Rules kept here: no network call inside a transaction or under a lock (intent is recorded and
committed, the provider is called, the result is applied under the intent's row lock); each
notification counts once (its provider event id is a unique key); an amount, currency or
merchant that does not match the intent puts it under review instead of paying; money that
arrives for a reference that no longer wants it is refunded automatically.

One module per part (intents, points, carrier billing, notifications, refunds); callers keep
importing from ``apps.payments.services``.
"""

from apps.payments.errors import (  # the old module's names, for its callers
    CarrierBillingCodeInvalid,
    CarrierBillingDailyLimit,
    CarrierBillingMonthlyLimit,
    ChargebackRefundOpen,
    InsufficientPoints,
    MethodUnavailable,
    PaymentChargedBack,
    PaymentNotFound,
    PaymentNotPayable,
    RefundNotAllowed,
    RefundNotFound,
)
from apps.payments.services.carrier_billing import (
    carrier_billing_confirm,
    carrier_billing_settle_unanswered,
    carrier_billing_validate,
)
from apps.payments.services.common import IntentView, RefundView, _refund_view, _view, new_public_id
from apps.payments.services.intents import CHANNELS, intent_cancel, intent_start
from apps.payments.services.notifications import (
    intent_sync,
    intents_sync_pending,
    notification_receive,
)
from apps.payments.services.points import (
    POINTS_ACCOUNT,
    points_account,
    points_balance,
    points_grant,
)
from apps.payments.services.refunds import (
    intent_charge_back,
    refund_automatic,
    refund_decide,
    refund_execute,
    refund_mark_fraud,
    refund_request,
    refunds_issue_for_case,
    refunds_retry_failed,
)

__all__ = [
    "CHANNELS",
    "POINTS_ACCOUNT",
    "CarrierBillingCodeInvalid",
    "CarrierBillingDailyLimit",
    "CarrierBillingMonthlyLimit",
    "ChargebackRefundOpen",
    "InsufficientPoints",
    "IntentView",
    "MethodUnavailable",
    "PaymentChargedBack",
    "PaymentNotFound",
    "PaymentNotPayable",
    "RefundNotAllowed",
    "RefundNotFound",
    "RefundView",
    "_refund_view",
    "_view",
    "carrier_billing_confirm",
    "carrier_billing_settle_unanswered",
    "carrier_billing_validate",
    "intent_cancel",
    "intent_charge_back",
    "intent_start",
    "intent_sync",
    "intents_sync_pending",
    "new_public_id",
    "notification_receive",
    "points_account",
    "points_balance",
    "points_grant",
    "refund_automatic",
    "refund_decide",
    "refund_execute",
    "refund_mark_fraud",
    "refund_request",
    "refunds_issue_for_case",
    "refunds_retry_failed",
]
