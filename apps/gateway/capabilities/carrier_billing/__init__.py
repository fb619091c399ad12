"""Carrier billing as CAMARA CarrierBillingCheckOut v0.5 (r3.2) serves it, under
``/carrier-billing/v0.5``: ``preparePayment``, ``validatePayment``, ``confirmPayment``,
``cancelPayment``, ``retrievePayment``, ``retrievePayments``; and the companion refund API
(``/carrier-billing-refund/v0.3``): ``createRefund``, ``retrieveRefunds``, ``retrieveRefund``,
``retrievePaymentRemainingAmount``.

Amounts are CAMARA's decimal yuan; they become integer fen at the edge (``core.money``) and
a fraction of a fen is refused. The carrier texts the subscriber a code on ``preparePayment``
(``validationInfo.action`` is ``validate``); the partner passes it on with ``validatePayment``.
The older ``/carrier-billing/v1`` paths (``billing.py``) stay, answering with ``Deprecation``.
One module per API (``payments``, ``refunds``) and what they share (``common``); every name is
importable from here.
"""

from __future__ import annotations

from apps.gateway.capabilities.carrier_billing.common import (
    CAPABILITY,
    CURRENCY,
    PAYMENT_STATUS,
    REFUND_STATUS,
    CarrierBillingView,
    check_sink,
    yuan,
)
from apps.gateway.capabilities.carrier_billing.payments import (
    CancelPayment,
    ConfirmPayment,
    Payments,
    PreparePayment,
    RetrievePayment,
    ValidatePayment,
    payment_body,
)
from apps.gateway.capabilities.carrier_billing.refunds import (
    Refunds,
    RefundView,
    RetrievePaymentRemainingAmount,
    RetrieveRefund,
    refund_body,
)

__all__ = [
    "CAPABILITY",
    "CURRENCY",
    "PAYMENT_STATUS",
    "REFUND_STATUS",
    "CancelPayment",
    "CarrierBillingView",
    "ConfirmPayment",
    "Payments",
    "PreparePayment",
    "RefundView",
    "Refunds",
    "RetrievePayment",
    "RetrievePaymentRemainingAmount",
    "RetrieveRefund",
    "ValidatePayment",
    "check_sink",
    "payment_body",
    "refund_body",
    "yuan",
]
