"""Deliveries by the chunk: claim many ready top-ups and data packs with one statement, send
them to the carrier concurrently, record the results with one statement per state change.

The guarantees are ``job_deliver``'s, kept by the same means:

- **Exactly once at the carrier**: every unit still carries ``fulfilment:<job>:<unit>``
  (``provision_once``: one try, and on a lost answer the carrier is asked by key before
  anything is sent again). Two drainers never claim the same job (``FOR UPDATE SKIP LOCKED``
  inside the claiming UPDATE, which moves the jobs to ``delivering`` in the same statement).
- **A crash mid-chunk** (after the claim, before the results) leaves the jobs ``delivering``;
  ``jobs_retry_stuck`` runs each again through ``job_deliver`` after a minute, under the same
  keys, so a top-up the carrier applied is answered with its first result, never applied twice.
- **Retries with backoff**: a job whose carrier call stays unknown (``CarrierUnavailable``)
  keeps ``delivering`` with its ``last_error`` and ``maybe_applied``, and goes on as a single
  ``job_deliver_task`` with the task's own backoff and give-up (``job_give_up``).
- **Refusals** (``CarrierRejected``, ``SubscriberNotFound``, an undeliverable line) fail and
  refund the job through ``job_fail``, one by one (rare).
- **The same states and events**: ``delivery.delivering`` / ``delivery.delivered`` audit
  events, the order line's summary (``order_line.<state>``), ``fulfilment.delivery_ended`` per
  line and the recipient's SMS, only batched: one UPDATE per state change for the chunk, the
  audit events in the transaction's one multi-row INSERT, the events in one INSERT, the SMS
  rows in one INSERT and one task that sends them concurrently.

No transaction is open during the carrier calls (``carrier.concurrent.carrier_map``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.carrier.concurrent import carrier_map
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import sms_queue_many
from apps.core import outbox
from apps.core.audit import audit_record
from apps.fulfilment.delivery import LineUndeliverable, delivered_text, unit_deliver
from apps.fulfilment.models import Delivery
from apps.orders.services import order_lines_delivery_record

logger = logging.getLogger(__name__)
Status = Delivery.Status
Kind = Delivery.Kind
# The kinds a chunk carries: one BOSS call per unit, no database work during the call.
DRAIN_KINDS = (Kind.AIRTIME, Kind.DATA_PACK)


def chunk_size() -> int:
    return max(1, int(getattr(settings, "FULFILMENT_DRAIN_CHUNK", 50)))


@dataclass
class Outcome:
    """What the carrier calls of one job came to (filled by a pool thread, no database)."""

    job: Delivery
    last: dict[str, object] = field(default_factory=dict)  # the fields the applied units set
    unavailable: CarrierUnavailable | None = None
    refused: str = ""


def jobs_claim(*, first: int | None = None, limit: int | None = None) -> list[Delivery]:
    """Move up to ``limit`` pending top-ups and data packs to ``delivering`` (``first``, when
    it is one of them, before the others) and return them: one UPDATE that locks them
    ``SKIP LOCKED``, so concurrent drainers take disjoint chunks; their order lines and audit
    events in the same transaction."""
    table = Delivery._meta.db_table
    sql = (
        # maybe_applied from the claim on: if this drain dies (or fails recording) after its
        # calls went out, the sweep asks the carrier by key before it could refund a top-up
        # the carrier applied; recording a delivery clears it.
        f"UPDATE {table} AS d SET status = %s, attempts = d.attempts + 1, updated_at = %s, "  # noqa: S608
        "maybe_applied = true "
        f"WHERE d.id IN (SELECT id FROM {table} WHERE status = %s AND kind = ANY(%s) "
        "ORDER BY (id = %s) DESC, id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING d.*"
    )
    params = [Status.DELIVERING, timezone.now(), Status.PENDING, list(DRAIN_KINDS), first or 0,
              limit or chunk_size()]  # fmt: skip
    with transaction.atomic():
        jobs = sorted(Delivery.objects.raw(sql, params), key=lambda job: job.pk)
        for job in jobs:
            audit_record(
                action="delivery.delivering", object_type="delivery", object_id=job.pk,
                before={"status": Status.PENDING},
                after={"status": Status.DELIVERING, "order": job.order_number,
                       "line": str(job.line_id), "attempt": str(job.attempts), "chunk": "1"},
            )  # fmt: skip
        order_lines_delivery_record(
            line_ids=[job.line_id for job in jobs if job.line_id > 0], state=Status.DELIVERING
        )
    return jobs


def _send(job: Delivery) -> Outcome:
    """Apply the job's remaining units, one after the other (in a pool thread)."""
    outcome = Outcome(job=job)
    for unit in range(job.delivered_units, job.units):
        try:
            request_id, _ = unit_deliver(job, unit)
        except CarrierUnavailable as exc:
            outcome.unavailable = exc
            return outcome
        except LineUndeliverable as exc:
            outcome.refused = exc.reason
            return outcome
        except (CarrierRejected, SubscriberNotFound) as exc:
            outcome.refused = getattr(exc, "carrier_code", "") or exc.code
            return outcome
        except Exception as exc:  # one job's surprise must not sink the chunk
            # Unknown, so it may have been applied: the single path asks by key first.
            logger.exception("delivery %s: unexpected error at the carrier", job.pk)
            outcome.unavailable = CarrierUnavailable(
                details={"last_error": type(exc).__name__}, maybe_applied=True
            )
            return outcome
        outcome.last = {"delivered_units": unit + 1, "request_id": request_id}
    return outcome


def jobs_drain(*, first: int | None = None, limit: int | None = None) -> dict[int, str]:
    """Claim a chunk, send it, record it; returns each claimed job's id and where it went
    (``delivered``, ``refunded``, or ``delivering`` when it went to the single retry path)."""
    jobs = jobs_claim(first=first, limit=limit)
    if not jobs:
        return {}
    outcomes = carrier_map(_send, jobs)
    # The jobs whose outcome is unknown first: they are handed to the single path's retries
    # before anything else of the chunk can fail.
    waiting = [o for o in outcomes if o.unavailable]
    if waiting:
        _record_unavailable(waiting)
    result = _record_delivered([o for o in outcomes if not o.unavailable and not o.refused])
    result.update({o.job.pk: Status.DELIVERING for o in waiting})
    for outcome in outcomes:
        if outcome.refused:
            from apps.fulfilment.services import job_fail

            try:
                _record_units([outcome])
                result[outcome.job.pk] = job_fail(job_id=outcome.job.pk, reason=outcome.refused)
            except Exception:  # one refund's failure must not stop the others; the sweep retries
                logger.exception(
                    "delivery %s: recording the carrier's refusal failed", outcome.job.pk
                )
                result[outcome.job.pk] = Status.DELIVERING
    return result


def _record_delivered(outcomes: list[Outcome]) -> dict[int, str]:
    """One transaction: the jobs to delivered (one UPDATE), their lines (one UPDATE), the audit
    events (one INSERT at commit), ``delivery_ended`` (one INSERT) and the SMS (one INSERT, one
    task)."""
    if not outcomes:
        return {}
    table = Delivery._meta.db_table
    now = timezone.now()
    rows = {o.job.pk: o for o in outcomes}
    ids = sorted(rows)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET status = %s, delivered_units = v.units, "  # noqa: S608
            "carrier_request_id = CASE WHEN v.rid = '' THEN d.carrier_request_id ELSE v.rid END, "
            "maybe_applied = false, last_error = '', delivered_at = %s, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS v(id, units, rid) "
            "WHERE d.id = v.id AND d.status = %s RETURNING d.id",
            [Status.DELIVERED, now, now, ids,
             [int(rows[i].last.get("delivered_units", rows[i].job.units)) for i in ids],  # type: ignore[call-overload]
             [str(rows[i].last.get("request_id") or "") for i in ids], Status.DELIVERING],
        )  # fmt: skip
        moved = sorted(row[0] for row in cursor.fetchall())
        for job_id in moved:
            job = rows[job_id].job
            audit_record(
                action="delivery.delivered", object_type="delivery", object_id=job_id,
                before={"status": Status.DELIVERING},
                after={"status": Status.DELIVERED, "order": job.order_number,
                       "line": str(job.line_id), "chunk": "1"},
            )  # fmt: skip
        lines = [rows[i].job for i in moved if rows[i].job.line_id > 0]
        order_lines_delivery_record(line_ids=[job.line_id for job in lines], state=Status.DELIVERED)
        if lines:
            outbox.publish_many(
                "fulfilment.delivery_ended",
                [{"number": job.order_number, "line_id": job.line_id} for job in lines],
            )
        texts = []
        for job_id in moved:
            job = rows[job_id].job
            _apply(job, rows[job_id].last)
            texts.append((job.msisdn, delivered_text(job)))
        sms_queue_many(messages=texts, purpose="notice")
    # Moved by someone else meanwhile (an operator, a refund): the units applied are recorded.
    others = [i for i in ids if i not in set(moved)]
    _record_units([rows[i] for i in others])
    result: dict[int, str] = dict.fromkeys(moved, str(Status.DELIVERED))
    result.update(Delivery.objects.filter(pk__in=others).values_list("pk", "status"))
    return result


def _apply(job: Delivery, last: dict[str, object]) -> None:
    if "delivered_units" in last:
        job.delivered_units = int(last["delivered_units"])  # type: ignore[call-overload]
    if last.get("request_id"):
        job.carrier_request_id = str(last["request_id"])


def _record_units(outcomes: list[Outcome]) -> None:
    """Record the units applied before a job stopped (a later run resumes after them)."""
    for outcome in outcomes:
        if not outcome.last:
            continue
        fields: dict[str, object] = {"delivered_units": outcome.last["delivered_units"]}
        if outcome.last.get("request_id"):
            fields["carrier_request_id"] = outcome.last["request_id"]
        Delivery.objects.filter(pk=outcome.job.pk).update(updated_at=timezone.now(), **fields)


def _record_unavailable(outcomes: list[Outcome]) -> None:
    """The carrier could not say: record what is known and hand each job to the single
    ``job_deliver_task`` with its backoff (the sweep runs it too if the message is lost)."""
    from apps.fulfilment.tasks import job_deliver_task

    _record_units(outcomes)
    table = Delivery._meta.db_table
    ids = [o.job.pk for o in outcomes]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET last_error = v.code, "  # noqa: S608
            # This attempt's own answer replaces the claim's "maybe": whether the unit's
            # request may have reached the carrier (not when the breaker refused to send it).
            "maybe_applied = v.maybe, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::bool[]) AS v(id, code, maybe) "
            "WHERE d.id = v.id AND d.status = %s",
            [timezone.now(), ids, [o.unavailable.code for o in outcomes if o.unavailable],
             [bool(o.unavailable and o.unavailable.maybe_applied) for o in outcomes],
             Status.DELIVERING],
        )  # fmt: skip
        for job_id in ids:
            transaction.on_commit(
                lambda job_id=job_id: job_deliver_task.apply_async(  # type: ignore[misc]
                    args=[job_id], kwargs={"chunk": False}, countdown=10
                )
            )
