"""The HLR's SIM records and the network's device authentication, for the network capabilities.

- SIM swaps: every line has the date its current SIM went in (the latest ``SimChange``, or the
  day the line was opened when it never changed). ``sim_swap`` plays a swap at a shop.
- Number verification: CAMARA's network knows a device's number because the device reached
  the operator's authorisation server over its mobile data bearer. The sandbox plays that step
  with ``device_authenticate``: the "device" names its number, the network (which in real life
  sees the number behind the bearer) issues a short-lived device token bound to it, and the
  partner's server passes that token on; ``device_token_introspect`` says which number it is.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.sandbox.errors import SandboxError, invalid_argument, not_found
from apps.sandbox.models import DeviceToken, SimChange, Subscriber
from apps.sandbox.subscribers import OWN_OPERATOR, msisdn_normalize, operator_of

DEVICE_TOKEN_TTL_S = 300
_ISSUED_AGO = timedelta(days=730)
_DEMO_SWAPS = {
    # A line whose SIM was swapped two days ago, for the demo's "swapped: true".
    "+8615800158000": timedelta(days=2),
}


def _own_subscriber(raw_msisdn: str) -> Subscriber:
    """Our subscriber, or 404 (own segment) / 422 ``NOT_OWN_NETWORK`` (another operator)."""
    msisdn = msisdn_normalize(raw_msisdn)
    subscriber = Subscriber.objects.filter(msisdn=msisdn).first()
    if subscriber is not None:
        return subscriber
    if operator_of(msisdn) not in (None, OWN_OPERATOR):
        raise SandboxError(422, "NOT_OWN_NETWORK", f"{msisdn} is another operator's number.")
    raise not_found(f"{msisdn} is not a subscriber.", code="SUBSCRIBER_NOT_FOUND")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _latest_change(subscriber: Subscriber) -> datetime:
    latest = (
        SimChange.objects.filter(msisdn=subscriber.msisdn)
        .order_by("-changed_at")
        .values_list("changed_at", flat=True)
        .first()
    )
    return latest or subscriber.created_at


def sim_info(*, raw_msisdn: str) -> dict[str, Any]:
    """When the line's current SIM went in (the line's opening when it never changed)."""
    subscriber = _own_subscriber(raw_msisdn)
    return {"msisdn": subscriber.msisdn, "latest_sim_change": _iso(_latest_change(subscriber))}


def sim_swap(*, raw_msisdn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Put a new SIM on the line, now or at ``at`` (ISO 8601, not in the future)."""
    unknown = sorted(set(payload) - {"at"})
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(unknown)}.")
    subscriber = _own_subscriber(raw_msisdn)
    at = timezone.now()
    if payload.get("at") is not None:
        parsed = parse_datetime(str(payload["at"]))
        if parsed is None or parsed.tzinfo is None or parsed > at:
            raise invalid_argument("at must be a past ISO 8601 time with a zone.")
        at = parsed
    SimChange.objects.create(
        msisdn=subscriber.msisdn, changed_at=at, iccid=f"8986{secrets.randbelow(10**16):016d}"
    )
    return sim_info(raw_msisdn=subscriber.msisdn)


def seed_sim_changes() -> int:
    """Give the demo lines their SIM once: two years ago, and a swap two days ago for the line
    the demo shows as swapped. Return how many changes were added; idempotent."""
    from apps.sandbox.seed import DEMO_SUBSCRIBERS

    added = 0
    now = timezone.now()
    for msisdn, *_ in DEMO_SUBSCRIBERS:
        if SimChange.objects.filter(msisdn=msisdn).exists():
            continue
        changes = [_ISSUED_AGO, *([_DEMO_SWAPS[msisdn]] if msisdn in _DEMO_SWAPS else [])]
        for ago in changes:
            SimChange.objects.create(
                msisdn=msisdn, changed_at=now - ago, iccid=f"8986{secrets.randbelow(10**16):016d}"
            )
            added += 1
    return added


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_authenticate(*, payload: dict[str, Any]) -> dict[str, Any]:
    """Play the network recognising a device on its data bearer: a token bound to its number.

    Only an active line of our own network can be recognised (a device on Wi-Fi or another
    operator's SIM cannot), as with the real operator's authorisation server.
    """
    unknown = sorted(set(payload) - {"msisdn"})
    if unknown:
        raise invalid_argument(f"Unknown fields: {', '.join(unknown)}.")
    subscriber = _own_subscriber(str(payload.get("msisdn") or ""))
    if subscriber.status != Subscriber.Status.ACTIVE:
        raise SandboxError(403, "SUBSCRIBER_NOT_ACTIVE", "The line is suspended or closed.")
    token = "dt_" + secrets.token_urlsafe(24)
    expires_at = timezone.now() + timedelta(seconds=DEVICE_TOKEN_TTL_S)
    DeviceToken.objects.create(
        token_hash=_token_hash(token), msisdn=subscriber.msisdn, expires_at=expires_at
    )
    return {
        "device_token": token,
        "msisdn": subscriber.msisdn,
        "expires_in": DEVICE_TOKEN_TTL_S,
    }


def device_token_introspect(*, payload: dict[str, Any]) -> dict[str, Any]:
    """Which number a device token stands for; ``active: false`` when unknown or expired."""
    token = payload.get("device_token")
    if set(payload) != {"device_token"} or not isinstance(token, str) or not token:
        raise invalid_argument('The body must be {"device_token": "..."} only.')
    row = DeviceToken.objects.filter(token_hash=_token_hash(token)).first()
    if row is None or row.expires_at <= timezone.now():
        return {"active": False, "msisdn": None, "expires_at": None}
    return {"active": True, "msisdn": row.msisdn, "expires_at": _iso(row.expires_at)}
