"""Row locks of the fulfilment app: named helpers, several rows always taken in primary-key order.

The one global lock order every path of the platform follows (a path may skip a level but never
goes back up one; docs/architecture.md, "Transactions and locks"):

    user → cart → order → stock → SIM numbers → payment intent → refund → ledger balances

Fulfilment's rows hang off the order and come after it, in this order among themselves:

    card batch → card → delivery → return request → shipment

(a card's batch is locked with the card; a return locks its line's delivery first; a parcel's
tracking update locks its deliveries, then the shipment). The card sale is the one scan that is
not in primary-key order: it takes the soonest-to-expire unsold cards ``SKIP LOCKED``, so it
never waits on another transaction's cards and cannot deadlock. Callers hold a transaction
open; nothing here makes a network call.
"""

from __future__ import annotations

from django.db.models import Q

from apps.fulfilment.models import Card, CardBatch, Delivery, ReturnRequest, Shipment


def delivery_lock(*, delivery_id: int) -> Delivery:
    """Lock one delivery (``Delivery.DoesNotExist`` if there is none)."""
    return Delivery.objects.select_for_update().get(pk=delivery_id)


def deliveries_lock_lines(*, line_ids: list[int]) -> list[Delivery]:
    """Lock the deliveries of these order lines, in primary-key order."""
    return list(Delivery.objects.select_for_update().filter(line_id__in=line_ids).order_by("pk"))


def deliveries_lock_order(*, order_number: str) -> list[Delivery]:
    """Lock every delivery of one order, in primary-key order."""
    return list(
        Delivery.objects.select_for_update().filter(order_number=order_number).order_by("pk")
    )


def deliveries_lock_parcel(*, order_number: str, line_ids: list[int]) -> list[Delivery]:
    """Lock the order's deliveries of ``line_ids`` (a parcel's lines), in primary-key order."""
    return list(
        Delivery.objects.select_for_update()
        .filter(order_number=order_number, line_id__in=line_ids)
        .order_by("pk")
    )


def delivery_lock_line(
    *, line_id: int, order_number: str | None = None, user_id: int | None = None
) -> Delivery | None:
    """Lock the delivery of one order line (optionally only the buyer's, of that order)."""
    found = Delivery.objects.select_for_update()
    if order_number is not None:
        found = found.filter(order_number=order_number)
    found = found.filter(line_id=line_id)
    if user_id is not None:
        found = found.filter(user_id=user_id)
    return found.first()


def return_lock(*, return_id: int) -> ReturnRequest:
    """Lock one return (lock its line's delivery first: ``delivery_lock_line``)."""
    return ReturnRequest.objects.select_for_update().get(pk=return_id)


def shipment_lock(
    *, shipment_id: int | None = None, courier: str = "", tracking_number: str = ""
) -> Shipment:
    """Lock one shipment by its id or by its courier and tracking number
    (``Shipment.DoesNotExist`` if there is none)."""
    if shipment_id is not None:
        return Shipment.objects.select_for_update().get(pk=shipment_id)
    return Shipment.objects.select_for_update().get(
        courier=courier, tracking_number=tracking_number
    )


def card_batch_lock(*, batch_id: int) -> CardBatch | None:
    """Lock one card batch; None if there is none."""
    return CardBatch.objects.select_for_update().filter(pk=batch_id).first()


def card_lock(*, card_id: int) -> Card:
    """Lock one card (``Card.DoesNotExist`` if there is none)."""
    return Card.objects.select_for_update().get(pk=card_id)


def card_lock_with_batch(*, card_id: int | None = None, number: str = "") -> Card | None:
    """Lock one card, by id or number, and its batch row with it; None if there is none."""
    found = Card.objects.select_for_update().select_related("batch")
    if card_id is not None:
        return found.filter(pk=card_id).first()
    return found.filter(number=number).first()


def cards_pick_unlocked(*, sellable: Q, limit: int) -> list[tuple[int, str]]:
    """Lock up to ``limit`` cards matching ``sellable``, soonest to expire first, skipping cards
    another transaction holds (``FOR UPDATE OF card SKIP LOCKED``); returns (pk, number)."""
    return list(
        Card.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sellable)
        .order_by("batch__expires_at", "id")
        .values_list("pk", "number")[:limit]
    )


def cards_lock_for_lines(*, line_ids: list[int], statuses: list[str]) -> list[Card]:
    """Lock the cards sold to these order lines that are in ``statuses``, in primary-key order."""
    return list(
        Card.objects.select_for_update()
        .filter(sold_line_id__in=line_ids, status__in=statuses)
        .order_by("id")
    )
