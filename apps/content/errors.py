"""Content billing's refusals, each with a machine-readable code (CAMARA-style on the API)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, InvalidArgument, NotFound


class InvalidPrice(InvalidArgument):
    code = "INVALID_PRICE"
    default_message = _("The price must be a whole number of fen above zero.")


class ProviderNotFound(NotFound):
    code = "CP_NOT_FOUND"
    default_message = _("No such content provider.")


class ProductNotFound(NotFound):
    code = "PRODUCT_NOT_FOUND"
    default_message = _("No such content product.")


class ProductNotOnSale(Conflict):
    code = "PRODUCT_NOT_ON_SALE"
    default_message = _("This product is not on sale.")


class PricePointNotFound(NotFound):
    code = "PRICE_POINT_NOT_FOUND"
    default_message = _("No such price point of this product.")


class PricePointNotOnSale(Conflict):
    code = "PRICE_POINT_NOT_ON_SALE"
    default_message = _("This price point is not approved or not on sale.")


class BillingCodeTaken(Conflict):
    code = "BILLING_CODE_TAKEN"
    default_message = _("This billing code is in use by another of your price points.")


class ReviewRefused(Conflict):
    code = "REVIEW_STATE_CONFLICT"
    default_message = _("This review decision does not apply in the current state.")


class ReasonRequired(InvalidArgument):
    code = "REASON_REQUIRED"
    default_message = _("A rejection needs a reason.")


class SecondReviewerRequired(Conflict):
    code = "SECOND_REVIEWER_REQUIRED"
    default_message = _(
        "Risk control asks for a second reviewer: another operator must approve this."
    )


class ProviderNotApproved(Conflict):
    code = "CP_NOT_APPROVED"
    default_message = _("The content provider is not approved.")


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    http_status = 401
    default_message = _("The request signature is missing, wrong, stale or replayed.")


class ChargeNotFound(NotFound):
    code = "CHARGE_NOT_FOUND"
    default_message = _("No such charge.")


class ChargeStateConflict(Conflict):
    code = "CHARGE_STATE_CONFLICT"
    default_message = _("The charge cannot do that in its current state.")


class ComplaintStateConflict(Conflict):
    code = "COMPLAINT_STATE_CONFLICT"
    default_message = _("This complaint has been answered already.")


class IdentifierNotFound(NotFound):
    code = "IDENTIFIER_NOT_FOUND"
    default_message = _("The phone number is not a subscriber of the carrier.")


class CapExceeded(Conflict):
    code = "CONTENT_CAP_EXCEEDED"
    default_message = _("This charge would exceed a phone-bill spending cap for content.")


class NotEntitled(DomainError):
    code = "NOT_ENTITLED"
    http_status = 403
    default_message = _("You have not bought this content.")


class ChapterRequired(InvalidArgument):
    code = "CHAPTER_REQUIRED"
    default_message = _(
        "A per-chapter product is bought one chapter at a time: name a chapter it has."
    )


class TrialNotOffered(Conflict):
    code = "TRIAL_NOT_OFFERED"
    default_message = _("This product has no free trial.")


class TrialAlreadyUsed(Conflict):
    code = "TRIAL_ALREADY_USED"
    default_message = _("This number has had this product's free trial (or subscribed) before.")


class TrialNotFound(NotFound):
    code = "TRIAL_NOT_FOUND"
    default_message = _("No such free trial.")


class TrialCodeInvalid(InvalidArgument):
    code = "TRIAL_CODE_INVALID"
    default_message = _("The confirmation code is wrong.")


class TrialCodeExpired(DomainError):
    code = "TRIAL_CODE_EXPIRED"
    http_status = 422
    default_message = _("The confirmation code has expired. Ask for the trial again.")


class TrialAttemptsExceeded(DomainError):
    code = "TRIAL_CODE_ATTEMPTS_EXCEEDED"
    http_status = 429
    default_message = _("Too many wrong codes. Ask for the trial again.")


class ChargebackNotApplicable(Conflict):
    code = "CHARGEBACK_NOT_APPLICABLE"
    default_message = _(
        "This charge cannot be charged back: it is not paid, was refunded or is being refunded, "
        "or was paid with points."
    )


class ChargebackAmountMismatch(InvalidArgument):
    code = "CHARGEBACK_AMOUNT_MISMATCH"
    default_message = _("A chargeback takes back the whole charge: the amounts differ.")


class DisputeReferenceConflict(Conflict):
    code = "DISPUTE_REFERENCE_CONFLICT"
    default_message = _("This dispute reference was recorded against another charge.")
