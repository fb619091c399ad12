"""The sandbox's tables (in its own database), one module per part of the outside world it
plays; every model and constant importable from here."""

from apps.sandbox.models.carrier import (
    KNOB_FIELDS,
    MAX_DLR_DELAY_MS,
    MAX_HANG_MS,
    MAX_LATENCY_MS,
    MSISDN_REGEX,
    CarrierPayment,
    Knobs,
    Provisioning,
    SmsMessage,
    Subscriber,
)
from apps.sandbox.models.courier import CourierKnobs, CourierParcel, CourierPush
from apps.sandbox.models.cp_app import CpAppEvent
from apps.sandbox.models.mobile import BillItem, DataBucket, Offer, PlanTerm
from apps.sandbox.models.network import (
    CallBehaviour,
    DeviceState,
    DeviceToken,
    IdentityRecord,
    RealNameRecord,
    SimChange,
    SimRegistration,
    VoiceCall,
)
from apps.sandbox.models.providers import PayNotification, PayRefund, PayTrade
from apps.sandbox.models.wechat_mp import MpOAuthCode, MpReceived

__all__ = [
    "KNOB_FIELDS",
    "MAX_DLR_DELAY_MS",
    "MAX_HANG_MS",
    "MAX_LATENCY_MS",
    "MSISDN_REGEX",
    "BillItem",
    "CallBehaviour",
    "CarrierPayment",
    "CourierKnobs",
    "CourierParcel",
    "CourierPush",
    "CpAppEvent",
    "DataBucket",
    "DeviceState",
    "DeviceToken",
    "IdentityRecord",
    "Knobs",
    "MpOAuthCode",
    "MpReceived",
    "Offer",
    "PayNotification",
    "PayRefund",
    "PayTrade",
    "PlanTerm",
    "Provisioning",
    "RealNameRecord",
    "SimChange",
    "SimRegistration",
    "SmsMessage",
    "Subscriber",
    "VoiceCall",
]
