"""The gateway's row locks, one helper per kind of row, each in primary-key order.

Order within the gateway, after the user of the global order (user → order → stock →
payment → ledger, see apps/core/locks.py): partner → app → credential, subscription → the
app's calls, messages, one-time codes and callbacks. A billing charge is the owner's row of a
payment, so it is locked before the payment (the payments lock order).
"""

from __future__ import annotations

import uuid

from apps.gateway.models import (
    App,
    BillingCharge,
    CallbackDelivery,
    Credential,
    OtpCode,
    Partner,
    PartnerSms,
    Subscription,
    VoiceCall,
)


def partner_lock(partner_id: int) -> Partner:
    return Partner.objects.select_for_update().get(pk=partner_id)


def partner_lock_latest_of(owner_id: int) -> Partner | None:
    """The owner's newest company registration, locked (None when there is none)."""
    return Partner.objects.select_for_update().filter(owner_id=owner_id).order_by("-pk").first()


def app_lock(app_id: int) -> App:
    """Lock the app alone."""
    return App.objects.select_for_update().get(pk=app_id)


def app_lock_with_partner(app_id: int) -> App:
    """Lock the app and its partner (read along), in one statement."""
    return App.objects.select_for_update().select_related("partner").get(pk=app_id)


def app_lock_owned(*, app_id: int, owner_id: int) -> App | None:
    """Lock the app if it belongs to ``owner_id``'s company (None otherwise)."""
    rows = App.objects.select_related("partner").filter(pk=app_id, partner__owner_id=owner_id)
    return rows.select_for_update(of=("self",)).first()


def credential_lock(credential_id: int) -> Credential:
    return Credential.objects.select_for_update().get(pk=credential_id)


def subscription_lock(subscription_id: int) -> Subscription:
    return Subscription.objects.select_for_update().get(pk=subscription_id)


def billing_charge_lock(charge_id: str) -> BillingCharge | None:
    """Lock one charge (None when there is none)."""
    return BillingCharge.objects.select_for_update().filter(pk=charge_id).first()


def callback_delivery_lock(delivery_id: uuid.UUID) -> CallbackDelivery:
    return CallbackDelivery.objects.select_for_update().get(pk=delivery_id)


def voice_call_lock(call_id: uuid.UUID) -> VoiceCall | None:
    """Lock one call (None when there is none)."""
    return VoiceCall.objects.select_for_update().filter(pk=call_id).first()


def voice_call_lock_by_carrier_id(carrier_call_id: str) -> VoiceCall | None:
    return VoiceCall.objects.select_for_update().filter(carrier_call_id=carrier_call_id).first()


def partner_sms_lock_by_carrier_message(message_id: uuid.UUID) -> PartnerSms | None:
    return PartnerSms.objects.select_for_update().filter(carrier_message_id=message_id).first()


def partner_sms_batch_lock(batch_id: uuid.UUID) -> list[PartnerSms]:
    """A partner SMS batch's rows, in pk order."""
    return list(PartnerSms.objects.select_for_update().filter(batch_id=batch_id).order_by("pk"))


def otp_code_lock(*, authentication_id: uuid.UUID, app_id: int) -> OtpCode | None:
    return OtpCode.objects.select_for_update().filter(pk=authentication_id, app_id=app_id).first()
