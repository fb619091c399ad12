"""Row locks of the payments app: named helpers, each taking its rows in primary-key order.

The one global lock order every path of the platform follows (a path may skip a level but never
goes back up one; docs/architecture.md, "Transactions and locks"):

    user → cart → order (the payment's owner) → stock → SIM numbers
         → payment intent → refund → ledger balances

Payments sits below its owners, so a payments path that must lock the owner (applying a success,
completing a refund) asks the purpose's handler to lock it first (``owner_lock``), then the
intents, then the refunds; the ledger locks its balance rows last, inside ``journal_post``.
Callers hold a transaction open; nothing here makes a network call.
"""

from __future__ import annotations

from apps.payments.handlers import purpose_handler
from apps.payments.models import PaymentIntent, Refund


def owner_lock(*, purpose: str, reference: str) -> object:
    """Lock the payment's owner (e.g. the order) through its handler; a no-op if it has none.
    Returns what the handler's lock returned (the owner's locked row, opaque here)."""
    lock = purpose_handler(purpose).lock
    return lock(reference) if lock is not None else None


def intent_owner_lock(*, public_id: str = "", intent_id: int | None = None) -> object:
    """Lock the owner of the intent named by ``public_id`` or ``intent_id`` (read unlocked:
    purpose and reference never change); returns what ``owner_lock`` returned."""
    qs = (
        PaymentIntent.objects.filter(pk=intent_id)
        if intent_id
        else PaymentIntent.objects.filter(public_id=public_id)
    )
    found = qs.values_list("purpose", "reference").first()
    if found is None:
        return None
    return owner_lock(purpose=found[0], reference=found[1])


def intent_lock(*, public_id: str = "", intent_id: int | None = None) -> PaymentIntent | None:
    """Lock one intent by its public id or its pk; None if there is none."""
    qs = PaymentIntent.objects.select_for_update()
    if intent_id is not None:
        return qs.filter(pk=intent_id).first()
    return qs.filter(public_id=public_id).first()


def intents_lock_for(
    *, purpose: str, reference: str, settles: bool | None = None
) -> list[PaymentIntent]:
    """Lock every intent of a reference, in pk order."""
    qs = PaymentIntent.objects.select_for_update().filter(purpose=purpose, reference=reference)
    if settles is not None:
        qs = qs.filter(settles=settles)
    return list(qs.order_by("pk"))


def refund_lock(*, refund_id: int) -> Refund | None:
    """Lock a refund's intent, then the refund (the global order: intent before refund)."""
    intent_id = Refund.objects.filter(pk=refund_id).values_list("intent_id", flat=True).first()
    if intent_id is None:
        return None
    intent_lock(intent_id=intent_id)
    return (
        Refund.objects.select_for_update(of=("self",))
        .select_related("intent")
        .filter(pk=refund_id)
        .first()
    )
