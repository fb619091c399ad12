"""Bulk distribution writes: a batch from a file, each row delivered once, failed rows retried.

Exactly once per row: every row is sent to the carrier under its own idempotency key
(``bulk:<batch>:<line>:<digest of number and pack>``) through ``carrier.services.provision_once``,
which after a lost answer asks the carrier by key before sending again. A retry of a failed
row reuses the key, so a row can never be applied twice. The same file (by SHA-256, per
owner) makes one batch only. Money: see ``billing``. No transaction is open during a carrier
call: a row is moved to ``delivering`` and committed, the carrier is called, and the result is
recorded under the row's lock with its journal.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.carrier.errors import CarrierUnavailable
from apps.catalog.selectors import data_packs_by_code
from apps.core.audit import audit_record, audited_transition
from apps.core.phone import InvalidPhoneNumber, normalize_phone
from apps.core.tasks import enqueue_on_commit
from apps.enterprise import billing
from apps.enterprise.errors import BulkBatchBusy, BulkBatchNotFound, NothingToRetry
from apps.enterprise.locks import bulk_batch_lock, bulk_row_lock, bulk_rows_lock_failed
from apps.enterprise.models import BulkBatch, BulkRow
from apps.enterprise.parsing import RawRow, file_rows, volume_mb
from apps.enterprise.prepaid_delivery import (
    PrepaidKind,
    prepaid_deliver,
    prepaid_fail,
    prepaid_move,
)

RowStatus = BulkRow.Status
CHUNK_SIZE = 25  # rows per task: enough to amortise a task, small enough to spread over workers
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class BatchCreated:
    batch_id: int
    batch_no: str
    created: bool  # False: this file was uploaded before, and this is its batch


def _row_key(batch_no: str, row: BulkRow) -> str:
    digest = hashlib.sha256(f"{row.msisdn}|{row.pack_code}".encode()).hexdigest()[:12]
    return f"bulk:{batch_no}:{row.row_no}:{digest}"


def _validated(batch_no: str, raw_rows: list[RawRow]) -> list[BulkRow]:
    """A ``BulkRow`` per line: pending with its price, or invalid with the reason."""
    packs = data_packs_by_code(codes=sorted({r.pack.strip() for r in raw_rows if r.pack.strip()}))
    seen: dict[tuple[str, str], int] = {}
    rows: list[BulkRow] = []
    for raw in raw_rows:
        row = BulkRow(row_no=raw.row_no, raw_msisdn=raw.number[:40], raw_pack=raw.pack[:64],
                      status=RowStatus.PENDING)  # fmt: skip
        pack = packs.get(raw.pack.strip())
        try:
            row.msisdn = normalize_phone(raw.number)
        except InvalidPhoneNumber:
            row.status, row.error_code = RowStatus.INVALID, InvalidPhoneNumber.code
        if row.status == RowStatus.PENDING and (pack is None or volume_mb(pack.volume) <= 0):
            row.status, row.error_code = RowStatus.INVALID, "UNKNOWN_PACK"
        if row.status == RowStatus.PENDING and pack is not None:
            first = seen.setdefault((row.msisdn, pack.code), raw.row_no)
            if first != raw.row_no:
                row.status, row.error_code = RowStatus.INVALID, f"DUPLICATE_OF_LINE_{first}"
            else:
                row.pack_code, row.price_fen = pack.code, pack.price_fen
                row.volume_mb, row.validity_days = volume_mb(pack.volume), pack.validity_days
                row.idempotency_key = _row_key(batch_no, row)
        rows.append(row)
    return rows


def bulk_batch_create(*, owner_id: int, file_name: str, content: bytes) -> BatchCreated:
    """Make a batch of an uploaded file, hold the price of its valid rows, start delivering.

    The caller has checked that the owner may distribute (an enterprise or partner). Every
    line is validated (mobile number, a known data-pack SKU code, not a repeat of an earlier
    line for the same number and pack); invalid lines are kept with their reason and the
    others run. Raises ``BulkFileInvalid`` for an unreadable file and
    ``InsufficientPrepaidBalance`` when the valid rows cost more than the prepaid balance;
    nothing is written then.

    Idempotent per file content and owner: the same file again returns the first batch
    (``created`` False) and delivers nothing. Locks: the owner's prepaid advisory lock (which
    also serialises two uploads of one file), then the ledger.
    """
    content_hash = hashlib.sha256(content).hexdigest()
    existing = BulkBatch.objects.filter(owner_id=owner_id, content_hash=content_hash).first()
    if existing is not None:
        return BatchCreated(existing.pk, existing.batch_no, created=False)
    raw_rows = file_rows(content=content, name=file_name)
    batch_no = timezone.localtime().strftime("BK%y%m%d") + secrets.token_hex(4).upper()
    rows = _validated(batch_no, raw_rows)
    valid = [r for r in rows if r.status == RowStatus.PENDING]
    total_fen = sum(r.price_fen for r in valid)
    with transaction.atomic():
        billing.prepaid_lock(enterprise_id=owner_id)
        existing = BulkBatch.objects.filter(owner_id=owner_id, content_hash=content_hash).first()
        if existing is not None:
            return BatchCreated(existing.pk, existing.batch_no, created=False)
        batch = BulkBatch.objects.create(
            batch_no=batch_no, owner_id=owner_id, file_name=file_name[:200], content_hash=content_hash,
            total_rows=len(rows), invalid_rows=len(rows) - len(valid),
            status=BulkBatch.Status.RUNNING if valid else BulkBatch.Status.COMPLETED,
            finished_at=None if valid else timezone.now(),
        )  # fmt: skip
        for row in rows:
            row.batch = batch
        BulkRow.objects.bulk_create(rows, batch_size=1000)
        billing.prepaid_hold(enterprise_id=owner_id, amount_fen=total_fen,
                             key=f"bulk:{batch_no}:hold:0", reference=batch_no)  # fmt: skip
        audit_record(
            action="bulk.batch_created", object_type="bulk_batch", object_id=batch.pk, actor_id=owner_id,
            after={"batch_no": batch_no, "rows": len(rows), "valid": len(valid), "held_fen": total_fen},
        )  # fmt: skip
        if valid:
            from apps.enterprise.tasks import bulk_batch_dispatch_task

            enqueue_on_commit(bulk_batch_dispatch_task, batch.pk)
    return BatchCreated(batch.pk, batch_no, created=True)


def bulk_batch_dispatch(*, batch_id: int, row_ids: list[int] | None = None) -> int:
    """Enqueue the batch's waiting rows (or ``row_ids``) in chunks; return how many rows.

    Safe to repeat: a row already delivered or being delivered is skipped by its task.
    """
    from apps.enterprise.tasks import bulk_rows_deliver_task

    if row_ids is None:
        row_ids = list(
            BulkRow.objects.filter(batch_id=batch_id, status=RowStatus.PENDING)
            .order_by("row_no")
            .values_list("pk", flat=True)
        )
    for start in range(0, len(row_ids), CHUNK_SIZE):
        enqueue_on_commit(bulk_rows_deliver_task, batch_id, row_ids[start : start + CHUNK_SIZE])
    if not row_ids:
        bulk_batch_finish_if_done(batch_id=batch_id)
    return len(row_ids)


def _move(row: BulkRow, to: str, **after: object) -> None:
    prepaid_move(BULK_ROW, row, to, **after)


def _bill(row: BulkRow) -> billing.PrepaidBill:
    return billing.PrepaidBill(
        enterprise_id=row.batch.owner_id, amount_fen=row.price_fen, reference=row.batch.batch_no,
        charge_key=f"bulk:row:{row.pk}:charge", release_key=f"bulk:row:{row.pk}:release:{row.failures}",
        kind="bulk",
    )  # fmt: skip


BULK_ROW = PrepaidKind[BulkRow](
    lock=lambda row_id: bulk_row_lock(row_id=row_id), object_type="bulk_row",
    action_prefix="bulk_row", carrier_reference=lambda row: f"{row.batch.batch_no}:{row.row_no}",
    bill=_bill,
)  # fmt: skip


def bulk_row_deliver(*, row_id: int) -> str:
    """Deliver one row's pack at the carrier; safe to run any number of times.

    The prepaid delivery step (``prepaid_delivery.prepaid_deliver``): locks the row only to
    move it (never during the carrier call). Returns the row's state: ``delivered``, ``failed``
    (the carrier refused: the price is released), or the state it was already in. Raises
    ``CarrierUnavailable`` when the outcome is unknown; the row stays ``delivering`` and a later
    run, under the same key, finds out.
    """
    return prepaid_deliver(BULK_ROW, row_id=row_id)


def bulk_row_fail(*, row_id: int, reason: str) -> str:
    """Give up on a row for now: release its price (``bulk:row:<id>:release:<n>`` for its n-th
    failure). Idempotent (a final row is left alone)."""
    return prepaid_fail(BULK_ROW, row_id=row_id, reason=reason)


def bulk_rows_deliver(*, batch_id: int, row_ids: list[int]) -> list[int]:
    """Deliver a chunk of rows; return the ids whose outcome is still unknown (to retry)."""
    unknown = []
    for row_id in row_ids:
        try:
            bulk_row_deliver(row_id=row_id)
        except CarrierUnavailable:
            unknown.append(row_id)
    bulk_batch_finish_if_done(batch_id=batch_id)
    return unknown


def bulk_batch_finish_if_done(*, batch_id: int) -> bool:
    """Mark the batch completed once no row is waiting or in flight. Locks the batch row."""
    if BulkRow.objects.filter(batch_id=batch_id, status__in=BulkRow.OPEN).exists():
        return False
    with transaction.atomic():
        batch = bulk_batch_lock(batch_id=batch_id)
        if batch.status != BulkBatch.Status.RUNNING:
            return False
        if BulkRow.objects.filter(batch_id=batch_id, status__in=BulkRow.OPEN).exists():
            return False  # a retry put rows back between the check and the lock
        audited_transition(batch, BulkBatch.Status.COMPLETED, object_type="bulk_batch", object_id=batch.pk,
                           action_prefix="bulk_batch", refused=lambda d: ValueError(str(d)))  # fmt: skip
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "finished_at"])
    return True


def bulk_batch_retry_failed(*, batch_no: str, owner_id: int | None, actor_id: int | None) -> int:
    """Send the batch's failed rows again, under their first idempotency keys; return how many.

    Only a finished batch (``BulkBatchBusy`` otherwise) with failed rows (``NothingToRetry``).
    Holds their price again (``InsufficientPrepaidBalance`` when short; nothing changes).
    ``owner_id`` None is an operator acting for the owner. Locks: the owner's prepaid lock,
    the batch row, its failed rows, then the ledger.
    """
    found = BulkBatch.objects.filter(batch_no=batch_no)
    if owner_id is not None:
        found = found.filter(owner_id=owner_id)
    batch_owner = found.values_list("owner_id", flat=True).first()
    if batch_owner is None:
        raise BulkBatchNotFound()
    with transaction.atomic():
        billing.prepaid_lock(enterprise_id=batch_owner)
        batch = bulk_batch_lock(batch_no=batch_no)
        if batch.status != BulkBatch.Status.COMPLETED:
            raise BulkBatchBusy()
        rows = bulk_rows_lock_failed(batch_id=batch.pk)
        if not rows:
            raise NothingToRetry()
        batch.retry_round += 1
        amount = BulkRow.objects.filter(pk__in=[r.pk for r in rows]).aggregate(s=Sum("price_fen"))[
            "s"
        ]
        billing.prepaid_hold(enterprise_id=batch_owner, amount_fen=amount or 0,
                             key=f"bulk:{batch_no}:hold:{batch.retry_round}", reference=batch_no)  # fmt: skip
        for row in rows:
            _move(row, RowStatus.PENDING, retry_round=batch.retry_round)
        BulkRow.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=RowStatus.PENDING, updated_at=timezone.now()
        )
        audited_transition(batch, BulkBatch.Status.RUNNING, object_type="bulk_batch", object_id=batch.pk,
                           action_prefix="bulk_batch", actor_id=actor_id, refused=lambda d: ValueError(str(d)),
                           after={"retry_round": batch.retry_round, "rows": len(rows)})  # fmt: skip
        batch.finished_at = None
        batch.save(update_fields=["status", "retry_round", "finished_at"])
        from apps.enterprise.tasks import bulk_batch_dispatch_task

        enqueue_on_commit(bulk_batch_dispatch_task, batch.pk)
    return len(rows)


def bulk_rows_retry_stuck(
    *, older_than_seconds: int = 120, waiting_seconds: int = 1800, limit: int = 1000
) -> int:
    """Beat: send again rows stuck in flight for ``older_than_seconds`` (a worker died, the
    carrier was down) and rows still waiting after ``waiting_seconds`` in a batch where nothing
    moved for ``older_than_seconds`` (a lost task); a long queue is not stuck, so a batch still
    making progress is left alone. Rows past ``MAX_ATTEMPTS`` fail and their price is released.
    Safe to overlap with the workers: each row is re-checked under its lock."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    candidates = BulkRow.objects.filter(
        Q(status=RowStatus.DELIVERING, updated_at__lt=cutoff)
        | Q(status=RowStatus.PENDING, updated_at__lt=now - timedelta(seconds=waiting_seconds))
    )
    batch_ids = set(candidates.values_list("batch_id", flat=True)[:limit])
    busy = set(
        BulkRow.objects.filter(
            batch_id__in=batch_ids,
            updated_at__gte=cutoff,
            status__in=[RowStatus.DELIVERING, RowStatus.DELIVERED, RowStatus.FAILED],
        )
        .values_list("batch_id", flat=True)
        .distinct()
    )
    rows = list(
        candidates.filter(batch_id__in=batch_ids - busy)
        .order_by("updated_at").values_list("pk", "batch_id", "attempts")[:limit]
    )  # fmt: skip
    by_batch: dict[int, list[int]] = {}
    for row_id, batch_id, attempts in rows:
        if attempts >= MAX_ATTEMPTS:
            bulk_row_fail(row_id=row_id, reason=CarrierUnavailable.code)
            bulk_batch_finish_if_done(batch_id=batch_id)
        else:
            by_batch.setdefault(batch_id, []).append(row_id)
    for batch_id, row_ids in by_batch.items():
        bulk_batch_dispatch(batch_id=batch_id, row_ids=row_ids)
    return len(rows)
