"""A line's device and owner at the carrier: roaming and reachability, position, and matching
the real-name register. Reads only, no local state; each call goes to the carrier.

Every function is a network call and raises ``SubscriberNotFound`` (our segment, no such
line), ``CarrierRejected`` (``NOT_OWN_NETWORK`` and the like) or ``CarrierUnavailable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from apps.carrier.client import get_carrier_client


@dataclass(frozen=True)
class DeviceStatus:
    roaming: bool
    country_code: int | None  # the visited network's mobile country code (MCC)
    country_name: str | None  # ISO 3166 alpha-2
    connectivity: tuple[str, ...]  # "DATA", "SMS"
    last_status_time: datetime


@dataclass(frozen=True)
class DeviceLocation:
    latitude: Decimal
    longitude: Decimal
    accuracy_m: int
    located_at: datetime


@dataclass(frozen=True)
class AgeCheck:
    age_check: str  # "true" | "false" | "not_available"
    verified: bool
    identity_match_score: int | None
    content_lock: str
    parental_control: str


def _path(msisdn: str, tail: str) -> str:
    return f"/carrier/v1/subscribers/{quote(msisdn)}/{tail}"


def device_status(*, msisdn: str) -> DeviceStatus:
    body = get_carrier_client().call("GET", _path(msisdn, "device-status"))
    return DeviceStatus(
        roaming=bool(body["roaming"]),
        country_code=int(body["country_code"]) if body.get("country_code") else None,
        country_name=str(body["country_name"]) if body.get("country_name") else None,
        connectivity=tuple(str(c) for c in body["connectivity"]),
        last_status_time=datetime.fromisoformat(str(body["last_status_time"])),
    )


def device_location(*, msisdn: str) -> DeviceLocation | None:
    """Where the device was last located; None when the network never located it."""
    body = get_carrier_client().call("GET", _path(msisdn, "location"))
    if not body.get("located", True):
        return None
    return DeviceLocation(
        latitude=Decimal(str(body["latitude"])),
        longitude=Decimal(str(body["longitude"])),
        accuracy_m=int(body["accuracy_m"]),
        located_at=datetime.fromisoformat(str(body["located_at"])),
    )


def kyc_match(*, msisdn: str, fields: dict[str, str]) -> dict[str, Any]:
    """Each field matched by the carrier against its register: ``{"name": "true",
    "givenName": "false", "givenNameScore": 80, "email": "not_available", ...}``."""
    body = get_carrier_client().call("POST", _path(msisdn, "kyc-match"), json=fields)
    return dict(body["matches"])


def age_check(*, msisdn: str, age_threshold: int, identity: dict[str, str]) -> AgeCheck:
    body = get_carrier_client().call(
        "POST",
        _path(msisdn, "age-check"),
        json={"age_threshold": age_threshold, "identity": identity},
    )
    score = body.get("identity_match_score")
    return AgeCheck(
        age_check=str(body["age_check"]),
        verified=bool(body["verified"]),
        identity_match_score=int(score) if score is not None else None,
        content_lock=str(body["content_lock"]),
        parental_control=str(body["parental_control"]),
    )
