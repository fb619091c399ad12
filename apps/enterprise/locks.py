"""Row locks of the enterprise app (bulk distribution, prepaid accounts): named helpers,
several rows always taken in primary-key order.

The one global lock order every path of the platform follows (a path may skip a level but never
goes back up one; docs/architecture.md, "Transactions and locks"):

    user → cart → order → stock → SIM numbers → payment intent → refund → ledger balances

Enterprise's rows hang off the owner (a user) and come before the ledger, in this order:

    owner's prepaid advisory lock (``billing.prepaid_lock``) → top-up → batch → rows → ledger

A sponsored data grant sits where a row does: prepaid lock → grant → ledger; a sponsor's
agreement (its limits) after the prepaid lock too: prepaid lock → agreement.

A row is locked with its batch (one query, both rows). Callers hold a transaction open;
nothing here makes a network call.
"""

from __future__ import annotations

from typing import Any

from apps.enterprise.models import (
    BulkBatch,
    BulkRow,
    EnterpriseTopUp,
    SponsorAgreement,
    SponsoredGrant,
)


def bulk_batch_lock(*, batch_id: int | None = None, batch_no: str = "") -> BulkBatch:
    """Lock one batch by id or number (``BulkBatch.DoesNotExist`` if there is none)."""
    if batch_id is not None:
        return BulkBatch.objects.select_for_update().get(pk=batch_id)
    return BulkBatch.objects.select_for_update().get(batch_no=batch_no)


def bulk_row_lock(*, row_id: int) -> BulkRow:
    """Lock one row and its batch row (``BulkRow.DoesNotExist`` if there is none)."""
    return BulkRow.objects.select_for_update().select_related("batch").get(pk=row_id)


def bulk_rows_lock_failed(*, batch_id: int) -> list[BulkRow]:
    """Lock the batch's failed rows, in primary-key order."""
    return list(
        BulkRow.objects.select_for_update()
        .filter(batch_id=batch_id, status=BulkRow.Status.FAILED)
        .order_by("pk")
    )


def topup_lock_or_create(
    *, reference: str, defaults: dict[str, Any]
) -> tuple[EnterpriseTopUp, bool]:
    """Lock the top-up of a bank slip, creating it from ``defaults`` on first use (the new row
    is locked by its insert); returns (top-up, created)."""
    return EnterpriseTopUp.objects.select_for_update().get_or_create(
        reference=reference, defaults=defaults
    )


def sponsored_grant_lock(*, grant_id: int) -> SponsoredGrant:
    """Lock one sponsored data grant (``SponsoredGrant.DoesNotExist`` if there is none)."""
    return SponsoredGrant.objects.select_for_update().get(pk=grant_id)


def sponsor_agreement_lock_or_create(*, sponsor_id: int) -> tuple[SponsorAgreement, bool]:
    """Lock the sponsor's agreement, creating an empty one (the defaults) on first use (the new
    row is locked by its insert); returns (agreement, created)."""
    return SponsorAgreement.objects.select_for_update().get_or_create(sponsor_id=sponsor_id)
