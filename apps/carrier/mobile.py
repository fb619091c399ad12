"""The carrier's mobile business over HTTP: plans, add-ons, data allowances and monthly bills.

Reads are plain GETs (retried by the client). Plan changes and add-ons are BOSS provisioning
requests: each carries an idempotency key and is sent once; after a timeout or a lost answer
the carrier is asked by key whether it was applied before it is sent again, exactly like
``services.provision_once``. No function here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from apps.carrier.client import get_carrier_client
from apps.carrier.errors import CarrierRejected


@dataclass(frozen=True)
class Offer:
    """A plan (monthly fee and allowance) or an add-on (one-off fee, data to the month's end)."""

    code: str
    kind: str  # plan | addon
    name: str
    fee_fen: int
    data_mb: int
    voice_minutes: int
    on_sale: bool
    for_plans: tuple[str, ...]


@dataclass(frozen=True)
class DataBucket:
    kind: str  # plan | addon | pack
    name: str
    total_mb: int
    used_mb: int
    remaining_mb: int
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True)
class DataUsage:
    msisdn: str
    as_of: datetime
    buckets: tuple[DataBucket, ...]
    total_mb: int
    used_mb: int
    remaining_mb: int
    overage_fen: int  # charged this month for data beyond every bucket


@dataclass(frozen=True)
class BillLine:
    kind: str  # plan_fee | addon | usage | topup
    description: str
    amount_fen: int
    at: datetime


@dataclass(frozen=True)
class Bill:
    msisdn: str
    month: str  # YYYY-MM
    final: bool  # False for the month in progress
    plan_code: str | None
    plan_name: str | None
    items: tuple[BillLine, ...]
    charges_fen: int
    topups_fen: int
    balance_fen: int  # the balance now, not at the month's end


@dataclass(frozen=True)
class PendingChange:
    plan: Offer
    effective_from: date
    request_id: str


@dataclass(frozen=True)
class ActiveAddon:
    """An add-on taken this month; it lasts until the month ends."""

    code: str
    name: str
    request_id: str
    valid_until: datetime


@dataclass(frozen=True)
class SubscriberPlan:
    msisdn: str
    plan: Offer | None
    since: date | None
    pending: PendingChange | None
    addons: tuple[ActiveAddon, ...]


@dataclass(frozen=True)
class PlansAvailable:
    msisdn: str
    current_plan: str | None
    plans: tuple[Offer, ...]
    addons: tuple[Offer, ...]


@dataclass(frozen=True)
class OfferApplied:
    """What the BOSS did with a plan change or an add-on."""

    request_id: str
    kind: str  # plan_change | addon
    msisdn: str
    offer_code: str
    effective_from: date
    fee_fen: int  # taken from the balance (0 for a plan change or an add-on paid elsewhere)


def _offer(body: dict[str, Any]) -> Offer:
    return Offer(
        code=str(body["code"]), kind=str(body["kind"]), name=str(body["name"]),
        fee_fen=int(body["fee_fen"]), data_mb=int(body["data_mb"]),
        voice_minutes=int(body.get("voice_minutes", 0)), on_sale=bool(body.get("on_sale", True)),
        for_plans=tuple(str(code) for code in body.get("for_plans", [])),
    )  # fmt: skip


def _path(msisdn: str, tail: str) -> str:
    return f"/carrier/v1/subscribers/{quote(msisdn)}/{tail}"


def subscriber_usage(msisdn: str) -> DataUsage:
    """Every data bucket in force now (earliest to expire first) and their totals."""
    body = get_carrier_client().call("GET", _path(msisdn, "usage"))
    buckets = tuple(
        DataBucket(
            kind=str(b["kind"]),
            name=str(b["name"]),
            total_mb=int(b["total_mb"]),
            used_mb=int(b["used_mb"]),
            remaining_mb=int(b["remaining_mb"]),
            valid_from=datetime.fromisoformat(b["valid_from"]),
            valid_until=datetime.fromisoformat(b["valid_until"]),
        )
        for b in body["buckets"]
    )
    return DataUsage(
        msisdn=str(body["msisdn"]), as_of=datetime.fromisoformat(body["as_of"]), buckets=buckets,
        total_mb=int(body["total_mb"]), used_mb=int(body["used_mb"]),
        remaining_mb=int(body["remaining_mb"]), overage_fen=int(body.get("overage_fen", 0)),
    )  # fmt: skip


def subscriber_bill(msisdn: str, month: str) -> Bill:
    """The itemised bill of ``month`` (``YYYY-MM``). The carrier keeps six months; an older or
    future month is ``CarrierRejected`` with carrier code ``BILL_NOT_AVAILABLE``."""
    body = get_carrier_client().call("GET", _path(msisdn, f"bills/{quote(month)}"))
    plan = body.get("plan") or {}
    return Bill(
        msisdn=str(body["msisdn"]), month=str(body["month"]), final=bool(body["final"]),
        plan_code=plan.get("code"), plan_name=plan.get("name"),
        items=tuple(
            BillLine(kind=str(i["kind"]), description=str(i["description"]),
                     amount_fen=int(i["amount_fen"]), at=datetime.fromisoformat(i["at"]))
            for i in body["items"]
        ),
        charges_fen=int(body["charges_fen"]), topups_fen=int(body["topups_fen"]),
        balance_fen=int(body["balance_fen"]),
    )  # fmt: skip


def subscriber_plan(msisdn: str) -> SubscriberPlan:
    """The current plan, the change waiting for next month, and this month's add-ons."""
    body = get_carrier_client().call("GET", _path(msisdn, "plan"))
    pending = body.get("pending")
    return SubscriberPlan(
        msisdn=str(body["msisdn"]),
        plan=_offer(body["plan"]) if body.get("plan") else None,
        since=date.fromisoformat(body["since"]) if body.get("since") else None,
        pending=None
        if not pending
        else PendingChange(
            plan=_offer(pending["plan"]),
            effective_from=date.fromisoformat(pending["effective_from"]),
            request_id=str(pending.get("request_id") or ""),
        ),
        addons=tuple(
            ActiveAddon(
                code=str(a["code"]),
                name=str(a["name"]),
                request_id=str(a["request_id"]),
                valid_until=datetime.fromisoformat(a["valid_until"]),
            )
            for a in body.get("addons", [])
        ),
    )


def plans_available(msisdn: str) -> PlansAvailable:
    """Plans on sale, and the add-ons the line's current plan may take."""
    body = get_carrier_client().call("GET", _path(msisdn, "offers"))
    return PlansAvailable(
        msisdn=str(body["msisdn"]),
        current_plan=body.get("current_plan"),
        plans=tuple(_offer(o) for o in body["plans"]),
        addons=tuple(_offer(o) for o in body["addons"]),
    )


def _applied(body: dict[str, Any]) -> OfferApplied:
    return OfferApplied(
        request_id=str(body["request_id"]), kind=str(body["kind"]), msisdn=str(body["msisdn"]),
        offer_code=str(body.get("offer_code") or ""),
        effective_from=date.fromisoformat(body["effective_from"]), fee_fen=int(body.get("fee_fen", 0)),
    )  # fmt: skip


def offer_applied_by_key(idempotency_key: str, *, msisdn: str = "") -> OfferApplied | None:
    """Whether a plan change or add-on under this key was applied (after a lost answer); asked
    of the number's provincial BOSS when ``msisdn`` is given, else of the national one."""
    client = get_carrier_client()
    if msisdn:
        body = client.boss_by_key(msisdn=msisdn, idempotency_key=idempotency_key)
        return None if body is None else _applied(body)
    try:
        body = client.call("GET", f"/carrier/v1/provisioning/by-key/{quote(idempotency_key)}")
    except CarrierRejected as exc:
        if exc.carrier_http_status == 404:
            return None
        raise
    return _applied(body)


def _apply_once(operation: str, body: dict[str, Any], idempotency_key: str) -> OfferApplied:
    return _applied(
        get_carrier_client().boss_apply_once(
            operation=operation, body=body, idempotency_key=idempotency_key
        )
    )


def plan_change_once(
    *, msisdn: str, plan_code: str, idempotency_key: str, reference: str = ""
) -> OfferApplied:
    """Change the line's plan from the first of next month (at once for a line without one),
    exactly once. Network call. Raises ``CarrierUnavailable`` when the outcome is still unknown
    (retry later with the same key) and ``CarrierRejected`` with carrier code
    ``PLAN_NOT_ALLOWED``, ``SAME_PLAN``, ``PENDING_CHANGE_EXISTS``, ``INSUFFICIENT_BALANCE``,
    ``OFFER_NOT_FOUND`` or ``SUBSCRIBER_NOT_ACTIVE`` when refused (nothing was applied)."""
    body = {"msisdn": msisdn, "plan_code": plan_code, "reference": reference[:64]}
    return _apply_once("plan-changes", body, idempotency_key)


def addon_once(
    *, msisdn: str, addon_code: str, charge_balance: bool, idempotency_key: str, reference: str = ""
) -> OfferApplied:
    """Add an add-on at once, exactly once; its fee comes off the balance when
    ``charge_balance`` (else it was paid elsewhere). Network call. Raises as
    ``plan_change_once``, with ``ADDON_NOT_ALLOWED`` for an add-on the plan cannot take."""
    body = {
        "msisdn": msisdn,
        "addon_code": addon_code,
        "charge": "balance" if charge_balance else "paid",
        "reference": reference[:64],
    }
    return _apply_once("addons", body, idempotency_key)
