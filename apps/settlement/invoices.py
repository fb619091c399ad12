"""Partners' monthly invoices for capability use: metered calls × package prices, posted once
as a receivable (Dr ``partner:<id>:receivable`` / Cr ``platform:revenue``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction

from apps.core.audit import audit_record
from apps.gateway import selectors as gateway
from apps.ledger.services import LineSpec, account_ensure, journal_post
from apps.settlement.counterparties import KINDS, PARTNER, PLATFORM_REVENUE
from apps.settlement.errors import InvalidPeriod
from apps.settlement.models import PartnerInvoice
from apps.settlement.services import day_start, today


def partner_invoices_post(*, period_start: dt.date, period_end: dt.date) -> list[int]:
    """Invoice every partner with billable calls in the period (a closed period only) and
    return the invoices' ids. Idempotent: a partner's invoice for a period is made and posted
    once (its row is unique, its journal has one key); a repeat returns the same ids."""
    if period_end <= period_start or period_end > today():
        raise InvalidPeriod(
            details={"period_start": period_start.isoformat(), "period_end": period_end.isoformat()}
        )
    usage = gateway.billable_usage(start=day_start(period_start), end=day_start(period_end))
    by_partner: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in usage:
        by_partner[row.partner_id].append(
            {
                "app_id": row.app_id,
                "capability": row.capability,
                "package": row.package_code,
                "calls": row.calls,
                "price_per_call_fen": row.price_per_call_fen,
                "amount_fen": row.calls * row.price_per_call_fen,
            }
        )
    return [
        _invoice(partner_id, lines, period_start, period_end)
        for partner_id, lines in sorted(by_partner.items())
        if sum(line["amount_fen"] for line in lines) > 0
    ]


def _invoice(partner_id: int, lines: list[dict[str, Any]], start: dt.date, end: dt.date) -> int:
    amount = sum(line["amount_fen"] for line in lines)
    code = KINDS[PARTNER].account_code(partner_id)
    account_ensure(code=code, name=f"合作伙伴 {partner_id} 应收", kind="asset")
    with transaction.atomic():
        invoice, _ = PartnerInvoice.objects.get_or_create(
            partner_id=partner_id,
            period_start=start,
            period_end=end,
            defaults={"amount_fen": amount, "lines": lines},
        )
        if invoice.journal_id is None:
            journal = journal_post(
                idempotency_key=f"settlement:partner_invoice:{partner_id}:{start}:{end}",
                kind="partner_invoice",
                reference=f"partner_invoice:{invoice.pk}",
                description=f"能力调用账单 {start}..{end}",
                lines=[
                    LineSpec(code, invoice.amount_fen),
                    LineSpec(PLATFORM_REVENUE, -invoice.amount_fen),
                ],
            )
            invoice.journal_id = journal.id
            invoice.save(update_fields=["journal_id"])
            audit_record(
                action="settlement.partner_invoiced",
                object_type="settlement.partner_invoice",
                object_id=invoice.pk,
                after={"partner_id": partner_id, "amount_fen": invoice.amount_fen},
            )
    return invoice.pk
