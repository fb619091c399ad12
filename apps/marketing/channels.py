"""Channels: attribution of an order to a channel's code, commissions accrued when the order
completes and reversed when its lines are refunded, and the counterparty interface for
settlement.

Ledger: a commission debits ``marketing:commission`` (expense) and credits
``channel:<id>:payable`` (liability: what the carrier owes the channel). Settlement (another
app, later) pays the payable down; ``channel_counterparties`` and ``channel_payable`` are what
it reads. Every journal is keyed (``channel:accrue:<order>``, ``channel:reverse:<order>:<key>``),
so a redelivered fact posts nothing twice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from apps.core.audit import audit_record, audited_transition
from apps.core.errors import InvalidArgument
from apps.core.money import apply_rate
from apps.ledger.selectors import account_balance
from apps.ledger.services import LineSpec, account_ensure, journal_post
from apps.marketing.errors import (
    ChannelAlreadyApplied,
    ChannelNotFound,
    ChannelPartnerNotApproved,
    ChannelProductNotAllowed,
    ChannelReviewConflict,
)
from apps.marketing.models import Channel, ChannelCode, ChannelOrder, CommissionRule
from apps.marketing.selectors import channel_code_resolve as channel_code_resolve

COMMISSION_EXPENSE = "marketing:commission"


def channel_account(channel_id: int) -> str:
    code = f"channel:{channel_id}:payable"
    account_ensure(code=code, name=f"渠道{channel_id}应付佣金", kind="liability")
    return code


def _expense_account() -> str:
    account_ensure(code=COMMISSION_EXPENSE, name="渠道佣金", kind="expense")
    return COMMISSION_EXPENSE


def channel_attribute(
    *, code: str, order_number: str, user_id: int, product_ids: list[int], strict: bool
) -> int | None:
    """Record that the channel of ``code`` brought the order (in the checkout's transaction).
    An unknown code is ignored (``strict``: ``ChannelNotFound``, the API's clear error); with
    ``strict``, a product the channel may not sell is ``ChannelProductNotAllowed``."""
    channel_id = channel_code_resolve(code=code) if code else None
    if channel_id is None:
        if code and strict:
            raise ChannelNotFound(details={"channel": code})
        return None
    allowed = set(Channel.objects.get(pk=channel_id).products.values_list("product_id", flat=True))
    if strict and allowed and not set(product_ids) <= allowed:
        raise ChannelProductNotAllowed(details={"products": sorted(set(product_ids) - allowed)})
    ChannelOrder.objects.create(
        order_number=order_number, channel_id=channel_id, code=code, user_id=user_id
    )
    return channel_id


@dataclass(frozen=True)
class ApiChannel:
    """The channel a developer-portal company sells through the gateway as, and the code its
    API orders are attributed under (its first code, issued when it was approved)."""

    id: int
    code: str


def channel_for_partner(*, partner_id: int) -> ApiChannel | None:
    """The active channel of a developer-portal company with a code, or None."""
    row = (
        ChannelCode.objects.filter(
            channel__partner_id=partner_id, channel__status=Channel.Status.ACTIVE
        )
        .order_by("pk")
        .values_list("channel_id", "code")
        .first()
    )
    return ApiChannel(id=row[0], code=row[1]) if row else None


def channel_order_of(*, channel_id: int, order_number: str) -> bool:
    """Whether the channel brought this order (a channel reads only its own orders)."""
    return ChannelOrder.objects.filter(channel_id=channel_id, order_number=order_number).exists()


def commission_of(rules: list[CommissionRule], lines: list[dict[str, Any]]) -> dict[int, int]:
    """Commission per line id for ``lines`` (``line_id``, ``kind``, ``paid_fen``): the rule of
    the line's kind, else the ``*`` rule. A fixed amount per order goes to the first line of
    its kind (it is per order, not per line); a tier is chosen by the order's paid amount of
    the rule's lines."""
    by_kind = {r.product_kind: r for r in rules}
    groups: dict[int, list[dict[str, Any]]] = {}
    chosen: dict[int, CommissionRule] = {}
    for line in lines:
        rule = by_kind.get(line["kind"]) or by_kind.get("*")
        if rule is not None:
            groups.setdefault(rule.pk, []).append(line)
            chosen[rule.pk] = rule
    out: dict[int, int] = {}
    for rule_id, group in groups.items():
        rule = chosen[rule_id]
        if rule.mode == CommissionRule.Mode.FIXED:
            out[int(group[0]["line_id"])] = min(
                rule.fixed_fen, sum(int(ln["paid_fen"]) for ln in group)
            )
            continue
        percent = rule.percent
        if rule.mode == CommissionRule.Mode.TIERED:
            total = sum(int(ln["paid_fen"]) for ln in group)
            reached = [Decimal(str(p)) for start, p in sorted(rule.tiers) if total >= int(start)]
            percent = reached[-1] if reached else Decimal(0)
        for ln in group:
            out[int(ln["line_id"])] = apply_rate(int(ln["paid_fen"]), percent / 100)
    return {k: v for k, v in out.items() if v > 0}


def commission_accrue(*, order_number: str, lines: list[dict[str, Any]]) -> int:
    """The order completed (``orders.order_completed``): book the channel's commission on the
    lines not refunded. Once per order (status and journal key). Returns the commission."""
    with transaction.atomic():
        row = ChannelOrder.objects.select_for_update().filter(order_number=order_number).first()
        if row is None or row.status != ChannelOrder.Status.ATTRIBUTED:
            return 0
        live = [ln for ln in lines if int(ln["line_id"]) not in set(row.refunded_line_ids)]
        per_line = commission_of(list(row.channel.commission_rules.all()), live)
        total = sum(per_line.values())
        row.status = ChannelOrder.Status.ACCRUED
        row.paid_fen = sum(int(ln["paid_fen"]) for ln in live)
        row.commission_fen, row.line_commissions = total, {str(k): v for k, v in per_line.items()}
        row.save(update_fields=["status", "paid_fen", "commission_fen", "line_commissions"])
        if total:
            journal_post(
                idempotency_key=f"channel:accrue:{order_number}", kind="channel.commission",
                reference=order_number, description=f"channel {row.channel_id}",
                lines=[LineSpec(_expense_account(), total), LineSpec(channel_account(row.channel_id), -total)],
            )  # fmt: skip
    return total


def commission_reverse(*, order_number: str, line_ids: list[int], key: str) -> int:
    """Lines of the order were refunded (``orders.lines_refunded``): reverse their commission
    if it was accrued, or keep them out of the accrual to come. Once per ``key``."""
    with transaction.atomic():
        row = ChannelOrder.objects.select_for_update().filter(order_number=order_number).first()
        if row is None:
            return 0
        fresh = [i for i in line_ids if i not in row.refunded_line_ids]
        if not fresh:
            return 0
        row.refunded_line_ids = sorted(set(row.refunded_line_ids) | set(fresh))
        back = (
            sum(int(row.line_commissions.get(str(i), 0)) for i in fresh)
            if row.status == "accrued"
            else 0
        )
        row.reversed_fen += back
        row.save(update_fields=["refunded_line_ids", "reversed_fen"])
        if back:
            journal_post(
                idempotency_key=f"channel:reverse:{order_number}:{key}", kind="channel.commission_reversed",
                reference=order_number, description=f"channel {row.channel_id}",
                lines=[LineSpec(channel_account(row.channel_id), back), LineSpec(_expense_account(), -back)],
            )  # fmt: skip
    return back


# --- Onboarding: a developer-portal company applies, an operator reviews --------------------


def channel_apply(
    *, user_id: int, partner_id: int | None, name: str, kind: str, description: str
) -> int:
    """A partner company (approved in the developer portal: ``partner_id``, None when it is
    not) applies to sell for the carrier; returns the channel, under review. One channel per
    company, unless its earlier application was rejected. Audited."""
    if partner_id is None:
        raise ChannelPartnerNotApproved()
    name = name.strip()[:120]
    if not name or kind not in Channel.Kind.values:
        raise InvalidArgument(details={"name": name, "kind": kind})
    with transaction.atomic():
        # One application at a time per company (two tabs racing apply once): a lock on the
        # company's id, held to the commit, then its channels read.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext('marketing.channel_apply'), %s)",
                [partner_id],
            )
        existing = list(
            Channel.objects.filter(partner_id=partner_id)
            .exclude(status=Channel.Status.REJECTED)
            .values_list("pk", flat=True)
        )
        if existing:
            raise ChannelAlreadyApplied(details={"channel_id": existing[0]})
        channel = Channel.objects.create(
            name=name, kind=kind, description=description.strip()[:500],
            status=Channel.Status.PENDING, partner_id=partner_id, owner_user_id=user_id,
        )  # fmt: skip
        audit_record(action="channel.applied", object_type="channel", object_id=channel.pk,
                     actor_id=user_id, after={"partner_id": partner_id, "name": name})  # fmt: skip
    return channel.pk


def channel_review(*, channel_id: int, approve: bool, actor_id: int | None, note: str = "") -> str:
    """An operator approves (the channel gets its first code and may sell) or rejects an
    application; also suspends (``approve=False``) and restores (``approve=True``) an active
    channel. Audited; returns the new status."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update().filter(pk=channel_id).first()
        if channel is None:
            raise ChannelNotFound(details={"channel_id": channel_id})
        if approve:
            to = Channel.Status.ACTIVE
        elif channel.status == Channel.Status.PENDING:
            to = Channel.Status.REJECTED
        else:
            to = Channel.Status.SUSPENDED
        audited_transition(
            channel, to, object_type="channel", object_id=channel.pk, actor_id=actor_id,
            refused=lambda details: ChannelReviewConflict(details=details),
            after={"note": note[:200]} if note else None,
        )  # fmt: skip
        channel.save(update_fields=["status"])
        if to == Channel.Status.ACTIVE and not channel.codes.exists():
            ChannelCode.objects.create(
                channel=channel, code=f"ch{secrets.token_hex(4)}", label=str(_("Default link"))
            )
    return to


# --- The counterparty interface settlement reads ----------------------------------------------


@dataclass(frozen=True)
class Counterparty:
    kind: str  # "channel"
    id: int
    name: str
    ledger_account: str  # channel:<id>:payable
    partner_id: int | None


def channel_counterparties() -> list[Counterparty]:
    """Every channel as a settlement counterparty (kind ``channel``)."""
    return [
        Counterparty(kind="channel", id=c.pk, name=c.name, ledger_account=f"channel:{c.pk}:payable",
                     partner_id=c.partner_id)
        for c in Channel.objects.order_by("pk")
    ]  # fmt: skip


def channel_payable(*, channel_id: int) -> int:
    """What the carrier owes the channel now (fen; the payable account's credit balance)."""
    return -account_balance(code=channel_account(channel_id))


@dataclass(frozen=True)
class ChannelSales:
    orders: int
    paid_fen: int
    commission_fen: int
    reversed_fen: int
    payable_fen: int
    recent: list[ChannelOrder]


def channel_sales(*, channel_id: int, limit: int = 50) -> ChannelSales:
    """The channel's console: its orders, what they paid and earned (one aggregate query)."""
    from django.db.models import Count, Sum

    rows = ChannelOrder.objects.filter(channel_id=channel_id)
    agg = rows.aggregate(
        n=Count("pk"), paid=Sum("paid_fen"), c=Sum("commission_fen"), r=Sum("reversed_fen")
    )
    return ChannelSales(
        orders=agg["n"] or 0, paid_fen=agg["paid"] or 0, commission_fen=agg["c"] or 0,
        reversed_fen=agg["r"] or 0, payable_fen=channel_payable(channel_id=channel_id),
        recent=list(rows.order_by("-created_at")[:limit]),
    )  # fmt: skip
