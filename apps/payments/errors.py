"""Payment refusals, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, InvalidArgument, NotFound


class PaymentNotFound(NotFound):
    code = "PAYMENT_NOT_FOUND"
    default_message = _("This payment does not exist.")


class PaymentNotPayable(Conflict):
    code = "PAYMENT_NOT_PAYABLE"
    default_message = _("This payment can no longer be paid.")


class MethodUnavailable(InvalidArgument):
    code = "PAYMENT_METHOD_UNAVAILABLE"
    default_message = _("This payment method cannot be used here.")


class RefundNotAllowed(Conflict):
    code = "REFUND_NOT_ALLOWED"
    default_message = _("This payment cannot be refunded by that amount.")


class RefundNotFound(NotFound):
    code = "REFUND_NOT_FOUND"
    default_message = _("This refund does not exist.")


class InsufficientPoints(Conflict):
    code = "INSUFFICIENT_POINTS"
    default_message = _("You do not have enough points.")


class CarrierBillingDailyLimit(DomainError):
    code = "CARRIER_BILLING_DAILY_LIMIT"
    http_status = 403
    default_message = _("This would exceed your daily phone-bill spending limit.")


class CarrierBillingMonthlyLimit(DomainError):
    code = "CARRIER_BILLING_MONTHLY_LIMIT"
    http_status = 403
    default_message = _("This would exceed your monthly phone-bill spending limit.")


class CarrierBillingCodeInvalid(InvalidArgument):
    code = "CARRIER_BILLING_CODE_INVALID"
    default_message = _("The confirmation code is wrong or has expired.")


class RefundSelfApproval(DomainError):
    code = "REFUND_SELF_APPROVAL"
    http_status = 403
    default_message = _("Whoever asked for a refund cannot approve it: another finance user must.")


class RefundSecondApproverNeeded(DomainError):
    code = "REFUND_SECOND_APPROVER_NEEDED"
    http_status = 403
    default_message = _(
        "You have approved this refund already; a refund this large needs a second finance user."
    )


class CarrierBillingCodeExpired(DomainError):
    code = "CARRIER_BILLING_CODE_EXPIRED"
    http_status = 422
    default_message = _(
        "The confirmation code has expired (it lasts 5 minutes). Start the payment again."
    )


class PaymentChargedBack(Conflict):
    code = "PAYMENT_CHARGED_BACK"
    default_message = _(
        "This payment was charged back (the carrier took the money back): it cannot be refunded."
    )


class ChargebackRefundOpen(Conflict):
    code = "CHARGEBACK_REFUND_OPEN"
    default_message = _(
        "This payment has a refund under way, failed and to be retried, or paid: "
        "a chargeback would give the money back twice."
    )
