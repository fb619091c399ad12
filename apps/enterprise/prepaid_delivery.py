"""The one delivery step of a data pack paid from an enterprise's prepaid hold: a bulk
distribution row or a sponsored data grant. Lock the row, move it, and charge or release its
held price in the same transaction.

Both kinds of row have the same states (``pending → delivering → delivered | failed``) and pay
the same way (``billing``): the price was held when the row was made, it is earned when the
carrier applied the pack and given back when the carrier refused it or the row is given up.
A ``PrepaidKind`` says how one kind is locked and audited, what the carrier is told and which
journals pay for it; the functions here do the rest. No transaction is open during the carrier
call: the row is moved to ``delivering`` and committed, the carrier is called through
``carrier.services.provision_once`` under the row's idempotency key (asked by key after a lost
answer), and the outcome is recorded under the row's lock with its journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import transaction
from django.utils import timezone

from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import provision_once
from apps.core.audit import audited_transition
from apps.enterprise.billing import PrepaidBill, prepaid_charge, prepaid_release
from apps.enterprise.models import BulkRow, SponsoredGrant

R = TypeVar("R", BulkRow, SponsoredGrant)
# SponsoredGrant.Status has these values too (the tests hold the two to it).
PENDING, DELIVERING, DELIVERED, FAILED = (
    BulkRow.Status.PENDING, BulkRow.Status.DELIVERING, BulkRow.Status.DELIVERED, BulkRow.Status.FAILED,
)  # fmt: skip
OPEN = (PENDING, DELIVERING)


def _nothing(row: object) -> None:
    return None


@dataclass(frozen=True)
class PrepaidKind(Generic[R]):
    """How one kind of prepaid row is locked, audited, sent and paid for."""

    lock: Callable[[int], R]  # lock the row by id, with what ``bill`` reads
    object_type: str  # its audit events' object type
    action_prefix: str  # and their action prefix
    carrier_reference: Callable[[R], str]  # the request's reference at the carrier
    bill: Callable[[R], PrepaidBill]  # read after the move (and the failure counted)
    delivered: Callable[[R], None] = _nothing  # more, in the transaction that delivers it


def prepaid_move(kind: PrepaidKind[R], row: R, to: str, **after: object) -> None:
    """Move a locked row along its model's transitions, with its audit event."""
    label = kind.object_type.replace("_", " ")
    audited_transition(
        row, to, object_type=kind.object_type, object_id=row.pk, action_prefix=kind.action_prefix,
        refused=lambda details: ValueError(f"{label} {row.pk}: {details}"), after=after,
    )  # fmt: skip


def prepaid_deliver(kind: PrepaidKind[R], *, row_id: int) -> str:
    """Apply the row's pack at the carrier; safe to run any number of times.

    Locks the row only to move it (never during the carrier call). Returns the row's state:
    ``delivered`` (its price earned), ``failed`` (the carrier refused: its price released), or
    the state it was already in when not open. Raises ``CarrierUnavailable`` when the outcome
    is unknown; the row stays ``delivering`` and a later run, under the same key, finds out.
    """
    with transaction.atomic():
        row = kind.lock(row_id)
        if row.status not in OPEN:
            return row.status
        prepaid_move(kind, row, DELIVERING, attempt=row.attempts + 1)
        row.attempts += 1
        row.save(update_fields=["status", "attempts", "updated_at"])
    body = {"msisdn": row.msisdn, "volume_mb": row.volume_mb, "validity_days": row.validity_days,
            "reference": kind.carrier_reference(row)}  # fmt: skip
    try:
        done = provision_once(kind="data-packs", body=body, idempotency_key=row.idempotency_key)
    except CarrierUnavailable as exc:
        # A grant records that a request may have reached the carrier (so that giving up asks
        # the carrier first), and stays so until its outcome is known. A bulk row does not yet.
        fields: dict[str, object] = {"error_code": exc.code, "updated_at": timezone.now()}
        if isinstance(row, SponsoredGrant) and exc.maybe_applied:
            fields["maybe_applied"] = True
        type(row).objects.filter(pk=row_id).update(**fields)
        raise
    except (CarrierRejected, SubscriberNotFound) as exc:
        return prepaid_fail(
            kind, row_id=row_id, reason=getattr(exc, "carrier_code", "") or exc.code
        )
    return prepaid_delivered(kind, row_id=row_id, request_id=done.request_id)


def prepaid_delivered(
    kind: PrepaidKind[R], *, row_id: int, request_id: str, from_status: str = DELIVERING,
    **after: object,
) -> str:  # fmt: skip
    """Record that the carrier applied the row's pack: delivered, its price earned, and the
    kind's ``delivered`` step, in one transaction under the row's lock. Only from
    ``from_status`` (else the row's state is returned and nothing changes)."""
    with transaction.atomic():
        row = kind.lock(row_id)
        if row.status != from_status:
            return row.status
        prepaid_move(kind, row, DELIVERED, request_id=request_id, **after)
        row.carrier_request_id, row.error_code = request_id[:40], ""
        fields = ["status", "carrier_request_id", "error_code", "updated_at"]
        if isinstance(row, SponsoredGrant):
            row.maybe_applied = False
            fields.append("maybe_applied")
        row.save(update_fields=fields)
        prepaid_charge(bill=kind.bill(row))
        kind.delivered(row)
    return DELIVERED


def prepaid_fail(
    kind: PrepaidKind[R], *, row_id: int, reason: str, from_statuses: Iterable[str] = OPEN
) -> str:
    """Give up on a row: failed, its price released. Idempotent: a row not in
    ``from_statuses`` is left alone (its state is returned). Locks the row."""
    with transaction.atomic():
        row = kind.lock(row_id)
        if row.status not in tuple(from_statuses):
            return row.status
        if row.status == PENDING:
            prepaid_move(kind, row, DELIVERING, attempt=row.attempts)
        prepaid_move(kind, row, FAILED, reason=reason)
        row.error_code = reason[:40]
        fields = ["status", "error_code", "updated_at"]
        if isinstance(row, BulkRow):  # numbers its releases: it may fail again after a retry
            row.failures += 1
            fields.append("failures")
        if isinstance(row, SponsoredGrant):
            row.maybe_applied = False
            fields.append("maybe_applied")
        row.save(update_fields=fields)
        prepaid_release(bill=kind.bill(row))
    return FAILED
