"""Why risk control stopped something; the codes the pages and the API show."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError


class RiskBlocked(DomainError):
    code = "RISK_BLOCKED"
    http_status = 403
    default_message = _("This request was refused by risk control.")


class RiskUnderReview(Conflict):
    """The thing waits in the review queue; an operator releases or refuses it."""

    code = "RISK_UNDER_REVIEW"
    http_status = 409
    default_message = _("This request is being reviewed. Try again after it is released.")


class RiskRefused(DomainError):
    code = "RISK_REFUSED"
    http_status = 403
    default_message = _("This request was refused after review.")


class RiskChallengeRequired(DomainError):
    """The subscriber must confirm with the SMS code just sent (``details.phone``)."""

    code = "RISK_CHALLENGE_REQUIRED"
    http_status = 428
    default_message = _("Confirm with the code we sent to your phone by SMS.")


class HoldNotFound(DomainError):
    code = "RISK_HOLD_NOT_FOUND"
    http_status = 404


class RefundPermissionRequired(DomainError):
    """Closing a case as "refunds issued" pays its linked payments back with no second
    approval: only a user who may approve refunds (``payments.change_refund``) may."""

    code = "RISK_REFUND_PERMISSION"
    http_status = 403
    default_message = _(
        "Closing a case as refunds issued refunds its payments: only a user who may approve "
        "refunds may choose it."
    )
