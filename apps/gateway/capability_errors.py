"""The capabilities' refusals, each with its CAMARA code (the pipeline renders DomainErrors)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError


class MissingIdentifier(DomainError):
    code = "MISSING_IDENTIFIER"
    http_status = 422
    default_message = _("The device cannot be identified.")


class IdentifierNotFound(DomainError):
    code = "IDENTIFIER_NOT_FOUND"
    http_status = 404
    default_message = _("The phone number is not a subscriber of this network.")


class ServiceNotApplicable(DomainError):
    code = "SERVICE_NOT_APPLICABLE"
    http_status = 422
    default_message = _("The service is not available for the provided identifier.")


class OutOfRange(DomainError):
    code = "OUT_OF_RANGE"
    http_status = 400
    default_message = _("Client specified an invalid range.")


class NetworkUnavailable(DomainError):
    code = "UNAVAILABLE"
    http_status = 503
    default_message = _("The network is not answering; try again shortly.")


class CapabilityNotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404
    default_message = _("The specified resource is not found.")


class InvalidCallbackUrl(DomainError):
    code = "INVALID_ARGUMENT"
    http_status = 400
    default_message = _("callbackUrl must be one of the app's registered callback URLs.")


class UserNotAuthenticatedByMobileNetwork(DomainError):
    code = "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"
    http_status = 403
    default_message = _("Client must authenticate via the mobile network to use this service.")


class OtpMaxCodesExceeded(DomainError):
    code = "ONE_TIME_PASSWORD_SMS.MAX_OTP_CODES_EXCEEDED"
    http_status = 403
    default_message = _("Too many OTPs have been requested for this MSISDN. Try later.")


class OtpPhoneNumberNotAllowed(DomainError):
    code = "ONE_TIME_PASSWORD_SMS.PHONE_NUMBER_NOT_ALLOWED"
    http_status = 403
    default_message = _("The phone number cannot receive an SMS from this operator.")


class OtpPhoneNumberBlocked(DomainError):
    code = "ONE_TIME_PASSWORD_SMS.PHONE_NUMBER_BLOCKED"
    http_status = 403
    default_message = _("The phone number is blocked from receiving SMS.")


class OtpInvalid(DomainError):
    code = "ONE_TIME_PASSWORD_SMS.INVALID_OTP"
    http_status = 400
    default_message = _("The provided OTP is not valid for this authenticationId.")


class OtpVerificationExpired(DomainError):
    code = "ONE_TIME_PASSWORD_SMS.VERIFICATION_EXPIRED"
    http_status = 400
    default_message = _("The authenticationId is no longer valid.")


class OtpVerificationFailed(DomainError):
    code = "ONE_TIME_PASSWORD_SMS.VERIFICATION_FAILED"
    http_status = 400
    default_message = _(
        "The maximum number of attempts for this authenticationId was exceeded without "
        "providing a valid OTP."
    )


class CallStateConflict(DomainError):
    code = "CONFLICT"
    http_status = 409
    default_message = _("The call has already ended.")


class ChargeStateConflict(DomainError):
    code = "CONFLICT"
    http_status = 409
    default_message = _("The payment is not in a state that allows this.")


class UnnecessaryIdentifier(DomainError):
    code = "UNNECESSARY_IDENTIFIER"
    http_status = 422
    default_message = _("The device is already identified by the access token.")


class InvalidAuthorizationId(DomainError):
    code = "CARRIER_BILLING.INVALID_AUTHORIZATION_ID"
    http_status = 400
    default_message = _("The authorizationId is not the one of this payment.")


class RefundInvalidPaymentStatus(DomainError):
    code = "CARRIER_BILLING_REFUND.INVALID_PAYMENT_STATUS"
    http_status = 422
    default_message = _("Only a payment that succeeded can be refunded.")


class RefundUnauthorizedAmount(DomainError):
    code = "CARRIER_BILLING_REFUND.UNAUTHORIZED_AMOUNT"
    http_status = 422
    default_message = _("The amount is more than what is left to refund of the payment.")


class PaymentDenied(DomainError):
    code = "CARRIER_BILLING.PAYMENT_DENIED"
    http_status = 403
    default_message = _(
        "The carrier refused the payment (the prepaid balance does not cover it, or the line "
        "is suspended)."
    )


class RefundDenied(DomainError):
    code = "CARRIER_BILLING_REFUND.REFUND_DENIED"
    http_status = 403
    default_message = _("The line is closed: nothing can be credited back to its bill.")


class RefundPaymentNotEligible(DomainError):
    code = "CARRIER_BILLING_REFUND.PAYMENT_NOT_ELIGIBLE_FOR_REFUND"
    http_status = 403
    default_message = _("The payment is older than the carrier's refund period.")


class RefundTaxesMismatch(DomainError):
    code = "CARRIER_BILLING_REFUND.TAXES_MANAGEMENT_MISMATCH"
    http_status = 422
    default_message = _("isTaxIncluded is not the payment's.")


class RefundDetailsMismatch(DomainError):
    code = "CARRIER_BILLING_REFUND.REFUND_DETAILS_MISMATCH"
    http_status = 422
    default_message = _("refundDetails do not match the payment's paymentDetails.")


# Sponsored data: the grant's refusals. DomainErrors, so the call's request id is not kept
# with the refusal: nothing was applied, and the same request id may be sent again (after a
# top-up, next month).


class SponsoredUnknownProduct(DomainError):
    code = "SPONSORED_DATA.UNKNOWN_PRODUCT"
    http_status = 422
    default_message = _("No data pack is on sale under this productCode.")


class SponsoredInsufficientBalance(DomainError):
    code = "SPONSORED_DATA.INSUFFICIENT_BALANCE"
    http_status = 403
    default_message = _("The partner's prepaid balance does not cover this data pack.")


class SponsoredPartnerLimitExceeded(DomainError):
    code = "SPONSORED_DATA.PARTNER_MONTHLY_LIMIT_EXCEEDED"
    http_status = 429
    default_message = _("The partner's sponsored data for this month has reached its limit.")


class SponsoredSubscriberLimitExceeded(DomainError):
    code = "SPONSORED_DATA.SUBSCRIBER_MONTHLY_LIMIT_EXCEEDED"
    http_status = 429
    default_message = _("This number has received the most sponsored data packs for this month.")


class SponsoredRequestIdConflict(DomainError):
    code = "CONFLICT"
    http_status = 409
    default_message = _("This requestId was already used for another grant.")


class SponsoredGrantNotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404
    default_message = _("No grant under this requestId.")


class ReferenceCodeInUse(DomainError):
    code = "ALREADY_EXISTS"
    http_status = 409
    default_message = _("The referenceCode was already used by another request.")
