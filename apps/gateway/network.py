"""SIM swap, number verification and remaining data for partners, over the carrier's adapters.

Read-only: nothing is stored; each answer comes from the carrier's HLR or its network-based
authentication (see ``apps/sandbox/network.py`` for what the sandbox plays).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.carrier import mobile as carrier_mobile
from apps.carrier import network as carrier_network
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.carrier.provinces import province_of
from apps.gateway.capability_errors import (
    IdentifierNotFound,
    NetworkUnavailable,
    ServiceNotApplicable,
    UserNotAuthenticatedByMobileNetwork,
)

MAX_AGE_HOURS = 2400


@contextmanager
def carrier_errors() -> Iterator[None]:
    """The carrier's refusals in CAMARA's words."""
    try:
        yield
    except SubscriberNotFound as exc:
        raise IdentifierNotFound() from exc
    except carrier_network.NotOwnNetwork as exc:
        raise ServiceNotApplicable(_("The number belongs to another operator.")) from exc
    except CarrierUnavailable as exc:
        raise NetworkUnavailable() from exc
    except CarrierRejected as exc:
        # Any other refusal of a well-formed number: CAMARA lets these operations answer
        # only their listed codes, and for a number the network cannot serve that is this one.
        raise ServiceNotApplicable() from exc


# A Chinese mobile number: only those can be this carrier's lines.
_CHINESE_MOBILE = re.compile(r"^\+861[0-9]{10}$")


def own_country(phone_number: str) -> str:
    """Only Chinese mobile numbers can be this carrier's; the others are not applicable."""
    if not _CHINESE_MOBILE.match(phone_number):
        raise ServiceNotApplicable(_("The number is not on this carrier's network."))
    return phone_number


def own_network(phone_number: str) -> str:
    """Only this carrier's number segments (``carrier.provinces``, MIIT's H codes in
    production) can be charged on its bill: another operator's or a foreign number is not
    applicable (``SERVICE_NOT_APPLICABLE``), which needs no network call."""
    if province_of(phone_number) is None:
        raise ServiceNotApplicable(_("The number is not on this carrier's network."))
    return phone_number


def sim_latest_change(*, phone_number: str) -> datetime:
    """When the SIM now in the line went in (the line's opening if it never changed)."""
    with carrier_errors():
        return carrier_network.sim_latest_change(msisdn=own_country(phone_number))


def sim_swapped(*, phone_number: str, max_age_hours: int) -> bool:
    """Whether the line got a new SIM within the last ``max_age_hours`` hours."""
    changed = sim_latest_change(phone_number=phone_number)
    return changed > timezone.now() - timedelta(hours=max_age_hours)


def device_token_phone_number(*, device_token: str) -> str | None:
    """The number the network authenticated behind ``device_token`` (None: unknown, expired).

    Network call; raises ``CarrierUnavailable`` when the network does not answer.
    """
    if not device_token:
        return None
    return carrier_network.device_token_number(device_token=device_token)


def device_phone_number(*, device_token: str | None) -> str:
    """The number the network authenticated behind the device token, or 403 in CAMARA's words."""
    if not device_token:
        raise UserNotAuthenticatedByMobileNetwork()
    with carrier_errors():
        msisdn = carrier_network.device_token_number(device_token=device_token)
    if msisdn is None:
        raise UserNotAuthenticatedByMobileNetwork(
            _("The device token is unknown or expired; authenticate the device again.")
        )
    return msisdn


def number_verify(
    *,
    token_phone_number: str | None = None,
    device_token: str | None,
    phone_number: str | None,
    hashed_phone_number: str | None,
) -> bool:
    """Whether the device's number (a three-legged token's, else the device token's) is
    ``phone_number`` (or hashes to ``hashed_phone_number``: SHA-256, hex, of the E.164
    number). Compared in constant time."""
    device_number = token_phone_number or device_phone_number(device_token=device_token)
    if phone_number is not None:
        return hmac.compare_digest(device_number, phone_number)
    digest = hashlib.sha256(device_number.encode()).hexdigest()
    return hmac.compare_digest(digest, (hashed_phone_number or "").lower())


@dataclass(frozen=True)
class DataRemaining:
    phone_number: str
    as_of: datetime
    total_mb: int
    used_mb: int
    remaining_mb: int
    buckets: tuple[carrier_mobile.DataBucket, ...]


def data_remaining(*, phone_number: str) -> DataRemaining:
    """The line's data allowance in force now, bucket by bucket (the carrier's usage lookup)."""
    with carrier_errors():
        usage = carrier_mobile.subscriber_usage(own_country(phone_number))
    return DataRemaining(
        phone_number=usage.msisdn, as_of=usage.as_of, total_mb=usage.total_mb,
        used_mb=usage.used_mb, remaining_mb=usage.remaining_mb, buckets=usage.buckets,
    )  # fmt: skip
