"""What providers report (notifications, queries) applied once to the intent, booked, handed to the owner."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.money import MAX_AMOUNT_FEN
from apps.ledger.services import LineSpec, journal_post
from apps.payments.errors import PaymentNotFound
from apps.payments.handlers import PaymentFact, purpose_handler
from apps.payments.locks import intent_lock, intent_owner_lock, owner_lock
from apps.payments.models import Method, PaymentEvent, PaymentIntent
from apps.payments.providers import PROVIDER_METHODS, get_provider
from apps.payments.providers.base import (
    Ack,
    InvalidNotification,
    ProviderRejected,
    ProviderUnavailable,
)
from apps.payments.services.common import Status, _move
from apps.payments.services.refunds import _refund_create

logger = logging.getLogger(__name__)


def notification_receive(
    *, method: str, body: bytes, headers: dict[str, str], form: dict[str, str]
) -> Ack:
    """Verify and apply one provider notification; any number of repeats has one effect.

    Refused (bad signature, stale timestamp...): stored unverified, nothing else happens,
    and the provider is told it failed. Verified: recorded under the provider's event id
    (a repeat stops here), then applied to the intent under its row lock.
    """
    if method not in PROVIDER_METHODS:
        raise PaymentNotFound()
    provider = get_provider(method)
    raw = body.decode("utf-8", errors="replace")[:20000]
    try:
        note = provider.verify_notification(body=body, headers=headers, form=form)
        if not 0 <= note.amount_fen <= MAX_AMOUNT_FEN:  # whatever the provider's format
            raise InvalidNotification("The notification's amount is not an amount of money.")
    except InvalidNotification as exc:
        PaymentEvent.objects.create(method=method, kind="notification", raw=raw, headers=headers,
                                    outcome=f"invalid:{exc.message}"[:64])  # fmt: skip
        return provider.ack(ok=False)
    # The outcome the event is inserted with: what the common case ends as, so that only
    # another outcome needs an UPDATE (all in one transaction: no one sees the guess).
    ours = note.merchant_id == provider.merchant_id
    expected = "succeeded" if note.status == "succeeded" else f"ignored:{note.status}"
    expected = expected[:64] if ours else ""
    with transaction.atomic():
        recorded = _event_insert(method=method, dedupe_key=f"{method}:{note.event_id}", raw=raw,
                                 headers=headers, public_id=note.out_trade_no,
                                 outcome=expected)  # fmt: skip
        if recorded is None:
            return provider.ack(ok=True)  # already applied
        event_id, owner_key = recorded
        if not ours:
            outcome = _review(note.out_trade_no, f"merchant {note.merchant_id} is not ours")
        elif note.status != "succeeded":
            outcome = f"ignored:{note.status}"  # a stale or out-of-order state
        else:
            outcome = _apply_paid(
                public_id=note.out_trade_no, amount_fen=note.amount_fen, currency=note.currency,
                provider_trade_no=note.provider_trade_no, paid_at=note.paid_at,
                owner_key=owner_key, owner_key_read=True,
            )  # fmt: skip
        # The event found its intent when it was inserted; only an outcome other than the
        # expected one is left to write.
        if outcome != expected:
            PaymentEvent.objects.filter(pk=event_id).update(outcome=outcome)
    return provider.ack(ok=True)


def intent_sync(*, public_id: str) -> str:
    """Ask the provider about a pending intent (a lost notification); apply a success once."""
    intent = PaymentIntent.objects.filter(public_id=public_id).first()
    if intent is None:
        raise PaymentNotFound()
    if intent.method not in PROVIDER_METHODS:
        return "not_applicable"
    state = get_provider(intent.method).query(out_trade_no=public_id, started_at=intent.created_at)
    if state.status != "succeeded":
        return state.status
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = PaymentEvent.objects.create(
                    intent=intent, method=intent.method, kind="query", verified=True,
                    dedupe_key=f"{intent.method}:query:{public_id}", raw=str(asdict(state)),
                )  # fmt: skip
        except IntegrityError:
            return "already_applied"
        outcome = _apply_paid(
            public_id=public_id, amount_fen=state.amount_fen, currency="CNY",
            provider_trade_no=state.provider_trade_no, paid_at=state.paid_at,
        )  # fmt: skip
        event.outcome = outcome
        event.save(update_fields=["outcome"])
    return outcome


def _event_insert(
    *,
    method: str,
    dedupe_key: str,
    raw: str,
    headers: dict[str, str],
    public_id: str,
    outcome: str = "",
) -> tuple[int, tuple[str, str] | None] | None:
    """Record a verified notification under its dedupe key, linked to the intent it names, in
    one statement that also returns the intent's purpose and reference (what its owner's lock
    needs): ``(event id, (purpose, reference) or None for an unknown intent)``, or ``None`` for
    a repeat. A concurrent repeat waits for the first one's transaction, then is a repeat."""
    intents, events = PaymentIntent._meta.db_table, PaymentEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH i AS (SELECT id, purpose, reference FROM {intents} WHERE public_id = %s)
                INSERT INTO {events}
                       (intent_id, method, kind, dedupe_key, verified, raw, headers, outcome,
                        created_at)
                VALUES ((SELECT id FROM i), %s, 'notification', %s, true, %s, %s::jsonb, %s, %s)
                ON CONFLICT DO NOTHING
             RETURNING id, (SELECT purpose FROM i), (SELECT reference FROM i)""",  # noqa: S608
            [public_id, method, dedupe_key, raw, json.dumps(headers), outcome, timezone.now()],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return int(row[0]), ((row[1], row[2]) if row[1] is not None else None)


def _review(public_id: str, reason: str) -> str:
    intent = intent_lock(public_id=public_id)
    if intent is None:
        return "unknown_intent"
    if intent.can_move_to(Status.REVIEW):
        _move(intent, Status.REVIEW, reason=reason)
        intent.review_reason = reason[:200]
        intent.save(update_fields=["status", "review_reason", "updated_at"])
    return "review"


def _apply_paid(
    *,
    public_id: str,
    amount_fen: int,
    currency: str,
    provider_trade_no: str,
    paid_at: datetime | None,
    owner_key: tuple[str, str] | None = None,
    owner_key_read: bool = False,
) -> str:
    """Mark the intent paid if the money matches it exactly; runs in the caller's transaction.

    Locks the owner's object first (via its handler), then the intent, then the ledger.
    ``owner_key_read``: the caller read the intent's ``owner_key`` (purpose, reference; None:
    no such intent) already; otherwise they are read here.
    """
    if not owner_key_read:
        owner = intent_owner_lock(public_id=public_id)
    elif owner_key is None:
        owner = None
    else:
        owner = owner_lock(purpose=owner_key[0], reference=owner_key[1])
    intent = intent_lock(public_id=public_id)
    if intent is None:
        return "unknown_intent"
    if intent.status in PaymentIntent.PAID:
        return "already_paid"
    if amount_fen != intent.amount_fen or currency != intent.currency:
        return _review(
            public_id,
            f"paid {amount_fen} {currency}, expected {intent.amount_fen} {intent.currency}",
        )
    return _succeed(intent, provider_trade_no=provider_trade_no, paid_at=paid_at or timezone.now(),
                    owner=owner)  # fmt: skip


def _succeed(
    intent: PaymentIntent, *, provider_trade_no: str, paid_at: datetime, owner: object = None
) -> str:
    """Record the money, book it, and hand it to the owner; refund it if the owner declines.
    ``owner``: what the owner's lock returned in this transaction (handed on in the fact)."""
    _move(intent, Status.SUCCEEDED, provider_trade_no=provider_trade_no)  # audited, not saved yet
    intent.provider_trade_no = provider_trade_no
    intent.paid_at = paid_at
    intent.updated_at = timezone.now()
    fact = PaymentFact(
        intent_id=intent.pk, public_id=intent.public_id, purpose=intent.purpose, reference=intent.reference,
        method=intent.method, amount_fen=intent.amount_fen, user_id=intent.user_id, owner=owner,
    )  # fmt: skip
    # The owner first (no handler reads the intent's own row), then one UPDATE that records the
    # money and, if the owner took it, "this intent settles the reference": another intent that
    # already settles it (of the same kind, money or points, as the two unique constraints say)
    # makes ``settles`` false. The owner's lock, taken first, serialises payments of one
    # reference; without one, a concurrent rival makes the unique constraint fail this whole
    # transaction instead, and the provider's retry then finds the rival settled.
    accepted = purpose_handler(intent.purpose).on_succeeded(fact)
    accepted = _record_paid(intent, settles=accepted)
    # The ledger last: its balance rows are the hottest locks, so they are held the shortest.
    reference = f"{intent.purpose}:{intent.reference}"
    if intent.method == Method.POINTS:
        # The points were spent in their own journal; book what they were worth in money.
        lines = [
            LineSpec("platform:points_expense", intent.amount_fen),
            LineSpec("platform:revenue", -intent.amount_fen),
        ]
    else:
        lines = [
            LineSpec(f"clearing:{intent.method}", intent.amount_fen),
            LineSpec("platform:revenue", -intent.amount_fen),
        ]
    journal_post(
        idempotency_key=f"payment:{intent.public_id}",
        kind="payment.succeeded",
        reference=reference,
        lines=lines,
    )
    if not accepted:
        _refund_create(intent, amount_fen=intent.amount_fen, reason="自动退款：订单已取消、过期或已支付",
                       request_key=f"auto:{intent.public_id}", requested_by=None, automatic=True)  # fmt: skip
        return "refunding"
    return "succeeded"


def _record_paid(intent: PaymentIntent, *, settles: bool) -> bool:
    """Write the intent's success (status, trade number, paid at) and, when ``settles``, mark
    it the reference's settling payment unless a rival settles it already; returns whether it
    settles. One statement."""
    points = intent.method == Method.POINTS
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {PaymentIntent._meta.db_table} AS i
                   SET status = %s, provider_trade_no = %s, paid_at = %s, updated_at = %s,
                       settles = %s AND NOT EXISTS (
                           SELECT 1 FROM {PaymentIntent._meta.db_table} AS r
                            WHERE r.purpose = i.purpose AND r.reference = i.reference
                              AND r.settles AND r.id <> i.id AND (r.method = %s) = %s)
                 WHERE i.id = %s
             RETURNING i.settles""",  # noqa: S608 - table names from the model, values bound
            [intent.status, intent.provider_trade_no, intent.paid_at, intent.updated_at, settles,
             Method.POINTS, points, intent.pk],
        )  # fmt: skip
        row = cursor.fetchone()
    intent.settles = bool(row and row[0])
    return intent.settles


def intents_sync_pending(*, older_than_seconds: int = 60, limit: int = 200) -> int:
    """Query the providers for intents still pending after a while (lost notifications)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        PaymentIntent.objects.filter(
            status=Status.PENDING, created_at__lt=cutoff, method__in=PROVIDER_METHODS
        )
        .order_by("created_at")
        .values_list("public_id", flat=True)[:limit]
    )
    for public_id in ids:
        try:
            intent_sync(public_id=public_id)
        except (ProviderUnavailable, ProviderRejected):
            logger.warning("could not query payment %s", public_id)
    return len(ids)
