"""Cards sold in the mall: taking unsold cards for a paid line, and showing each buyer their PINs.

A line of a card product (product type ``e_card``) takes cards from the online batches of its
SKU, soonest to expire first, with ``SELECT … FOR UPDATE SKIP LOCKED`` and a conditional
update, so two buyers never get the same card and nobody waits on another's cards. The SKU's
stock is the number of sellable cards (``card_stock_sync``), and paying commits the stock and
takes the cards in the same transaction, so the two stay equal; a line that still finds too
few (a batch frozen after checkout) fails and is refunded for the missing cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record, audited_transition
from apps.core.crypto import decrypt_text
from apps.fulfilment.cards.batches import CardValue, sellable_cards
from apps.fulfilment.cards.errors import CardNotFound, CardStateConflict
from apps.fulfilment.locks import cards_lock_for_lines, cards_pick_unlocked
from apps.fulfilment.models import Card


def cards_allocate(
    *, line_id: int, sku_id: int, units: int, user_id: int, order_number: str
) -> int:
    """Give the order line up to ``units`` unsold cards of its SKU; returns how many it holds.

    Idempotent per line (cards already given count). Runs in the caller's transaction (the
    one that marks the order paid, or the delivery job's); locks only the cards it takes,
    skipping cards another transaction holds.
    """
    with transaction.atomic():
        held = Card.objects.filter(sold_line_id=line_id).count()
        if held >= units:
            return held
        picked = cards_pick_unlocked(sellable=sellable_cards(sku_id=sku_id), limit=units - held)
        now = timezone.now()
        taken = Card.objects.filter(
            pk__in=[pk for pk, _n in picked], status=Card.Status.ACTIVE, sold_line_id__isnull=True
        ).update(
            sold_line_id=line_id, sold_user_id=user_id, sold_order_number=order_number, sold_at=now
        )
        for _pk, number in picked:
            audit_record(action="card.sold", object_type="card", object_id=number,
                         after={"order": order_number, "line": line_id})  # fmt: skip
    return held + taken


@dataclass(frozen=True)
class SoldCard:
    number: str
    masked_pin: str
    status: str
    status_label: str
    description: str
    expires_at: datetime
    line_id: int


def cards_for_order(*, order_number: str, user_id: int) -> list[SoldCard]:
    """The cards a user bought in an order, PINs masked (``card_pin_reveal`` shows one)."""
    rows = (
        Card.objects.filter(sold_order_number=order_number, sold_user_id=user_id)
        .select_related("batch")
        .order_by("sold_line_id", "id")
    )
    return [_sold(card) for card in rows]


def _sold(c: Card) -> SoldCard:
    return SoldCard(number=c.number, masked_pin="•" * 18, status=c.status,
                    status_label=str(Card.Status(c.status).label), description=CardValue.of(c.batch).describe(),
                    expires_at=c.batch.expires_at, line_id=c.sold_line_id or 0)  # fmt: skip


def card_pin_reveal(*, number: str, user_id: int) -> str:
    """The PIN of a card the user bought, decrypted; every reveal is audited.

    Anyone else (and any card not sold online) gets ``CardNotFound``, so that whether a card
    exists is not told to strangers.
    """
    with transaction.atomic():
        card = (
            Card.objects.filter(number=number, sold_user_id=user_id)
            .exclude(pin_encrypted="")
            .first()
        )
        if card is None:
            raise CardNotFound()
        audit_record(action="card.pin_revealed", object_type="card", object_id=card.number, actor_id=user_id,
                     after={"order": card.sold_order_number})  # fmt: skip
    return decrypt_text(card.pin_encrypted)


def cards_void_for_lines(*, order_number: str, line_ids: list[int]) -> int:
    """Void the unredeemed cards of order lines whose money went back (fulfilment's
    ``orders.lines_refunded`` handler; runs in its transaction). Locks those cards; cards
    already redeemed stay redeemed, and the audit trail shows finance which ones were."""
    rows = cards_lock_for_lines(
        line_ids=line_ids, statuses=[Card.Status.ACTIVE, Card.Status.LOCKED, Card.Status.FROZEN]
    )
    voided = 0
    for card in rows:
        audited_transition(card, Card.Status.VOIDED, object_type="card", object_id=card.number, action_prefix="card",
                           refused=lambda details: CardStateConflict(details=details),
                           after={"reason": "order_refunded", "order": order_number})  # fmt: skip
        card.save(update_fields=["status"])
        voided += 1
    return voided
