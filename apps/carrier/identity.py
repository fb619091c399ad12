"""Real-name identity at the carrier: checking a name and ID number, and opening a SIM's line.

The identity check reads only (the adapter's retries are safe). Opening a line is a BOSS write
sent under an idempotency key; after a timeout or a lost answer the carrier is asked by key
before anything is sent again (as ``services.provision_once`` does for top-ups).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from apps.carrier.client import get_carrier_client
from apps.carrier.errors import CarrierRejected, CarrierUnavailable


@dataclass(frozen=True)
class IdentityCheck:
    matched: bool
    # Numbers registered to this ID on every carrier's network, and the most the rules allow.
    numbers_registered: int
    limit: int


@dataclass(frozen=True)
class LineOpened:
    request_id: str
    msisdn: str
    status: str


def identity_verify(*, name: str, id_number: str) -> IdentityCheck:
    """Ask the national register (through the carrier) whether ``name`` owns ``id_number``.

    Network call; raises ``CarrierUnavailable`` when nobody answers.
    """
    body = get_carrier_client().call(
        "POST", "/carrier/v1/identity/verify", json={"name": name, "id_number": id_number}
    )
    return IdentityCheck(
        matched=bool(body["matched"]),
        numbers_registered=int(body["numbers_registered"]),
        limit=int(body["limit"]),
    )


def _opened(body: dict[str, Any]) -> LineOpened:
    return LineOpened(
        request_id=str(body["request_id"]), msisdn=str(body["msisdn"]), status=str(body["status"])
    )


def sim_line_open_once(
    *,
    msisdn: str,
    name: str,
    id_number: str,
    reference: str,
    idempotency_key: str,
    province: str = "",
    city: str = "",
) -> LineOpened:
    """Create and activate the subscriber for ``msisdn`` under its owner, exactly once.

    One try; after a timeout or lost answer the carrier is asked whether the key was applied
    before the request is sent again. Raises ``CarrierUnavailable`` when the outcome is still
    unknown (retry later with the same key) and ``CarrierRejected`` when the carrier refused
    (``IDENTITY_MISMATCH``, ``ID_NUMBER_LIMIT_REACHED``, ``NUMBER_IN_USE``...).
    """
    client = get_carrier_client()
    request = {"msisdn": msisdn, "name": name, "id_number": id_number, "reference": reference}
    if province or city:  # the number's home location, for the carrier's subscriber record
        request |= {"province": province, "city": city}

    def send() -> LineOpened:
        return _opened(
            client.call(
                "POST",
                "/carrier/v1/sim-activations",
                json=request,
                idempotency_key=idempotency_key,
                attempts=1,
            )
        )

    try:
        return send()
    except CarrierUnavailable:
        try:
            return _opened(
                client.call(
                    "GET", f"/carrier/v1/sim-activations/by-key/{quote(idempotency_key, safe='')}"
                )
            )
        except CarrierRejected as exc:
            if exc.carrier_http_status != 404:
                raise
        return send()
