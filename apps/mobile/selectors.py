"""Reads for the line pages and API: the carrier's view of the user's own number, and the
requests the user made. Carrier reads are network calls; none runs inside a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from apps.accounts.selectors import user_profile
from apps.carrier import mobile
from apps.carrier.client import SubscriberInfo
from apps.carrier.errors import CarrierRejected, SubscriberNotFound
from apps.carrier.services import subscriber_lookup
from apps.core.audit import AuditEntry, audit_trail
from apps.core.errors import DomainError, NotFound
from apps.mobile.errors import (
    AddonNotAllowed,
    BillNotAvailable,
    NotOwnLine,
    PlanNotAllowed,
    UnknownOffer,
    refusal_message,
)
from apps.mobile.models import LineRequest

BILL_MONTHS = 6


def line_msisdn(*, user_id: int) -> str:
    """The signed-in user's own number: the only line they may manage."""
    return user_profile(user_id=user_id).phone


def line_info(*, user_id: int) -> SubscriberInfo:
    """Status and balance; ``NotOwnLine`` for another operator's or an unknown number."""
    try:
        info = subscriber_lookup(msisdn=line_msisdn(user_id=user_id))
    except SubscriberNotFound:
        raise NotOwnLine() from None
    if not info.is_own_network:
        raise NotOwnLine()
    return info


@dataclass(frozen=True)
class LineSummary:
    info: SubscriberInfo
    plan: mobile.SubscriberPlan
    usage: mobile.DataUsage

    @property
    def used_percent(self) -> int:
        total = self.usage.total_mb
        return 0 if total == 0 else min(100, self.usage.used_mb * 100 // total)


def line_summary(*, user_id: int) -> LineSummary:
    """Balance, plan (and the change waiting) and data left: three carrier reads."""
    info = line_info(user_id=user_id)
    return LineSummary(
        info=info,
        plan=mobile.subscriber_plan(info.msisdn),
        usage=mobile.subscriber_usage(info.msisdn),
    )


def line_usage(*, user_id: int) -> mobile.DataUsage:
    return mobile.subscriber_usage(line_info(user_id=user_id).msisdn)


def bill_months(today: date | None = None) -> list[str]:
    """``YYYY-MM`` of this month and the five before it, newest first (the carrier keeps six)."""
    month = (today or timezone.localdate()).replace(day=1)
    months = []
    for _ in range(BILL_MONTHS):
        months.append(f"{month:%Y-%m}")
        month = (month - timedelta(days=1)).replace(day=1)
    return months


def line_bill(*, user_id: int, month: str) -> mobile.Bill:
    """The itemised bill of ``month``; ``BillNotAvailable`` outside the six months kept."""
    if month not in bill_months():
        raise BillNotAvailable(details={"months": bill_months()})
    msisdn = line_info(user_id=user_id).msisdn
    try:
        return mobile.subscriber_bill(msisdn, month)
    except CarrierRejected as exc:
        if exc.carrier_code == "BILL_NOT_AVAILABLE":
            raise BillNotAvailable() from None
        raise


def line_offers(*, user_id: int) -> mobile.PlansAvailable:
    return mobile.plans_available(line_info(user_id=user_id).msisdn)


def plan_change_effective(*, has_plan: bool, today: date | None = None) -> date:
    """China Mobile's rule: a change takes effect on the first of next month; a line without a
    plan gets its first one at once."""
    today = today or timezone.localdate()
    if not has_plan:
        return today
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class OfferChoice:
    """What the subscriber confirms: the offer, when it takes effect, what it costs now."""

    kind: str
    offer: mobile.Offer
    msisdn: str
    current_plan: str | None
    effective_from: date
    charged_now_fen: int  # an add-on's price comes off the balance at once; a plan's fee monthly
    balance_fen: int


def line_offer_choice(*, user_id: int, kind: str, offer_code: str) -> OfferChoice:
    """The offer as the user's line may take it, or why not (``UnknownOffer``,
    ``PlanNotAllowed``, ``AddonNotAllowed``). Carrier reads; nothing is written."""
    info = line_info(user_id=user_id)
    available = mobile.plans_available(info.msisdn)
    refused: type[DomainError]
    if kind == LineRequest.Kind.PLAN_CHANGE:
        offers, refused = available.plans, PlanNotAllowed
    elif kind == LineRequest.Kind.ADDON:
        offers, refused = available.addons, AddonNotAllowed
    else:
        raise UnknownOffer()
    offer = next((o for o in offers if o.code == offer_code), None)
    if offer is None:
        raise refused(details={"offer_code": offer_code})
    is_plan = kind == LineRequest.Kind.PLAN_CHANGE
    return OfferChoice(
        kind=kind, offer=offer, msisdn=info.msisdn, current_plan=available.current_plan,
        effective_from=plan_change_effective(has_plan=available.current_plan is not None)
        if is_plan else timezone.localdate(),
        charged_now_fen=0 if is_plan else offer.fee_fen, balance_fen=info.balance_fen or 0,
    )  # fmt: skip


@dataclass(frozen=True)
class LineRequestView:
    id: int
    kind: str
    kind_label: str
    msisdn: str
    offer_code: str
    offer_name: str
    fee_fen: int
    status: str
    status_label: str
    effective_from: date | None
    charged_fen: int
    error_code: str
    error_message: str
    created_at: datetime
    updated_at: datetime
    # (when, the state it reached in the reader's words), oldest first.
    timeline: tuple[tuple[datetime, str], ...] = ()


def _status_text(status: object) -> str:
    labels = dict(LineRequest.Status.choices)
    return str(labels.get(str(status), status))


def request_view(row: LineRequest, trail: tuple[AuditEntry, ...] = ()) -> LineRequestView:
    timeline = tuple((e.at, _status_text((e.after or {}).get("status"))) for e in trail)
    return LineRequestView(
        id=row.pk, kind=row.kind, kind_label=str(LineRequest.Kind(row.kind).label), msisdn=row.msisdn,
        offer_code=row.offer_code, offer_name=row.offer_name, fee_fen=row.fee_fen, status=row.status,
        status_label=str(LineRequest.Status(row.status).label), effective_from=row.effective_from,
        charged_fen=row.charged_fen, error_code=row.error_code,
        error_message=refusal_message(row.error_code) if row.error_code and row.status != "applied" else "",
        created_at=row.created_at, updated_at=row.updated_at, timeline=timeline,
    )  # fmt: skip


def line_requests(*, user_id: int, limit: int = 50) -> list[LineRequestView]:
    """The user's requests, newest first."""
    rows = LineRequest.objects.filter(user_id=user_id).order_by("-created_at", "-id")[:limit]
    return [request_view(row) for row in rows]


def line_request_get(*, user_id: int, request_id: int) -> LineRequestView:
    """One of the user's own requests with its state history; ``NotFound`` for anyone else's."""
    row = LineRequest.objects.filter(pk=request_id, user_id=user_id).first()
    if row is None:
        raise NotFound()
    timeline = audit_trail(
        object_type="line_request", object_ids=[str(row.pk)], since=row.created_at
    )
    return request_view(row, tuple(timeline))
