"""A line's device as the network sees it (roaming, reachability, position) and the carrier's
real-name register (实名登记), for the device-status, location and KYC capabilities.

The register is matched here, inside the carrier: the caller learns whether what it holds
matches (``true`` / ``false`` / ``not_available``, with a similarity score for names and
addresses), never the register's data.
"""

from __future__ import annotations

import difflib
import unicodedata
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date

from apps.sandbox.errors import invalid_argument
from apps.sandbox.models import DeviceState, RealNameRecord
from apps.sandbox.network import _iso, _own_subscriber

# Where a line without a known position is: its home city's centre.
CITY_CENTRES: dict[str, tuple[Decimal, Decimal]] = {
    "北京": (Decimal("39.904200"), Decimal("116.407400")),
    "上海": (Decimal("31.230400"), Decimal("121.473700")),
    "广州": (Decimal("23.129100"), Decimal("113.264400")),
    "深圳": (Decimal("22.543100"), Decimal("114.057900")),
    "杭州": (Decimal("30.274100"), Decimal("120.155100")),
    "成都": (Decimal("30.572800"), Decimal("104.066800")),
}
_STATE_FIELDS = {
    "roaming_country_code", "roaming_country_name", "reachable_data", "reachable_sms",
    "latitude", "longitude", "accuracy_m", "locatable", "seen_at_hours_ago",
}  # fmt: skip
_RECORD_FIELDS = {
    "id_document", "name", "given_name", "family_name", "birthdate", "address", "postal_code",
    "region", "locality", "country", "email", "gender", "verified", "parental_control",
    "content_lock",
}  # fmt: skip
# What a partner may match, and the register's field behind each; scored ones get a score.
MATCHABLE = {
    "idDocument": "id_document", "name": "name", "givenName": "given_name",
    "familyName": "family_name", "address": "address", "postalCode": "postal_code",
    "region": "region", "locality": "locality", "country": "country", "birthdate": "birthdate",
    "email": "email", "gender": "gender",
}  # fmt: skip
# The properties CAMARA scores (0..100) when they do not match, among those the register holds.
SCORED = {"name", "givenName", "familyName", "address", "region", "locality", "email"}


def _state(msisdn: str) -> DeviceState:
    return DeviceState.objects.filter(msisdn=msisdn).first() or DeviceState(msisdn=msisdn)


def device_status(*, raw_msisdn: str) -> dict[str, Any]:
    """Roaming (and where) and how the device can be reached now."""
    subscriber = _own_subscriber(raw_msisdn)
    state = _state(subscriber.msisdn)
    connectivity = [
        kind
        for kind, on in (("DATA", state.reachable_data), ("SMS", state.reachable_sms))
        if on and subscriber.status == subscriber.Status.ACTIVE
    ]
    return {
        "msisdn": subscriber.msisdn,
        "roaming": state.roaming_country_code is not None,
        "country_code": state.roaming_country_code,
        "country_name": state.roaming_country_name or None,
        "connectivity": connectivity,
        "last_status_time": _iso(state.seen_at or timezone.now()),
    }


def device_location(*, raw_msisdn: str) -> dict[str, Any]:
    """The device's last known position (the home city's centre when none was recorded)."""
    subscriber = _own_subscriber(raw_msisdn)
    state = _state(subscriber.msisdn)
    if not state.locatable:
        return {"msisdn": subscriber.msisdn, "located": False}
    if state.latitude is None or state.longitude is None:
        latitude, longitude = CITY_CENTRES.get(subscriber.city, CITY_CENTRES["北京"])
    else:
        latitude, longitude = state.latitude, state.longitude
    return {
        "msisdn": subscriber.msisdn,
        "located": True,
        "latitude": str(latitude),
        "longitude": str(longitude),
        "accuracy_m": state.accuracy_m,
        "located_at": _iso(state.seen_at or timezone.now()),
    }


def device_state_put(*, raw_msisdn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Set what the network sees of a line's device (tests and the demo's knobs)."""
    unknown = sorted(set(payload) - _STATE_FIELDS)
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(unknown)}.")
    subscriber = _own_subscriber(raw_msisdn)
    fields: dict[str, Any] = {"seen_at": timezone.now()}
    for name, value in payload.items():
        if name in ("latitude", "longitude") and value is not None:
            try:
                value = Decimal(str(value)).quantize(Decimal("0.000001"))
            except InvalidOperation as exc:
                raise invalid_argument(f"{name} must be a number.") from exc
        elif name in ("reachable_data", "reachable_sms") and not isinstance(value, bool):
            raise invalid_argument(f"{name} must be true or false.")
        elif name == "roaming_country_name" and value is None:
            value = ""
        elif name == "seen_at_hours_ago":
            if not isinstance(value, int) or value < 0:
                raise invalid_argument("seen_at_hours_ago must be a whole number of hours.")
            fields["seen_at"] = timezone.now() - timedelta(hours=value)
            continue
        fields[name] = value
    DeviceState.objects.update_or_create(msisdn=subscriber.msisdn, defaults=fields)
    return device_status(raw_msisdn=subscriber.msisdn)


def real_name_put(*, raw_msisdn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Register who owns a line (tests and the demo). Answers only that it was recorded."""
    unknown = sorted(set(payload) - _RECORD_FIELDS)
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(unknown)}.")
    subscriber = _own_subscriber(raw_msisdn)
    fields = dict(payload)
    birthdate = parse_date(str(fields.get("birthdate", "")))
    if birthdate is None or not fields.get("id_document") or not fields.get("name"):
        raise invalid_argument("id_document, name and birthdate (YYYY-MM-DD) are required.")
    fields["birthdate"] = birthdate
    RealNameRecord.objects.update_or_create(msisdn=subscriber.msisdn, defaults=fields)
    return {"msisdn": subscriber.msisdn, "recorded": True}


def _normal(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.casefold().split())


def kyc_match(*, raw_msisdn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Each field the caller holds matched against the register: ``true``, ``false`` (with a
    0..100 similarity for names and addresses) or ``not_available``. No register data out."""
    unknown = sorted(set(payload) - set(MATCHABLE))
    if unknown:
        raise invalid_argument(f"Fields that cannot be matched: {', '.join(unknown)}.")
    subscriber = _own_subscriber(raw_msisdn)
    record = RealNameRecord.objects.filter(msisdn=subscriber.msisdn).first()
    result: dict[str, Any] = {}
    for field, value in payload.items():
        held = getattr(record, MATCHABLE[field], "") if record else ""
        if held in ("", None):
            result[field] = "not_available"
            continue
        if field == "birthdate":
            matched = isinstance(held, date) and parse_date(str(value)) == held
        else:
            matched = _normal(value) == _normal(held)
        result[field] = "true" if matched else "false"
        if field in SCORED and not matched:
            ratio = difflib.SequenceMatcher(None, _normal(value), _normal(held)).ratio()
            result[f"{field}Score"] = min(99, int(ratio * 100))
    return {"msisdn": subscriber.msisdn, "matches": result}


def age_check(*, raw_msisdn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Whether the line's registered owner is at least ``age_threshold`` years old, and how
    well the identity the caller holds (if any) matches the register (0..100)."""
    threshold = payload.get("age_threshold")
    identity = payload.get("identity") or {}
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 <= threshold <= 120:
        raise invalid_argument("age_threshold must be an integer 0..120.")
    if not isinstance(identity, dict):
        raise invalid_argument("identity must be an object.")
    subscriber = _own_subscriber(raw_msisdn)
    record = RealNameRecord.objects.filter(msisdn=subscriber.msisdn).first()
    if record is None:
        return {"age_check": "not_available", "verified": False, "identity_match_score": None,
                "content_lock": "not_available", "parental_control": "not_available"}  # fmt: skip
    today = timezone.localdate()
    born = record.birthdate
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    score = None
    if identity:
        matches = kyc_match(raw_msisdn=subscriber.msisdn, payload=identity)["matches"]
        decided = [v for k, v in matches.items() if not k.endswith("Score")]
        score = round(100 * sum(v == "true" for v in decided) / len(decided)) if decided else None
    return {
        "age_check": "true" if age >= threshold else "false",
        "verified": record.verified,
        "identity_match_score": score,
        "content_lock": "true" if record.content_lock else "false",
        "parental_control": "true" if record.parental_control else "false",
    }


# The demo's register entries (fictional people) and
# device states: a line roaming in Hong Kong and one that is switched off.
_DEMO_RECORDS = (
    ("+8613800138000", "110101199003074477", "张伟", "伟", "张", "1990-03-07", "广州市天河区体育西路1号"),
    ("+8613900139000", "110101200801011233", "李娜", "娜", "李", "2008-01-01", "北京市东城区长安街1号"),
)  # fmt: skip
_DEMO_STATES = (
    ("+8615000150000", {"roaming_country_code": 454, "roaming_country_name": "HK"}),
    ("+8615100151000", {"reachable_data": False, "reachable_sms": False}),
)


def seed_device_demo() -> int:
    """Give the demo lines their register entries and device states; idempotent."""
    added = 0
    for msisdn, id_document, name, given, family, born, address in _DEMO_RECORDS:
        _, created = RealNameRecord.objects.get_or_create(
            msisdn=msisdn,
            defaults={"id_document": id_document, "name": name, "given_name": given,
                      "family_name": family, "birthdate": parse_date(born), "address": address},
        )  # fmt: skip
        added += created
    for msisdn, fields in _DEMO_STATES:
        _, created = DeviceState.objects.get_or_create(msisdn=msisdn, defaults=fields)
        added += created
    return added
