"""Partners, their apps and credentials, capability packages and subscriptions, metering, and
what the capabilities keep; one module each, every model importable from here."""

from apps.gateway.models.capabilities import (
    BillingCharge,
    CallbackDelivery,
    OtpCode,
    PartnerSms,
    VoiceCall,
)
from apps.gateway.models.metering import LATENCY_BUCKETS_MS, CallRecord, UsageHourly
from apps.gateway.models.packages import Package, Subscription
from apps.gateway.models.partners import AccessToken, App, Credential, Environment, Partner

__all__ = [
    "LATENCY_BUCKETS_MS",
    "AccessToken",
    "App",
    "BillingCharge",
    "CallRecord",
    "CallbackDelivery",
    "ChargeRequestDetail",
    "Credential",
    "Environment",
    "OtpCode",
    "Package",
    "Partner",
    "PartnerSms",
    "Subscription",
    "UsageHourly",
    "VoiceCall",
]

from apps.gateway.camara_models import ChargeRequestDetail
