"""The capability APIs, served from the site root so that a deployment can give them a host."""

from django.urls import path

from apps.gateway.capabilities import (
    billing,
    mobile_data,
    number_verification,
    otp,
    sim_swap,
    sms,
    voice,
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
    path("sms/v1/messages", sms.SmsSend.as_view(), name="sms-send"),
    path("sms/v1/messages/<uuid:message_id>", sms.SmsDetail.as_view(), name="sms-detail"),
    path("voice/v1/calls", voice.CallStart.as_view(), name="voice-call-start"),
    path("voice/v1/calls/<uuid:call_id>", voice.CallDetail.as_view(), name="voice-call-detail"),
    path(
        "mobile-data/v1/remaining-volume",
        mobile_data.RemainingVolume.as_view(),
        name="mobile-data-remaining",
    ),
    path(
        "carrier-billing/v1/payments/prepare",
        billing.PaymentPrepare.as_view(),
        name="billing-prepare",
    ),
    path(
        "carrier-billing/v1/payments/<str:payment_id>",
        billing.PaymentRead.as_view(),
        name="billing-payment",
    ),
    path(
        "carrier-billing/v1/payments/<str:payment_id>/validate",
        billing.PaymentValidate.as_view(),
        name="billing-validate",
    ),
    path(
        "carrier-billing/v1/payments/<str:payment_id>/confirm",
        billing.PaymentConfirm.as_view(),
        name="billing-confirm",
    ),
    path(
        "carrier-billing/v1/payments/<str:payment_id>/cancel",
        billing.PaymentCancel.as_view(),
        name="billing-cancel",
    ),
    path(
        "carrier-billing-refund/v1/refunds", billing.RefundCreate.as_view(), name="billing-refund"
    ),
]
