"""Marketing's refusals, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, NotFound, TooManyRequests


class CouponNotFound(NotFound):
    code = "COUPON_NOT_FOUND"
    default_message = _("There is no such coupon code.")


class CouponNotYours(Conflict):
    code = "COUPON_NOT_YOURS"
    default_message = _("This coupon belongs to someone else.")


class CouponExpired(Conflict):
    code = "COUPON_EXPIRED"
    default_message = _("This coupon is not valid now.")


class CouponUsed(Conflict):
    code = "COUPON_USED"
    default_message = _("This coupon has already been used.")


class CouponNotApplicable(Conflict):
    code = "COUPON_NOT_APPLICABLE"
    default_message = _("This coupon does not apply to what you are buying.")


class CouponLimitReached(Conflict):
    code = "COUPON_LIMIT_REACHED"
    default_message = _("You already hold as many of these coupons as one person may.")


class CouponsGone(Conflict):
    code = "COUPONS_GONE"
    default_message = _("All the coupons of this batch have been claimed.")


class CouponGuessing(TooManyRequests):
    code = "COUPON_TOO_MANY_TRIES"
    default_message = _("Too many wrong coupon codes. Try again later.")


class CampaignNotFound(NotFound):
    code = "CAMPAIGN_NOT_FOUND"
    default_message = _("There is no such campaign.")


class FlashNotOpen(Conflict):
    code = "FLASH_SALE_NOT_OPEN"
    default_message = _("This flash sale is not open now.")


class FlashSoldOut(Conflict):
    code = "FLASH_SALE_SOLD_OUT"
    default_message = _("Sold out: every unit of this flash sale has gone.")


class FlashLimit(Conflict):
    code = "FLASH_SALE_LIMIT"
    default_message = _(
        "You already bought in this flash sale (or asked for more than one person may)."
    )


class FlashClaimGone(Conflict):
    code = "FLASH_CLAIM_GONE"
    default_message = _(
        "Your flash-sale units were released (the order was not placed in time); try again."
    )


class FlashClaimNotFound(NotFound):
    code = "FLASH_CLAIM_NOT_FOUND"
    default_message = _("You have not won anything in this flash sale.")


class FlashSaleNotFound(NotFound):
    code = "FLASH_SALE_NOT_FOUND"
    default_message = _("There is no such flash sale.")


class ChannelNotFound(NotFound):
    code = "CHANNEL_NOT_FOUND"
    default_message = _("There is no such channel code.")


class ChannelProductNotAllowed(Conflict):
    code = "CHANNEL_PRODUCT_NOT_ALLOWED"
    default_message = _("This channel may not sell one of these products.")


class ChannelAlreadyApplied(Conflict):
    code = "CHANNEL_ALREADY_APPLIED"
    default_message = _("Your company already has a channel or an application under review.")


class ChannelPartnerNotApproved(Conflict):
    code = "CHANNEL_PARTNER_NOT_APPROVED"
    default_message = _(
        "Register your company in the developer portal and wait for its approval first."
    )


class ChannelReviewConflict(Conflict):
    code = "CHANNEL_REVIEW_CONFLICT"
    default_message = _("This channel cannot make that move from its current status.")
