"""Card batches: generating them, the one download of a print file, freezing, voiding, unlocking.

PINs exist in plain text only while a batch is generated. A printed batch's numbers and PINs
go into one CSV, kept Fernet-encrypted on the batch until a user with
``fulfilment.download_print_file`` takes it; the download empties it, so after that only card
numbers and states can be exported. An online batch has no print file: each PIN is kept
encrypted on its card for the buyer, and the batch's unsold cards are its SKU's stock.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.selectors import sku_delivery_spec
from apps.catalog.services import stock_on_hand_set
from apps.core.audit import audit_record, audited_transition
from apps.core.crypto import decrypt_text, encrypt_text, keyed_hash
from apps.core.money import format_fen, to_fen
from apps.fulfilment.cards.errors import (
    CardBatchInvalid,
    CardNotFound,
    CardStateConflict,
    PrintFileGone,
)
from apps.fulfilment.locks import card_batch_lock, card_lock_with_batch
from apps.fulfilment.models import Card, CardBatch

MAX_BATCH = 100_000
CARD_PRODUCT_TYPE = "e_card"  # the catalog's product type of cards sold online


def pin_hash(number: str, pin: str) -> str:
    return keyed_hash(f"{number}:{pin}", purpose="card-pin")


@dataclass(frozen=True)
class CardValue:
    """What one card is worth: airtime in fen, a data pack, or points."""

    kind: str
    face_value_fen: int = 0
    volume_mb: int = 0
    validity_days: int = 0
    points: int = 0

    @classmethod
    def of(cls, batch: CardBatch) -> CardValue:
        return cls(
            batch.kind, batch.face_value_fen, batch.volume_mb, batch.validity_days, batch.points
        )

    def describe(self) -> str:
        if self.kind == CardBatch.Kind.RECHARGE:
            return _("¥%(yuan)s airtime") % {"yuan": format_fen(self.face_value_fen, symbol="")}
        if self.kind == CardBatch.Kind.DATA:
            return _("%(mb)sMB data for %(days)s days") % {
                "mb": self.volume_mb,
                "days": self.validity_days,
            }
        return _("%(points)s points") % {"points": self.points}

    def check(self) -> None:
        ok = {
            CardBatch.Kind.RECHARGE: self.face_value_fen > 0,
            CardBatch.Kind.DATA: self.volume_mb > 0 and self.validity_days > 0,
            CardBatch.Kind.POINTS: self.points > 0,
        }.get(self.kind, False)  # type: ignore[call-overload]
        if not ok:
            raise CardBatchInvalid(details={"kind": self.kind})


def _volume_mb(volume: object) -> int:
    text = str(volume).upper().strip()
    if text.endswith("GB"):
        return int(Decimal(text[:-2]) * 1024)
    return int(Decimal(text.removesuffix("MB") or 0))


def card_value_for_sku(*, sku_id: int) -> CardValue:
    """The card a SKU of product type ``e_card`` sells, from the product's attributes."""
    spec = sku_delivery_spec(sku_id=sku_id)
    if spec is None or spec.type_code != CARD_PRODUCT_TYPE:
        raise CardBatchInvalid(details={"sku_id": sku_id})
    a = spec.attributes
    try:
        value = CardValue(
            kind=str(a.get("card_kind", "")),
            face_value_fen=to_fen(str(a.get("face_value", 0) or 0)),
            volume_mb=_volume_mb(a.get("volume", 0) or 0),
            validity_days=int(a.get("validity_days", 0) or 0),  # type: ignore[call-overload]
            points=int(a.get("points", 0) or 0),  # type: ignore[call-overload]
        )
    except (ValueError, InvalidOperation) as exc:  # MoneyError is a ValueError
        raise CardBatchInvalid(details={"sku_id": sku_id}) from exc
    value.check()
    return value


def card_batch_create(
    *,
    value: CardValue,
    quantity: int,
    expires_at: datetime,
    actor_id: int | None,
    sku_id: int | None = None,
) -> CardBatch:
    """Generate a batch: printed (no ``sku_id``) or for sale online as ``sku_id``.

    A printed batch's CSV of numbers and PINs is stored encrypted for one download
    (``card_batch_print_file_take``). An online batch must match its SKU's card; its PINs are
    stored encrypted per card, and the SKU's stock is set to the unsold cards (locks the SKU
    row after creating the batch). Not idempotent: every call makes new cards.
    """
    value.check()
    if not 1 <= quantity <= MAX_BATCH or expires_at <= timezone.now():
        raise CardBatchInvalid(details={"quantity": quantity, "expires_at": expires_at.isoformat()})
    if sku_id is not None and card_value_for_sku(sku_id=sku_id) != value:
        raise CardBatchInvalid(
            _("The batch's value differs from the SKU's card."), details={"sku_id": sku_id}
        )
    online = sku_id is not None
    rows: list[tuple[str, str]] = []
    with transaction.atomic():
        batch = CardBatch.objects.create(
            batch_no=f"CB{timezone.localtime():%y%m%d}{secrets.token_hex(4).upper()}", kind=value.kind,
            channel=CardBatch.Channel.ONLINE if online else CardBatch.Channel.PRINT,
            face_value_fen=value.face_value_fen, volume_mb=value.volume_mb, validity_days=value.validity_days,
            points=value.points, sku_id=sku_id, quantity=quantity, expires_at=expires_at, created_by=actor_id,
        )  # fmt: skip
        cards = []
        for _n in range(quantity):
            number = "".join(secrets.choice("0123456789") for _d in range(16))
            pin = "".join(secrets.choice("0123456789") for _d in range(18))
            rows.append((number, pin))
            cards.append(Card(batch=batch, number=number, pin_hash=pin_hash(number, pin),
                              pin_encrypted=encrypt_text(pin) if online else ""))  # fmt: skip
        Card.objects.bulk_create(cards, batch_size=2000)
        if not online:
            batch.print_file = encrypt_text(_print_csv(batch, rows))
            batch.save(update_fields=["print_file"])
        audit_record(action="cards.generated", object_type="card_batch", object_id=batch.batch_no, actor_id=actor_id,
                     after={"kind": value.kind, "value": value.describe(), "quantity": quantity,
                            "channel": batch.channel, "sku_id": sku_id})  # fmt: skip
        if sku_id is not None:
            card_stock_sync(sku_id=sku_id)
    return batch


def _print_csv(batch: CardBatch, rows: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["batch", "card_number", "pin", "kind", "value", "expires"])
    value = CardValue.of(batch).describe()
    expires = f"{timezone.localtime(batch.expires_at):%Y-%m-%d}"
    for number, pin in rows:
        writer.writerow([batch.batch_no, number, pin, batch.kind, value, expires])
    return "\ufeff" + out.getvalue()  # a BOM, so spreadsheet programs read the Chinese as UTF-8


def card_batch_print_file_take(*, batch_id: int, actor_id: int | None) -> tuple[str, bytes]:
    """Hand over a printed batch's file of numbers and PINs, once; returns (file name, bytes).

    Locks the batch row, empties the stored file and records who took it, in one transaction
    with the audit event; a second call raises ``PrintFileGone``. If the file is lost after
    this, the batch has to be voided and generated again: no copy of the PINs is left.
    The caller checks the ``fulfilment.download_print_file`` permission.
    """
    with transaction.atomic():
        batch = card_batch_lock(batch_id=batch_id)
        if batch is None:
            raise CardNotFound()
        if not batch.print_file:
            raise PrintFileGone(
                details={
                    "taken_at": batch.print_file_taken_at and batch.print_file_taken_at.isoformat()
                }
            )
        token = batch.print_file
        batch.print_file = ""
        batch.print_file_taken_at, batch.print_file_taken_by = timezone.now(), actor_id
        batch.save(update_fields=["print_file", "print_file_taken_at", "print_file_taken_by"])
        audit_record(action="cards.print_file_taken", object_type="card_batch", object_id=batch.batch_no,
                     actor_id=actor_id, after={"quantity": batch.quantity})  # fmt: skip
    return f"{batch.batch_no}-print.csv", decrypt_text(token).encode("utf-8")


def card_batch_numbers_csv(*, batch_id: int) -> tuple[str, bytes]:
    """Card numbers and states of a batch, never PINs; any number of times."""
    batch = CardBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise CardNotFound()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["batch", "card_number", "status", "sold_order", "sold_at", "redeemed_at"])
    rows = (
        Card.objects.filter(batch=batch)
        .order_by("id")
        .values_list("number", "status", "sold_order_number", "sold_at", "redeemed_at")
    )
    for number, status, order, sold_at, redeemed_at in rows.iterator(chunk_size=5000):
        writer.writerow([batch.batch_no, number, status, order, _when(sold_at),
                         _when(redeemed_at) if status == Card.Status.REDEEMED else ""])  # fmt: skip
    return f"{batch.batch_no}-numbers.csv", ("\ufeff" + out.getvalue()).encode("utf-8")


def _when(at: datetime | None) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M:%S}" if at else ""


def card_batch_set_status(*, batch_id: int, status: str, actor_id: int | None) -> None:
    """Freeze, unfreeze or void a batch (audited); cards already redeemed stay redeemed.

    Locks the batch row, then (online batches) its SKU row to recount the stock.
    """
    with transaction.atomic():
        batch = card_batch_lock(batch_id=batch_id)
        if batch is None:
            raise CardNotFound()
        audited_transition(batch, status, object_type="card_batch", object_id=batch.batch_no, action_prefix="cards",
                           actor_id=actor_id, refused=lambda details: CardStateConflict(details=details))  # fmt: skip
        batch.save(update_fields=["status"])
        if batch.sku_id is not None:
            card_stock_sync(sku_id=batch.sku_id)


# action → (the states it starts from, the state it leads to)
CARD_ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "freeze": (frozenset({Card.Status.ACTIVE, Card.Status.LOCKED}), Card.Status.FROZEN),
    "unfreeze": (frozenset({Card.Status.FROZEN}), Card.Status.ACTIVE),
    "unlock": (frozenset({Card.Status.LOCKED}), Card.Status.ACTIVE),
    "void": (
        frozenset({Card.Status.ACTIVE, Card.Status.LOCKED, Card.Status.FROZEN}),
        Card.Status.VOIDED,
    ),
}


def card_set_status(*, card_id: int, action: str, actor_id: int | None) -> str:
    """Freeze, unfreeze, unlock (after wrong PINs) or void one card, audited; returns its state.

    Locks the card row, then (an unsold card of an online batch) its SKU row for the stock.
    """
    if action not in CARD_ACTIONS:
        raise CardStateConflict(details={"action": action})
    sources, to = CARD_ACTIONS[action]
    with transaction.atomic():
        card = card_lock_with_batch(card_id=card_id)
        if card is None:
            raise CardNotFound()
        if card.status not in sources:
            raise CardStateConflict(details={"status": card.status, "action": action})
        audited_transition(card, to, object_type="card", object_id=card.number, action_prefix="card",
                           actor_id=actor_id, refused=lambda details: CardStateConflict(details=details),
                           after={"action": action})  # fmt: skip
        if action == "unlock":
            card.wrong_pins = 0
        card.save(update_fields=["status", "wrong_pins"])
        if card.batch.sku_id is not None and card.sold_line_id is None:
            card_stock_sync(sku_id=card.batch.sku_id)
    return card.status


def sellable_cards(*, sku_id: int) -> Q:
    """The cards that may be sold as ``sku_id`` now: unsold, active, in an active batch."""
    return Q(batch__sku_id=sku_id, batch__status=CardBatch.Status.ACTIVE, batch__expires_at__gt=timezone.now(),
             status=Card.Status.ACTIVE, sold_line_id__isnull=True)  # fmt: skip


def cards_stock_sync_all() -> int:
    """Beat: recount the stock of every SKU sold as cards (batches expire without an event)."""
    rows = CardBatch.objects.filter(sku_id__isnull=False).values_list("sku_id", flat=True)
    sku_ids = sorted({sku_id for sku_id in rows if sku_id is not None})
    for sku_id in sku_ids:
        card_stock_sync(sku_id=sku_id)
    return len(sku_ids)


def card_stock_sync(*, sku_id: int) -> int:
    """Make the SKU's stock on hand the number of its sellable cards (under the SKU row lock)."""
    return stock_on_hand_set(
        sku_id=sku_id,
        on_hand=lambda: Card.objects.filter(sellable_cards(sku_id=sku_id)).count(),
        reason="cards",
    )


@dataclass(frozen=True)
class BatchCounts:
    unsold: int
    sold: int
    redeemed: int
    frozen: int
    voided: int
    locked: int


def card_count_annotations() -> dict[str, Count]:
    """Per batch, its cards by state: unsold and sold (both still usable), redeemed, frozen,
    voided and locked; for ``CardBatch.objects.annotate``."""
    usable = Q(cards__status__in=[Card.Status.ACTIVE, Card.Status.REDEEMING])
    return {
        "n_unsold": Count("cards", filter=usable & Q(cards__sold_line_id__isnull=True)),
        "n_sold": Count("cards", filter=usable & Q(cards__sold_line_id__isnull=False)),
        "n_redeemed": Count("cards", filter=Q(cards__status=Card.Status.REDEEMED)),
        "n_frozen": Count("cards", filter=Q(cards__status=Card.Status.FROZEN)),
        "n_voided": Count("cards", filter=Q(cards__status=Card.Status.VOIDED)),
        "n_locked": Count("cards", filter=Q(cards__status=Card.Status.LOCKED)),
    }


def card_batch_counts(*, batch_ids: list[int]) -> dict[int, BatchCounts]:
    """Cards per batch by state (one grouped query)."""
    rows = CardBatch.objects.filter(pk__in=batch_ids).annotate(**card_count_annotations())
    return {
        b.pk: BatchCounts(b.n_unsold, b.n_sold, b.n_redeemed, b.n_frozen, b.n_voided, b.n_locked)  # type: ignore[attr-defined]
        for b in rows
    }
