"""Network capabilities through the carrier adapter: SIM-change dates and device tokens.

Reads only, no local state: each call goes to the carrier (its HLR and its network-based
authentication) and returns plain data.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from apps.carrier.client import get_carrier_client
from apps.carrier.errors import CarrierRejected


class NotOwnNetwork(CarrierRejected):
    """The number belongs to another operator: this carrier knows nothing of its SIM."""

    code = "NOT_OWN_NETWORK"


def sim_latest_change(*, msisdn: str) -> datetime:
    """When the SIM now in ``msisdn``'s line went in (its opening when it never changed).

    Network call. Raises ``SubscriberNotFound``, ``NotOwnNetwork``, ``CarrierUnavailable``.
    """
    try:
        body = get_carrier_client().call("GET", f"/carrier/v1/subscribers/{quote(msisdn)}/sim")
    except CarrierRejected as exc:
        if exc.carrier_code == "NOT_OWN_NETWORK":
            raise NotOwnNetwork(exc.message, carrier_code=exc.carrier_code) from exc
        raise
    return datetime.fromisoformat(str(body["latest_sim_change"]))


def device_token_number(*, device_token: str) -> str | None:
    """The number the network authenticated behind ``device_token``; None if not (or expired).

    Network call; raises ``CarrierUnavailable`` when the network does not answer.
    """
    body = get_carrier_client().call(
        "POST", "/carrier/v1/network-auth/introspect", json={"device_token": device_token}
    )
    return str(body["msisdn"]) if body.get("active") and body.get("msisdn") else None
