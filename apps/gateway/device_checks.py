"""Device status, location verification and KYC for partners, over the carrier's adapters.

Read-only: nothing is stored; each answer comes from the carrier (its HLR and location server,
and its real-name register, which matches inside the carrier and never hands data out). See
``apps/sandbox/device.py`` for what the sandbox plays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.carrier import device as carrier_device
from apps.gateway.capability_errors import ServiceNotApplicable
from apps.gateway.network import carrier_errors, own_country

# The smallest circle worth asking about: the location server's accuracy is no finer.
MIN_RADIUS_M = 100
# The largest area a verification may ask about (CAMARA leaves the bound to the operator);
# mainland China and its coast, the area this carrier's location server covers.
MAX_RADIUS_M = 200_000
COVERED = ((Decimal(18), Decimal(54)), (Decimal(73), Decimal(135)))  # latitude, longitude
_EARTH_RADIUS_M = 6_371_000


def device_status(*, phone_number: str) -> carrier_device.DeviceStatus:
    """Roaming and reachability now (one network lookup answers both)."""
    with carrier_errors():
        return carrier_device.device_status(msisdn=own_country(phone_number))


@dataclass(frozen=True)
class LocationVerdict:
    result: str  # "TRUE" | "FALSE" | "PARTIAL"
    match_rate: int | None  # 1..99 for PARTIAL
    located_at: datetime


class AreaNotCovered(ServiceNotApplicable):
    code = "LOCATION_VERIFICATION.AREA_NOT_COVERED"
    default_message = _("The area is outside the area this network can locate devices in.")


class UnableToLocate(ServiceNotApplicable):
    code = "LOCATION_VERIFICATION.UNABLE_TO_LOCATE"
    default_message = _("The network has no location of the device.")


class UnableToFulfilMaxAge(ServiceNotApplicable):
    code = "LOCATION_VERIFICATION.UNABLE_TO_FULFILL_MAX_AGE"
    default_message = _("No location as recent as maxAge asks is known for the device.")


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


def location_verify(
    *,
    phone_number: str,
    latitude: Decimal,
    longitude: Decimal,
    radius_m: Decimal,
    max_age_s: int | None,
) -> LocationVerdict:
    """Whether the device is within the circle: TRUE when its whole uncertainty circle is
    inside, FALSE when wholly outside, PARTIAL (with the share of it inside) otherwise."""
    (lat_min, lat_max), (lon_min, lon_max) = COVERED
    if not (lat_min <= latitude <= lat_max and lon_min <= longitude <= lon_max):
        raise AreaNotCovered()
    with carrier_errors():
        where = carrier_device.device_location(msisdn=own_country(phone_number))
    if where is None:
        raise UnableToLocate()
    if max_age_s is not None and where.located_at < timezone.now() - timedelta(seconds=max_age_s):
        raise UnableToFulfilMaxAge()
    distance = _distance_m(
        float(latitude), float(longitude), float(where.latitude), float(where.longitude)
    )
    radius, accuracy = float(radius_m), float(where.accuracy_m)
    if distance + accuracy <= radius:
        return LocationVerdict("TRUE", None, where.located_at)
    if distance - accuracy >= radius:
        return LocationVerdict("FALSE", None, where.located_at)
    # The share of the device's uncertainty span that lies inside the area, 1..99.
    inside = (radius - (distance - accuracy)) / (2 * accuracy)
    return LocationVerdict("PARTIAL", max(1, min(99, round(inside * 100))), where.located_at)


def kyc_match(*, phone_number: str, fields: dict[str, str]) -> dict[str, Any]:
    """The register's verdict per field (``true`` / ``false`` / ``not_available``, scores)."""
    with carrier_errors():
        return carrier_device.kyc_match(msisdn=own_country(phone_number), fields=fields)


def age_verify(
    *, phone_number: str, age_threshold: int, identity: dict[str, str]
) -> carrier_device.AgeCheck:
    with carrier_errors():
        return carrier_device.age_check(
            msisdn=own_country(phone_number), age_threshold=age_threshold, identity=identity
        )
