"""Enterprise reads: who may distribute, batches with their progress, results as CSV; a sponsor's
sponsored data limits."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.accounts.models import Role
from apps.accounts.selectors import user_profile
from apps.enterprise.errors import BulkBatchNotFound, NotAnEnterprise
from apps.enterprise.models import BulkBatch, BulkRow, SponsorAgreement

DISTRIBUTOR_ROLES = frozenset({Role.ENTERPRISE, Role.PARTNER})
RATE_WINDOW_SECONDS = 10
Status = BulkRow.Status


def distributor_check(*, user_id: int) -> None:
    """Raise ``NotAnEnterprise`` unless the user has the enterprise or partner role."""
    if not DISTRIBUTOR_ROLES & set(user_profile(user_id=user_id).roles):
        raise NotAnEnterprise()


@dataclass(frozen=True)
class BatchProgress:
    batch_no: str
    file_name: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    total: int
    invalid: int
    pending: int  # waiting or in flight
    delivered: int
    failed: int  # the carrier refused or stayed unavailable (retryable)
    charged_fen: int  # price of the delivered rows
    rate_per_second: float  # rows finished in the last RATE_WINDOW_SECONDS

    @property
    def done(self) -> int:
        return self.delivered + self.failed + self.invalid

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100


def _progress(batch: BulkBatch) -> BatchProgress:
    since = timezone.now() - timedelta(seconds=RATE_WINDOW_SECONDS)
    final = [Status.DELIVERED, Status.FAILED]
    counts = BulkRow.objects.filter(batch_id=batch.pk).aggregate(
        pending=Count("pk", filter=Q(status__in=BulkRow.OPEN)),
        delivered=Count("pk", filter=Q(status=Status.DELIVERED)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        charged=Sum("price_fen", filter=Q(status=Status.DELIVERED)),
        recent=Count("pk", filter=Q(status__in=final, updated_at__gte=since)),
    )
    return BatchProgress(
        batch_no=batch.batch_no, file_name=batch.file_name, status=batch.status,
        created_at=batch.created_at, finished_at=batch.finished_at, total=batch.total_rows,
        invalid=batch.invalid_rows, pending=counts["pending"], delivered=counts["delivered"],
        failed=counts["failed"], charged_fen=counts["charged"] or 0,
        rate_per_second=round(counts["recent"] / RATE_WINDOW_SECONDS, 1),
    )  # fmt: skip


def _batch(batch_no: str, owner_id: int | None) -> BulkBatch:
    found = BulkBatch.objects.filter(batch_no=batch_no)
    if owner_id is not None:
        found = found.filter(owner_id=owner_id)
    batch = found.first()
    if batch is None:
        raise BulkBatchNotFound()
    return batch


def batch_progress(*, batch_no: str, owner_id: int | None) -> BatchProgress:
    """One batch's counts (one aggregate query over its rows). ``owner_id`` None: any owner
    (the workbench); otherwise another owner's batch is ``BulkBatchNotFound``."""
    return _progress(_batch(batch_no, owner_id))


def batches_for(*, owner_id: int, limit: int = 50) -> list[BatchProgress]:
    """The owner's latest batches, newest first."""
    return [_progress(b) for b in BulkBatch.objects.filter(owner_id=owner_id)[:limit]]


RESULT_COLUMNS = [
    "line",
    "number",
    "pack",
    "status",
    "error_code",
    "price_fen",
    "carrier_request_id",
]


def batch_results_csv(*, batch_no: str, owner_id: int | None) -> Iterator[str]:
    """The batch's rows as CSV lines (header first), read in chunks for large files."""
    batch = _batch(batch_no, owner_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Sequence[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield "\ufeff" + line(RESULT_COLUMNS)  # the BOM makes Excel read the file as UTF-8
    rows = BulkRow.objects.filter(batch_id=batch.pk).order_by("row_no")
    for r in rows.values_list(
        "row_no", "msisdn", "raw_msisdn", "pack_code", "raw_pack", "status", "error_code", "price_fen",
        "carrier_request_id",
    ).iterator(chunk_size=2000):  # fmt: skip
        row_no, msisdn, raw_msisdn, pack, raw_pack, status, error, price, request_id = r
        yield line(
            [row_no, msisdn or raw_msisdn, pack or raw_pack, status, error, price, request_id]
        )


@dataclass(frozen=True)
class SponsorLimits:
    """A sponsor's sponsored data limits per Asia/Shanghai calendar month, in effect now."""

    monthly_limit_fen: int  # what it may spend
    grants_per_number: int  # packs one number may receive from it
    own_fen: bool  # the agreement sets the spending limit (else the setting's default)
    own_grants: bool  # the agreement sets the packs per number (else the setting's default)


def sponsor_limits(*, sponsor_id: int) -> SponsorLimits:
    """The sponsor's agreement's limits, each empty one the setting's default."""
    own = SponsorAgreement.objects.filter(sponsor_id=sponsor_id).first()
    fen = own.monthly_limit_fen if own else None
    grants = own.grants_per_number if own else None
    return SponsorLimits(
        monthly_limit_fen=settings.SPONSORED_DATA_MONTHLY_FEN_PER_PARTNER if fen is None else fen,
        grants_per_number=(
            settings.SPONSORED_DATA_MONTHLY_GRANTS_PER_SUBSCRIBER if grants is None else grants
        ),
        own_fen=fen is not None,
        own_grants=grants is not None,
    )
