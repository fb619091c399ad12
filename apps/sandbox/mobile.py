"""The BOSS's mobile business: plans, add-ons, data allowances and monthly bills of a line.

Rules, as China Mobile applies them: a plan change takes effect on the first day of next month
(a line without a plan gets its first plan at once); only one change may wait at a time; an
add-on is charged in full at once and its data lasts to the end of the current month; data
beyond every bucket costs 0.29 yuan per MB, charged to the balance. Each month is opened
lazily, the first time anything touches the line in it: the monthly fee is charged and the
plan's allowance becomes a bucket, once (a partial unique index guards the fee).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.sandbox.errors import SandboxError, invalid_argument, not_found
from apps.sandbox.models import BillItem, DataBucket, Offer, PlanTerm, Provisioning, Subscriber
from apps.sandbox.subscribers import msisdn_normalize, subscriber_upsert

OVERAGE_FEN_PER_MB = 29
BILL_HISTORY_MONTHS = 6


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _at_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def offer_body(offer: Offer) -> dict[str, Any]:
    return {
        "code": offer.code,
        "kind": offer.kind,
        "name": offer.name,
        "fee_fen": offer.fee_fen,
        "data_mb": offer.data_mb,
        "voice_minutes": offer.voice_minutes,
        "on_sale": offer.on_sale,
        "for_plans": list(offer.for_plans),
    }


def _subscriber(raw_msisdn: str, *, lock: bool = False) -> Subscriber:
    msisdn = msisdn_normalize(raw_msisdn)
    rows = Subscriber.objects.select_for_update() if lock else Subscriber.objects.all()
    subscriber = rows.filter(msisdn=msisdn).first()
    if subscriber is None:
        raise not_found(f"{msisdn} is not a subscriber.", code="SUBSCRIBER_NOT_FOUND")
    return subscriber


def term_on(subscriber: Subscriber, day: date) -> PlanTerm | None:
    """The plan term in force on ``day``: the latest that has started."""
    return (
        PlanTerm.objects.select_related("offer")
        .filter(subscriber=subscriber, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )


def term_pending(subscriber: Subscriber, today: date) -> PlanTerm | None:
    return (
        PlanTerm.objects.select_related("offer")
        .filter(subscriber=subscriber, effective_from__gt=today)
        .order_by("effective_from")
        .first()
    )


def month_open(subscriber: Subscriber) -> None:
    """Charge this month's fee and grant the plan's allowance, once. Caller locks the line."""
    today = timezone.localdate()
    month = month_of(today)
    term = term_on(subscriber, today)
    if term is None or subscriber.status == Subscriber.Status.CANCELLED:
        return
    if BillItem.objects.filter(subscriber=subscriber, month=month, kind="plan_fee").exists():
        return
    offer = term.offer
    BillItem.objects.create(
        subscriber=subscriber, month=month, kind=BillItem.Kind.PLAN_FEE,
        description=offer.name, amount_fen=offer.fee_fen, reference=f"month:{_month_label(month)}",
    )  # fmt: skip
    subscriber.balance_fen -= offer.fee_fen
    subscriber.save(update_fields=["balance_fen", "updated_at"])
    DataBucket.objects.get_or_create(
        subscriber=subscriber,
        reference=f"month:{_month_label(month)}",
        defaults={
            "kind": DataBucket.Kind.PLAN, "name": offer.name, "total_mb": offer.data_mb,
            "valid_from": _at_midnight(max(month, term.effective_from)),
            "valid_until": _at_midnight(next_month(month)),
        },
    )  # fmt: skip


def _opened(raw_msisdn: str) -> Subscriber:
    with transaction.atomic():
        subscriber = _subscriber(raw_msisdn, lock=True)
        month_open(subscriber)
    return subscriber


# --- Reads --------------------------------------------------------------------------------------


def plan_get(*, raw_msisdn: str) -> dict[str, Any]:
    """The line's current plan, the change waiting for next month, and this month's add-ons."""
    subscriber = _opened(raw_msisdn)
    today = timezone.localdate()
    term, pending = term_on(subscriber, today), term_pending(subscriber, today)
    # An add-on lasts the month it was taken in, data or not.
    taken = Provisioning.objects.filter(
        msisdn=subscriber.msisdn,
        kind=Provisioning.Kind.ADDON,
        created_at__gte=_at_midnight(month_of(today)),
    ).order_by("created_at", "id")
    names = dict(
        Offer.objects.filter(code__in=[p.offer_code for p in taken]).values_list("code", "name")
    )
    until = _at_midnight(next_month(month_of(today))).isoformat()
    return {
        "msisdn": subscriber.msisdn,
        "plan": offer_body(term.offer) if term else None,
        "since": term.effective_from.isoformat() if term else None,
        "pending": None
        if pending is None
        else {
            "plan": offer_body(pending.offer),
            "effective_from": pending.effective_from.isoformat(),
            "request_id": pending.request_id,
        },
        "addons": [
            {
                "code": row.offer_code,
                "name": names.get(row.offer_code, row.offer_code),
                "request_id": row.request_id,
                "valid_until": until,
            }
            for row in taken
        ],
    }


def offers_for(*, raw_msisdn: str) -> dict[str, Any]:
    """The plans this line may change to and the add-ons it may take with its current plan."""
    subscriber = _subscriber(raw_msisdn)
    term = term_on(subscriber, timezone.localdate())
    current = term.offer.code if term else None
    offers = Offer.objects.filter(on_sale=True)
    return {
        "msisdn": subscriber.msisdn,
        "current_plan": current,
        "plans": [offer_body(o) for o in offers if o.kind == Offer.Kind.PLAN],
        "addons": [
            offer_body(o)
            for o in offers
            if o.kind == Offer.Kind.ADDON
            and current
            and (not o.for_plans or current in o.for_plans)
        ],
    }


def bucket_body(bucket: DataBucket) -> dict[str, Any]:
    return {
        "kind": bucket.kind,
        "name": bucket.name,
        "total_mb": bucket.total_mb,
        "used_mb": bucket.used_mb,
        "remaining_mb": bucket.total_mb - bucket.used_mb,
        "valid_from": bucket.valid_from.isoformat(),
        "valid_until": bucket.valid_until.isoformat(),
    }


def _live_buckets(subscriber: Subscriber) -> list[DataBucket]:
    now = timezone.now()
    return list(
        DataBucket.objects.filter(subscriber=subscriber, valid_from__lte=now, valid_until__gt=now)
    )


def usage_get(*, raw_msisdn: str) -> dict[str, Any]:
    """Every bucket in force now, earliest to expire first (the order data is used in)."""
    subscriber = _opened(raw_msisdn)
    buckets = _live_buckets(subscriber)
    month = month_of(timezone.localdate())
    overage = BillItem.objects.filter(
        subscriber=subscriber, month=month, kind=BillItem.Kind.USAGE
    ).aggregate(fen=Sum("amount_fen"))["fen"]
    total = sum(b.total_mb for b in buckets)
    used = sum(b.used_mb for b in buckets)
    return {
        "msisdn": subscriber.msisdn,
        "as_of": timezone.now().isoformat(),
        "buckets": [bucket_body(b) for b in buckets],
        "total_mb": total,
        "used_mb": used,
        "remaining_mb": total - used,
        "overage_fen": overage or 0,
    }


def bill_get(*, raw_msisdn: str, month_label: str) -> dict[str, Any]:
    """A month's itemised bill (``YYYY-MM``), for this month and the five before it."""
    try:
        month = datetime.strptime(month_label, "%Y-%m").date()  # noqa: DTZ007 - a calendar month
    except ValueError:
        raise invalid_argument("The month must be YYYY-MM.") from None
    current = month_of(timezone.localdate())
    oldest = current
    for _ in range(BILL_HISTORY_MONTHS - 1):
        oldest = month_of(oldest - timedelta(days=1))
    if not oldest <= month <= current:
        raise SandboxError(
            404, "BILL_NOT_AVAILABLE", f"Bills exist for {oldest:%Y-%m} to {current:%Y-%m}."
        )
    subscriber = _opened(raw_msisdn)
    items = list(BillItem.objects.filter(subscriber=subscriber, month=month))
    last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    term = term_on(subscriber, min(last_day, timezone.localdate()))
    return {
        "msisdn": subscriber.msisdn,
        "month": _month_label(month),
        "final": month < current,
        "plan": {"code": term.offer.code, "name": term.offer.name} if term else None,
        "items": [
            {
                "kind": item.kind,
                "description": item.description,
                "amount_fen": item.amount_fen,
                "at": item.created_at.isoformat(),
            }
            for item in items
        ],
        "charges_fen": sum(i.amount_fen for i in items if i.kind != BillItem.Kind.TOPUP),
        "topups_fen": sum(i.amount_fen for i in items if i.kind == BillItem.Kind.TOPUP),
        "balance_fen": subscriber.balance_fen,
    }


# --- Writes the BOSS applies under the line's lock ----------------------------------------------


def _offer(code: object, kind: str) -> Offer:
    offer = Offer.objects.filter(code=str(code), kind=kind).first() if code else None
    if offer is None:
        raise SandboxError(404, "OFFER_NOT_FOUND", f"No {kind} with code {code!r}.")
    return offer


def plan_change_apply(
    subscriber: Subscriber, *, payload: dict[str, Any], request_id: str
) -> dict[str, Any]:
    """Schedule a plan change for next month (at once for a line without a plan)."""
    offer = _offer(payload.get("plan_code"), Offer.Kind.PLAN)
    today = timezone.localdate()
    month_open(subscriber)
    current, pending = term_on(subscriber, today), term_pending(subscriber, today)
    if not offer.on_sale:
        raise SandboxError(403, "PLAN_NOT_ALLOWED", "This plan is no longer offered.")
    if pending is not None:
        raise SandboxError(
            409, "PENDING_CHANGE_EXISTS",
            f"A change to {pending.offer.code} already takes effect on {pending.effective_from}.",
        )  # fmt: skip
    if current is not None and current.offer.pk == offer.pk:
        raise SandboxError(409, "SAME_PLAN", "The line already has this plan.")
    if subscriber.balance_fen < 0:
        raise SandboxError(
            402, "INSUFFICIENT_BALANCE", "The line is in arrears; top it up before changing plan."
        )
    effective = next_month(month_of(today)) if current is not None else today
    PlanTerm.objects.create(
        subscriber=subscriber, offer=offer, effective_from=effective, request_id=request_id
    )
    if current is None:
        month_open(subscriber)
    return {"offer_code": offer.code, "effective_from": effective, "fee_fen": 0}


def addon_apply(
    subscriber: Subscriber, *, payload: dict[str, Any], request_id: str
) -> dict[str, Any]:
    """Add an add-on at once, its data valid to the end of this month.

    ``charge``: ``balance`` (the default) takes the fee from the balance; ``paid`` means it was
    paid elsewhere (the mall) and the balance is left alone.
    """
    offer = _offer(payload.get("addon_code"), Offer.Kind.ADDON)
    charge = payload.get("charge", "balance")
    if charge not in ("balance", "paid"):
        raise invalid_argument("charge must be balance or paid.")
    today = timezone.localdate()
    month_open(subscriber)
    current = term_on(subscriber, today)
    if (
        not offer.on_sale
        or current is None
        or (offer.for_plans and current.offer.code not in offer.for_plans)
    ):
        raise SandboxError(
            403, "ADDON_NOT_ALLOWED", "This add-on cannot be added to the line's plan."
        )
    fee = offer.fee_fen if charge == "balance" else 0
    if fee > subscriber.balance_fen:
        raise SandboxError(402, "INSUFFICIENT_BALANCE", "The balance does not cover the add-on.")
    month = month_of(today)
    if fee:
        BillItem.objects.create(
            subscriber=subscriber, month=month, kind=BillItem.Kind.ADDON,
            description=offer.name, amount_fen=fee, reference=request_id,
        )  # fmt: skip
        subscriber.balance_fen -= fee
        subscriber.save(update_fields=["balance_fen", "updated_at"])
    if offer.data_mb:
        DataBucket.objects.create(
            subscriber=subscriber, kind=DataBucket.Kind.ADDON, name=offer.name, total_mb=offer.data_mb,
            valid_from=timezone.now(), valid_until=_at_midnight(next_month(month)), reference=request_id,
        )  # fmt: skip
    return {"offer_code": offer.code, "effective_from": today, "fee_fen": fee}


def data_pack_grant(
    subscriber: Subscriber, *, volume_mb: int, validity_days: int, request_id: str
) -> None:
    """A top-up data pack bought elsewhere: a bucket from now for ``validity_days`` days."""
    now = timezone.now()
    DataBucket.objects.create(
        subscriber=subscriber, kind=DataBucket.Kind.PACK, name=f"{volume_mb}MB 流量包",
        total_mb=volume_mb, valid_from=now, valid_until=now + timedelta(days=validity_days),
        reference=request_id,
    )  # fmt: skip


def topup_record(subscriber: Subscriber, *, amount_fen: int, request_id: str) -> None:
    BillItem.objects.create(
        subscriber=subscriber, month=month_of(timezone.localdate()), kind=BillItem.Kind.TOPUP,
        description="充值缴费", amount_fen=amount_fen, reference=request_id,
    )  # fmt: skip


# --- Sandbox controls ---------------------------------------------------------------------------


def usage_consume(*, raw_msisdn: str, mb: object) -> dict[str, Any]:
    """Play the line using ``mb`` of data: buckets drain earliest-expiring first, the rest is
    charged to the balance at the overage rate."""
    if not isinstance(mb, int) or isinstance(mb, bool) or not 0 < mb <= 10_000_000:
        raise invalid_argument("mb must be a positive integer.")
    with transaction.atomic():
        subscriber = _subscriber(raw_msisdn, lock=True)
        month_open(subscriber)
        left = mb
        for bucket in _live_buckets(subscriber):
            take = min(left, bucket.total_mb - bucket.used_mb)
            if take:
                bucket.used_mb += take
                bucket.save(update_fields=["used_mb"])
                left -= take
        if left:
            fee = left * OVERAGE_FEN_PER_MB
            BillItem.objects.create(
                subscriber=subscriber, month=month_of(timezone.localdate()),
                kind=BillItem.Kind.USAGE, description=f"套外流量 {left}MB", amount_fen=fee,
            )  # fmt: skip
            subscriber.balance_fen -= fee
            subscriber.save(update_fields=["balance_fen", "updated_at"])
    return usage_get(raw_msisdn=raw_msisdn)


def plan_assign(subscriber: Subscriber, *, plan_code: object) -> None:
    """Arrange a test or demo: the line has had ``plan_code`` since the first of this month,
    with nothing waiting; this month is opened afresh (its fee charged, a full allowance)."""
    offer = _offer(plan_code, Offer.Kind.PLAN)
    month = month_of(timezone.localdate())
    reference = f"month:{_month_label(month)}"
    PlanTerm.objects.filter(Q(effective_from__gte=month), subscriber=subscriber).delete()
    BillItem.objects.filter(subscriber=subscriber, month=month, kind="plan_fee").delete()
    DataBucket.objects.filter(subscriber=subscriber, reference=reference).delete()
    PlanTerm.objects.create(subscriber=subscriber, offer=offer, effective_from=month)
    month_open(subscriber)


def subscriber_arrange(*, raw_msisdn: str, fields: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The sandbox's subscriber upsert, plus an optional ``plan`` (see ``plan_assign``); a
    ``balance_fen`` given with it is the balance after the month's fee. Idempotent."""
    plan_code = fields.pop("plan", None)
    with transaction.atomic():
        body, created = subscriber_upsert(raw_msisdn=raw_msisdn, fields=fields)
        if plan_code is not None:
            subscriber = _subscriber(body["msisdn"], lock=True)
            plan_assign(subscriber, plan_code=plan_code)
            if "balance_fen" in fields:
                subscriber.balance_fen = fields["balance_fen"]
                subscriber.save(update_fields=["balance_fen", "updated_at"])
            body["balance_fen"] = subscriber.balance_fen
    return body, created
