"""The capability APIs, served from the site root so that a deployment can give them a host.

Each serves the paths and version of its CAMARA document's ``servers``; an unknown path under a
capability's prefix answers CAMARA's JSON 404. The first carrier-billing paths (``v1``) stay
for the partners that use them, answering with a ``Deprecation`` header.
"""

from django.urls import path, re_path

from apps.gateway.api.base import capability_not_found, deprecated
from apps.gateway.api.lean import lean_view, sms_send_input
from apps.gateway.capabilities import (
    billing,
    carrier_billing,
    channel_sales,
    device,
    kyc,
    mobile_data,
    number_verification,
    otp,
    sim_swap,
    sms,
    sponsored_data,
    voice,
)

_V05 = "/carrier-billing/v0.5/payments"
CAPABILITY_PREFIXES = (
    "sim-swap",
    "number-verification",
    "one-time-password-sms",
    "sms",
    "voice",
    "mobile-data",
    "carrier-billing",
    "carrier-billing-refund",
    "kyc-match",
    "kyc-age-verification",
    "device-roaming-status",
    "device-reachability-status",
    "location-verification",
    "channel-sales",
    "sponsored-data",
)

urlpatterns = [
    path("sim-swap/v2/check", sim_swap.SimSwapCheck.as_view(), name="sim-swap-check"),
    path(
        "sim-swap/v2/retrieve-date",
        sim_swap.SimSwapRetrieveDate.as_view(),
        name="sim-swap-retrieve-date",
    ),
    path(
        "number-verification/v2/verify",
        number_verification.NumberVerify.as_view(),
        name="number-verification-verify",
    ),
    path(
        "number-verification/v2/device-phone-number",
        number_verification.DevicePhoneNumber.as_view(),
        name="number-verification-device-phone-number",
    ),
    path("one-time-password-sms/v1/send-code", otp.SendCode.as_view(), name="otp-send-code"),
    path(
        "one-time-password-sms/v1/validate-code",
        otp.ValidateCode.as_view(),
        name="otp-validate-code",
    ),
    path("sms/v1/messages", lean_view(sms.SmsSend, parse=sms_send_input), name="sms-send"),
    path("sms/v1/messages/<uuid:message_id>", sms.SmsDetail.as_view(), name="sms-detail"),
    path("voice/v1/calls", voice.CallStart.as_view(), name="voice-call-start"),
    path("voice/v1/calls/<uuid:call_id>", voice.CallDetail.as_view(), name="voice-call-detail"),
    path(
        "mobile-data/v1/remaining-volume",
        mobile_data.RemainingVolume.as_view(),
        name="mobile-data-remaining",
    ),
    # CAMARA CarrierBillingCheckOut v0.5 and its refund API v0.3.
    path(
        "carrier-billing/v0.5/payments",
        carrier_billing.Payments.as_view(),
        name="carrier-billing-payments",
    ),
    path(
        "carrier-billing/v0.5/payments/prepare",
        carrier_billing.PreparePayment.as_view(),
        name="carrier-billing-prepare",
    ),
    path(
        "carrier-billing/v0.5/payments/<str:payment_id>",
        carrier_billing.RetrievePayment.as_view(),
        name="carrier-billing-payment",
    ),
    path(
        "carrier-billing/v0.5/payments/<str:payment_id>/validate",
        carrier_billing.ValidatePayment.as_view(),
        name="carrier-billing-validate",
    ),
    path(
        "carrier-billing/v0.5/payments/<str:payment_id>/confirm",
        carrier_billing.ConfirmPayment.as_view(),
        name="carrier-billing-confirm",
    ),
    path(
        "carrier-billing/v0.5/payments/<str:payment_id>/cancel",
        carrier_billing.CancelPayment.as_view(),
        name="carrier-billing-cancel",
    ),
    path(
        "carrier-billing-refund/v0.3/payments/<str:payment_id>/refunds",
        carrier_billing.Refunds.as_view(),
        name="carrier-billing-refunds",
    ),
    path(
        "carrier-billing-refund/v0.3/payments/<str:payment_id>/refunds/remaining-amount",
        carrier_billing.RetrievePaymentRemainingAmount.as_view(),
        name="carrier-billing-remaining-amount",
    ),
    path(
        "carrier-billing-refund/v0.3/payments/<str:payment_id>/refunds/<str:refund_id>",
        carrier_billing.RetrieveRefund.as_view(),
        name="carrier-billing-refund",
    ),
    path("kyc-match/v0.3/match", kyc.KycMatch.as_view(), name="kyc-match"),
    path("kyc-age-verification/v0.1/verify", kyc.VerifyAge.as_view(), name="kyc-age-verify"),
    path(
        "device-roaming-status/v1/retrieve",
        device.RoamingStatus.as_view(),
        name="device-roaming-status",
    ),
    path(
        "device-reachability-status/v1/retrieve",
        device.ReachabilityStatus.as_view(),
        name="device-reachability-status",
    ),
    path(
        "location-verification/v3/verify",
        device.VerifyLocation.as_view(),
        name="location-verification",
    ),
    path("channel-sales/v1/orders", channel_sales.PlaceOrder.as_view(), name="channel-orders"),
    path(
        "channel-sales/v1/orders/<str:order_id>",
        channel_sales.ReadOrder.as_view(),
        name="channel-order",
    ),
    path(
        "sponsored-data/v1/grants",
        sponsored_data.GrantCreate.as_view(),
        name="sponsored-data-grants",
    ),
    path(
        "sponsored-data/v1/grants/<str:request_id>",
        sponsored_data.GrantDetail.as_view(),
        name="sponsored-data-grant",
    ),
    # The first paths, kept for the partners that integrated them.
    path(
        "carrier-billing/v1/payments/prepare",
        deprecated(billing.PaymentPrepare.as_view(), successor=_V05),
        name="billing-prepare",
    ),
    path(
        "carrier-billing/v1/payments/<str:payment_id>",
        deprecated(billing.PaymentRead.as_view(), successor=_V05),
        name="billing-payment",
    ),
    path(
        "carrier-billing/v1/payments/<str:payment_id>/validate",
        deprecated(billing.PaymentValidate.as_view(), successor=_V05),
        name="billing-validate",
    ),
    path(
        "carrier-billing/v1/payments/<str:payment_id>/confirm",
        deprecated(billing.PaymentConfirm.as_view(), successor=_V05),
        name="billing-confirm",
    ),
    path(
        "carrier-billing/v1/payments/<str:payment_id>/cancel",
        deprecated(billing.PaymentCancel.as_view(), successor=_V05),
        name="billing-cancel",
    ),
    path(
        "carrier-billing-refund/v1/refunds",
        deprecated(billing.RefundCreate.as_view(), successor=_V05),
        name="billing-refund",
    ),
    # Anything else under a capability's prefix: CAMARA's JSON 404.
    re_path(rf"^(?:{'|'.join(CAPABILITY_PREFIXES)})(?:/.*)?$", capability_not_found),
]
