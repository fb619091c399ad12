"""Reconciling a provider's daily bill with the platform (T+1), and working the differences.

``recon_run`` parses the whole bill before writing anything, then matches and records the
day in one transaction: a bad file fails the batch with its error and leaves nothing else.
Rows match by out-trade-no (payments; failing that, the provider's trade number) or refund
number (refunds) and are classified:

- matched: same amount and status (its fee is checked against the contracted rate);
- amount_mismatch, status_mismatch: both have it, they disagree;
- provider_only: the provider has it, the platform has no success for it (a lost
  notification): after commit the intent is queried and applied (``payments.intent_sync``),
  which resolves the difference when the payment turns out paid;
- platform_only: the platform has a success the bill does not list;
- cross_day: the bill lists a success the platform booked on another day; an open
  platform_only difference for the same row is then resolved as cleared by this bill;
- fee_mismatch: the provider's fee differs from the contracted rate.

The bill's net (payments in, refunds out) ties out to the movement of the provider's
clearing account for the day. A resolution that moves money posts an adjustment journal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.carrier import services as carrier
from apps.core.audit import audit_record, audited_transition
from apps.core.errors import Conflict, NotFound
from apps.core.money import apply_rate
from apps.ledger import selectors as ledger
from apps.ledger.services import LineSpec, account_ensure, journal_post
from apps.payments import selectors as payments
from apps.payments.services import bills
from apps.settlement.models import ReconBatch, ReconDifference
from apps.settlement.reconciliation import formats
from apps.settlement.reconciliation.formats import PAYMENT, SUCCESS, BillMalformed, BillRow
from apps.settlement.services import day_start

CARRIER = "carrier_billing"  # the carrier's daily file of phone-bill charges
PROVIDERS = ("alipay", "wechat", "unionpay", CARRIER)
ADJUSTMENTS = "platform:recon_adjustments"
Kind = ReconDifference.Kind


class BillDuplicate(Conflict):
    code = "RECON_BILL_DUPLICATE"
    default_message = _("This day's bill has already been reconciled.")


class DifferenceNotFound(NotFound):
    code = "RECON_DIFFERENCE_NOT_FOUND"
    default_message = _("No reconciliation difference has this id.")


class DifferenceStateConflict(Conflict):
    code = "RECON_DIFFERENCE_STATE"
    default_message = _("The difference cannot make this move from its current status.")


def merchant_id(provider: str) -> str:
    """The platform's merchant id in ``provider``'s bills (the carrier names no merchant)."""
    if provider == "carrier_billing":
        return str(getattr(settings, "CARRIER_BILLING_MERCHANT_ID", "carrierhub"))
    return bills.merchant_id_for(provider)


def fee_rate(provider: str) -> Decimal:
    """The contracted rate (payments only; refunds give the fee back pro rata)."""
    configured: dict[str, str] = getattr(settings, "SETTLEMENT_FEE_RATES", {})
    defaults = {"alipay": "0.006", "wechat": "0.006", "unionpay": "0.005", "carrier_billing": "0"}
    return Decimal(configured.get(provider) or defaults[provider])


def _row(row: Any) -> dict[str, Any]:
    data = asdict(row)
    data["at"] = data["at"].isoformat() if data.get("at") else None
    return data


def recon_run(*, provider: str, bill_date: dt.date, data: bytes) -> int:
    """Reconcile ``data``, the provider's bill for ``bill_date``; return the batch id.

    Refuses a day already reconciled (``BillDuplicate``, the batch untouched). A malformed,
    truncated or foreign bill fails the batch with the error (re-raised) and writes nothing
    else; a later run of the same day (a corrected file) may then succeed.
    """
    if provider not in PROVIDERS:
        raise BillMalformed(details={"provider": provider})
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        batch, _ = ReconBatch.objects.select_for_update().get_or_create(
            provider=provider, bill_date=bill_date,
            defaults={"merchant_id": merchant_id(provider)},
        )  # fmt: skip
        duplicate = batch.status == ReconBatch.Status.DONE
        if not duplicate:
            batch.status, batch.error, batch.file_sha256 = ReconBatch.Status.RUNNING, "", digest
            batch.save()
    if duplicate:
        # Refused and recorded on the batch's trail; the batch itself is left as it was.
        details = {"batch_id": batch.pk, "same_file": batch.file_sha256 == digest}
        audit_record(action="settlement.recon_duplicate_refused",
                     object_type="settlement.recon_batch", object_id=batch.pk, after=details)  # fmt: skip
        raise BillDuplicate(details=details)
    try:
        bill = formats.parse(
            data, provider=provider, bill_date=bill_date, merchant_id=merchant_id(provider)
        )
        keys = [row.key for row in bill.rows]
        if len(set(keys)) != len(keys):
            raise BillMalformed(details={"rows": "the same row twice"})
        sync = _record(batch.pk, bill.rows)
    except Exception as exc:
        ReconBatch.objects.filter(pk=batch.pk).update(
            status=ReconBatch.Status.FAILED,
            error=f"{getattr(exc, 'code', type(exc).__name__)}: {exc} {getattr(exc, 'details', '')}"[
                :2000
            ],
            finished_at=timezone.now(),
        )
        raise
    for difference_id, out_trade_no in sync:
        _apply_provider_only(difference_id, provider, out_trade_no)
    return batch.pk


def _record(batch_id: int, rows: list[BillRow]) -> list[tuple[int, str]]:
    """Match and write the day in one transaction; return the provider-only payments to query."""
    with transaction.atomic():
        batch = ReconBatch.objects.select_for_update().get(pk=batch_id)
        start = day_start(batch.bill_date)
        end = day_start(batch.bill_date + dt.timedelta(days=1))
        platform = {
            (row.refund_no if row.kind == "refund" else row.out_trade_no): row
            for row in payments.recon_day(method=batch.provider, start=start, end=end)
        }
        rate = fee_rate(batch.provider)
        counts = dict.fromkeys(["matched", *Kind.values], 0)
        differences: list[ReconDifference] = []
        unmatched: list[BillRow] = []
        fees = 0

        def differ(kind: str, key: str, bill: Any, ours: Any, amount: int) -> None:
            counts[kind] += 1
            differences.append(ReconDifference(
                batch_id=batch_id, kind=kind, key=key, bill_row=_row(bill) if bill else None,
                platform_row=_row(ours) if ours else None, difference_fen=amount,
            ))  # fmt: skip

        # A payment row whose out-trade-no we do not know is matched by the provider's trade
        # number (a bill that carries another merchant order number, or none).
        by_trade_no = {
            ours.provider_trade_no: key
            for key, ours in platform.items()
            if ours.kind == PAYMENT and ours.provider_trade_no
        }
        for row in rows:
            fees += row.fee_fen
            ours = platform.pop(row.key, None)
            if ours is None and row.kind == PAYMENT and row.provider_trade_no in by_trade_no:
                ours = platform.pop(by_trade_no[row.provider_trade_no], None)
            if ours is None:
                unmatched.append(row)
                continue
            our_net = (
                ours.amount_fen if row.kind == PAYMENT else -ours.amount_fen
            ) * ours.succeeded
            key = ours.refund_no if ours.kind == "refund" else ours.out_trade_no
            if (row.status == SUCCESS) != ours.succeeded:
                differ(Kind.STATUS, key, row, ours, row.net_fen - our_net)
            elif row.amount_fen != ours.amount_fen:
                differ(Kind.AMOUNT, key, row, ours, row.net_fen - our_net)
            else:
                counts["matched"] += 1
                expected = apply_rate(row.amount_fen, rate)
                if row.kind == PAYMENT and row.status == SUCCESS and row.fee_fen != expected:
                    differ(Kind.FEE, key, row, ours, row.fee_fen - expected)
        found = payments.recon_lookup(
            method=batch.provider,
            out_trade_nos=[r.out_trade_no for r in unmatched if r.kind == PAYMENT],
            refund_nos=[r.refund_no for r in unmatched if r.kind != PAYMENT],
            provider_trade_nos=[
                r.provider_trade_no for r in unmatched if r.kind == PAYMENT and r.provider_trade_no
            ],
        )
        sync: list[tuple[str, str]] = []
        for row in unmatched:
            ours = found.get(row.key)
            if ours is None and row.kind == PAYMENT and row.provider_trade_no:
                ours = found.get(f"trade:{row.provider_trade_no}")
            # Found by the trade number, the payment goes by our out-trade-no.
            key = ours.out_trade_no if ours is not None and row.kind == PAYMENT else row.key
            if ours is not None and ours.succeeded and row.status == SUCCESS:
                differ(Kind.CROSS_DAY, key, row, ours, 0)
                _clear_platform_only(batch, key)
            else:
                differ(Kind.PROVIDER_ONLY, key, row, ours, row.net_fen)
                if ours is not None and row.kind == PAYMENT and row.status == SUCCESS:
                    sync.append((key, key))
        for key, ours in platform.items():
            if ours.succeeded:
                differ(Kind.PLATFORM_ONLY, key, None, ours,
                       -(ours.amount_fen if ours.kind == "payment" else -ours.amount_fen))  # fmt: skip
        ReconDifference.objects.bulk_create(differences, batch_size=2000)
        bill_net = sum(row.net_fen for row in rows)
        ledger_net = ledger.account_movement(
            code=f"clearing:{batch.provider}", start=start, end=end
        )
        batch.rows, batch.counts, batch.fees_fen = len(rows), counts, fees
        batch.bill_net_fen, batch.ledger_net_fen = bill_net, ledger_net
        batch.tie_out_ok = bill_net == ledger_net
        batch.status, batch.finished_at = ReconBatch.Status.DONE, timezone.now()
        batch.save()
        audit_record(
            action="settlement.recon_done", object_type="settlement.recon_batch", object_id=batch_id,
            after={"rows": len(rows), "counts": counts, "bill_net_fen": bill_net,
                   "ledger_net_fen": ledger_net},
        )  # fmt: skip
        by_key = {d.key: d.pk for d in differences if d.kind == Kind.PROVIDER_ONLY}
        return [(by_key[key], out_trade_no) for key, out_trade_no in sync]


def _clear_platform_only(batch: ReconBatch, key: str) -> None:
    for difference in ReconDifference.objects.select_for_update().filter(
        batch__provider=batch.provider, kind=Kind.PLATFORM_ONLY, key=key,
        status__in=[ReconDifference.Status.OPEN, ReconDifference.Status.INVESTIGATING],
    ):  # fmt: skip
        _move(difference, ReconDifference.Status.RESOLVED, None,
              resolution=f"cleared by the {batch.bill_date} bill")  # fmt: skip
        difference.resolution = f"cross-day: cleared by the {batch.bill_date} bill"
        difference.save()


def _apply_provider_only(difference_id: int, provider: str, out_trade_no: str) -> None:
    """Query the provider for a payment only it has and apply the answer (after commit, under
    no lock); the difference is resolved when the payment is paid now."""
    from apps.payments.services import intent_sync

    try:
        outcome = intent_sync(public_id=out_trade_no)
    except Exception as exc:  # the difference stays open for a person
        audit_record(action="settlement.recon_query_failed", object_type="settlement.recon_difference",
                     object_id=difference_id, after={"error": str(exc)[:200]})  # fmt: skip
        return
    now = payments.recon_lookup(method=provider, out_trade_nos=[out_trade_no], refund_nos=[])
    if out_trade_no in now and now[out_trade_no].succeeded:
        difference_resolve(difference_id=difference_id, actor_id=None,
                           note=f"queried the provider and applied ({outcome})", adjust=False)  # fmt: skip


def _move(difference: ReconDifference, to: str, actor_id: int | None, **after: object) -> None:
    audited_transition(
        difference, to, object_type="settlement.recon_difference", object_id=difference.pk,
        refused=lambda d: DifferenceStateConflict(details=d), actor_id=actor_id, after=after,
    )  # fmt: skip


def _locked(difference_id: int) -> ReconDifference:
    difference = ReconDifference.objects.select_for_update().filter(pk=difference_id).first()
    if difference is None:
        raise DifferenceNotFound(details={"difference_id": difference_id})
    return difference


def difference_investigate(*, difference_id: int, actor_id: int | None) -> None:
    with transaction.atomic():
        difference = _locked(difference_id)
        _move(difference, ReconDifference.Status.INVESTIGATING, actor_id)
        difference.save()


def difference_resolve(
    *, difference_id: int, actor_id: int | None, note: str, adjust: bool
) -> None:
    """Resolve a difference with a note; with ``adjust``, book its money effect as an
    adjustment journal (Dr/Cr the provider's clearing account against
    ``platform:recon_adjustments``), never by editing what was booked. Posted once."""
    account_ensure(code=ADJUSTMENTS, name="对账差异调整", kind="expense")
    with transaction.atomic():
        difference = _locked(difference_id)
        _move(difference, ReconDifference.Status.RESOLVED, actor_id, adjust=adjust)
        difference.resolution, difference.resolved_by_id = note.strip(), actor_id
        if adjust and difference.difference_fen:
            provider = difference.batch.provider
            journal = journal_post(
                idempotency_key=f"settlement:recon:{difference.pk}:adjustment",
                kind="recon_adjustment",
                reference=f"recon:{difference.pk}",
                description=f"{provider} {difference.batch.bill_date} {difference.kind} {difference.key}"[
                    :255
                ],
                lines=[
                    LineSpec(f"clearing:{provider}", difference.difference_fen),
                    LineSpec(ADJUSTMENTS, -difference.difference_fen),
                ],
            )
            difference.journal_id = journal.id
        difference.save()


def recon_fetch(*, provider: str, bill_date: dt.date) -> int:
    """Download the provider's bill for ``bill_date`` (no transaction open) and reconcile it;
    ``ProviderUnavailable`` (``CarrierUnavailable`` for the carrier's phone-bill file) when
    the file cannot be had now."""
    if provider == CARRIER:
        data = carrier.billing_statement(day=bill_date, merchant_id=merchant_id(CARRIER))
    else:
        data = bills.bill_download(method=provider, bill_date=bill_date)
    return recon_run(provider=provider, bill_date=bill_date, data=data)
