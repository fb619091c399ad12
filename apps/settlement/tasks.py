"""Settlement background work: batches split into chunks of counterparties, the monthly run."""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task

from apps.carrier.errors import CarrierUnavailable
from apps.core.tasks import enqueue_on_commit
from apps.payments.providers.base import ProviderUnavailable
from apps.payments.services import bills
from apps.settlement import exports, invoices, services
from apps.settlement.counterparties import KINDS
from apps.settlement.reconciliation import services as recon
from apps.settlement.reconciliation.formats import BillForeignMerchant, BillMalformed

CHUNK = 50  # counterparties per chunk task: one chunk's statements build in seconds


@shared_task(acks_late=True)
def settlement_batch_task(
    kind: str, period_start: str, period_end: str, run_by_id: int | None = None
) -> int:
    """Open the period's batch (the same batch on every run) and hand its counterparties to
    chunk tasks; the workbench shows the batch's progress as they finish."""
    opened = services.batch_open(
        kind=kind,
        period_start=dt.date.fromisoformat(period_start),
        period_end=dt.date.fromisoformat(period_end),
        run_by_id=run_by_id,
    )
    if not opened.party_ids:
        services.batch_progress(batch_id=opened.batch_id)
    for index in range(0, len(opened.party_ids), CHUNK):
        enqueue_on_commit(
            settlement_chunk_task,
            opened.batch_id,
            opened.party_ids[index : index + CHUNK],
            run_by_id,
        )
    return opened.batch_id


@shared_task(acks_late=True, max_retries=3)
def settlement_chunk_task(batch_id: int, party_ids: list[int], run_by_id: int | None) -> int:
    """Build the statements of some counterparties (idempotent: a redelivered chunk rebuilds
    the same drafts), then count the batch's progress."""
    try:
        for party_id in party_ids:
            services.statement_build(batch_id=batch_id, party_id=party_id, run_by_id=run_by_id)
    except Exception as exc:
        services.batch_fail(batch_id=batch_id, error=f"{type(exc).__name__}: {exc}")
        raise
    services.batch_progress(batch_id=batch_id)
    return len(party_ids)


@shared_task(acks_late=True)
def settlement_monthly_task() -> list[int]:
    """Beat, daily: invoice partners for last month's calls (once), then settle last month for
    every counterparty kind (later runs of the month rebuild the drafts from the ledger and
    leave confirmed statements alone). A partner's invoice is posted in the month after its
    calls, so it appears on that month's partner statement."""
    start, end = services.month_bounds(services.today())
    invoices.partner_invoices_post(period_start=start, period_end=end)
    return [settlement_batch_task(kind, start.isoformat(), end.isoformat()) for kind in KINDS]


@shared_task(acks_late=True, max_retries=2)
def report_export_task(export_id: int) -> int:
    """Write a requested finance report to its file, with progress on the export row."""
    return exports.export_write(export_id=export_id)


@shared_task(bind=True, acks_late=True, max_retries=6)
def recon_fetch_task(self: Task, provider: str, bill_date: str) -> int:
    """Download and reconcile one provider's bill; retried while the provider is unavailable.
    A bad, foreign or duplicated bill is not retried: its error is on the batch."""
    try:
        return recon.recon_fetch(provider=provider, bill_date=dt.date.fromisoformat(bill_date))
    except (ProviderUnavailable, CarrierUnavailable) as exc:
        raise self.retry(exc=exc, countdown=600) from exc
    except (BillMalformed, BillForeignMerchant, recon.BillDuplicate):
        return 0


@shared_task(acks_late=True)
def recon_daily_task() -> list[str]:
    """Beat, daily: reconcile yesterday's bill of every provider and the carrier's phone-bill
    file (T+1)."""
    yesterday = (services.today() - dt.timedelta(days=1)).isoformat()
    providers = [*bills.BILL_METHODS, recon.CARRIER]
    for provider in providers:
        recon_fetch_task.delay(provider, yesterday)
    return providers
