"""The HLR and BOSS view of a number: which operator owns it and, for our own, its account."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from apps.sandbox.errors import invalid_argument, not_found
from apps.sandbox.models import Subscriber

OWN_OPERATOR = "CMCC"


def _segments(listing: str) -> frozenset[str]:
    return frozenset(listing.split())


# Number-segment prefixes (号段) by operator, as MIIT allocated them.
PREFIXES: dict[str, frozenset[str]] = {
    "CMCC": _segments(
        "134 135 136 137 138 139 147 150 151 152 157 158 159 172 178 182 183 184 187 188 "
        "195 197 198"
    ),
    "CUCC": _segments("130 131 132 145 155 156 166 175 176 185 186 196"),
    "CTCC": _segments("133 149 153 173 177 180 181 189 190 191 193 199"),
}
_NUMBER = re.compile(r"^(?:\+86)?(1[0-9]{10})$")
_UPSERT_FIELDS = ("status", "balance_fen", "province", "city", "real_name_verified")
# PostgreSQL bigint, so an absurd balance is a 400 and not a database error.
_BIGINT = 2**63 - 1


def msisdn_normalize(raw: str) -> str:
    """``13800138000`` or ``+8613800138000`` (spaces and dashes ignored) → ``+8613800138000``."""
    match = _NUMBER.match(re.sub(r"[\s-]", "", raw))
    if match is None:
        raise invalid_argument("The number must be +86 followed by 11 digits starting with 1.")
    return "+86" + match.group(1)


def operator_of(msisdn: str) -> str | None:
    """The operator whose number segment holds ``msisdn`` (normalised), or ``None``."""
    prefix = msisdn[3:6]
    return next((name for name, prefixes in PREFIXES.items() if prefix in prefixes), None)


def subscriber_body(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "msisdn": subscriber.msisdn,
        "operator": subscriber.operator,
        "province": subscriber.province,
        "city": subscriber.city,
        "status": subscriber.status,
        "balance_fen": subscriber.balance_fen,
        "is_own_network": subscriber.operator == OWN_OPERATOR,
        "real_name_verified": subscriber.real_name_verified,
    }


def subscriber_lookup(*, raw_msisdn: str) -> dict[str, Any]:
    """What the HLR answers for a number: the full account for our own, the operator otherwise.

    Another operator's subscribers are not ours to describe, so only the operator is known.
    """
    msisdn = msisdn_normalize(raw_msisdn)
    subscriber = Subscriber.objects.filter(msisdn=msisdn).first()
    if subscriber is not None:
        return subscriber_body(subscriber)
    operator = operator_of(msisdn)
    if operator is None:
        raise invalid_argument(f"{msisdn} is in no operator's number segment.")
    if operator == OWN_OPERATOR:
        raise not_found(f"{msisdn} is not a subscriber.", code="SUBSCRIBER_NOT_FOUND")
    return {
        "msisdn": msisdn,
        "operator": operator,
        "province": None,
        "city": None,
        "status": "unknown",
        "balance_fen": None,
        "is_own_network": False,
        "real_name_verified": None,
    }


def _check_upsert(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(_UPSERT_FIELDS))
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(unknown)}.")
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "status":
            ok = value in Subscriber.Status.values
        elif name == "balance_fen":
            ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _BIGINT
        elif name == "real_name_verified":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, str) and 0 < len(value.strip()) <= 32
            value = value.strip() if ok else value
        if not ok:
            raise invalid_argument(f"{name}: invalid value {value!r}.")
        clean[name] = value
    return clean


def subscriber_upsert(*, raw_msisdn: str, fields: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or change one of our own subscribers; return its body and whether it is new.

    Only China Mobile numbers can be ours, so other segments are refused. Idempotent.
    """
    msisdn = msisdn_normalize(raw_msisdn)
    if operator_of(msisdn) != OWN_OPERATOR:
        raise invalid_argument(f"{msisdn} is not a China Mobile number.")
    defaults = _check_upsert(fields)
    subscriber, created = Subscriber.objects.update_or_create(
        msisdn=msisdn,
        defaults=defaults,
        create_defaults={"operator": OWN_OPERATOR, "province": "北京", "city": "北京", **defaults},
    )
    return subscriber_body(subscriber), created
