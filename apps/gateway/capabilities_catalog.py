"""The capabilities the gateway opens and their CAMARA-style scopes (a code constant).

Capabilities are code, not rows: each needs a view, a carrier adapter and a sandbox behind it,
so a new one ships with a release. Operators compose them into packages (``Package``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Capability(models.TextChoices):
    SIM_SWAP = "sim-swap", _("SIM swap")
    NUMBER_VERIFICATION = "number-verification", _("Number verification")
    OTP_SMS = "one-time-password-sms", _("One-time password SMS")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice (click to dial)")
    MOBILE_DATA = "mobile-data", _("Mobile data")
    CARRIER_BILLING = "carrier-billing", _("Carrier billing")
    KYC_MATCH = "kyc-match", _("KYC match")
    KYC_AGE_VERIFICATION = "kyc-age-verification", _("KYC age verification")
    DEVICE_ROAMING_STATUS = "device-roaming-status", _("Device roaming status")
    DEVICE_REACHABILITY_STATUS = "device-reachability-status", _("Device reachability status")
    LOCATION_VERIFICATION = "location-verification", _("Location verification")
    CHANNEL_SALES = "channel-sales", _("Channel sales")
    SPONSORED_DATA = "sponsored-data", _("Sponsored data")


@dataclass(frozen=True)
class CapabilitySpec:
    code: str
    scopes: tuple[str, ...]
    writes: bool


# Scope names follow the CAMARA API definitions where one exists (SimSwap, NumberVerification,
# OneTimePasswordSMS, CarrierBillingCheckOut, KnowYourCustomer, DeviceStatus, DeviceLocation);
# SMS, voice, mobile data and sponsored data follow their pattern.
CAPABILITIES: dict[str, CapabilitySpec] = {
    spec.code: spec
    for spec in (
        CapabilitySpec("sim-swap", ("sim-swap:check", "sim-swap:retrieve-date"), False),
        CapabilitySpec(
            "number-verification",
            ("number-verification:verify", "number-verification:device-phone-number:read"),
            False,
        ),
        CapabilitySpec("one-time-password-sms", ("one-time-password-sms:send-validate",), True),
        CapabilitySpec("sms", ("sms:send", "sms:read"), True),
        CapabilitySpec("voice", ("voice:calls:write", "voice:calls:read"), True),
        CapabilitySpec("mobile-data", ("mobile-data:read",), False),
        CapabilitySpec(
            "carrier-billing",
            (
                "carrier-billing:payments:create",
                "carrier-billing:payments:read",
                "carrier-billing:payments:write",
                "carrier-billing-refund:refunds:create",
                "carrier-billing-refund:refunds:read",
            ),
            True,
        ),
        CapabilitySpec("kyc-match", ("kyc-match:match",), False),
        CapabilitySpec("kyc-age-verification", ("kyc-age-verification:verify",), False),
        CapabilitySpec("device-roaming-status", ("device-roaming-status:read",), False),
        CapabilitySpec("device-reachability-status", ("device-reachability-status:read",), False),
        CapabilitySpec("location-verification", ("location-verification:verify",), False),
        # A sales channel places orders for its customers (apps/gateway/channel_sales.py): the
        # ``channel`` scopes, not prefixed by the code, as the issue names them.
        CapabilitySpec("channel-sales", ("channel:orders:create", "channel:orders:read"), True),
        CapabilitySpec(
            "sponsored-data", ("sponsored-data:grants:create", "sponsored-data:grants:read"), True
        ),
    )
}
SCOPE_TO_CAPABILITY: dict[str, str] = {
    scope: spec.code for spec in CAPABILITIES.values() for scope in spec.scopes
}


def scopes_for(capabilities: list[str] | tuple[str, ...] | frozenset[str]) -> list[str]:
    """Every scope of these capabilities, in catalogue order."""
    return [s for code, spec in CAPABILITIES.items() if code in capabilities for s in spec.scopes]
