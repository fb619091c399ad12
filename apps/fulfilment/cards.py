"""Recharge cards: operators generate batches (PINs shown once, kept hashed), freeze or void
them; anyone redeems a card into airtime for any China Mobile number, once.

Redemption is guarded against guessing: a card locks after five wrong PINs, and each user and
each client address may try only a few PINs per hour. The top-up goes to the carrier under
the card's number as idempotency key, so a retried redemption cannot top up twice.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import provision_once
from apps.core.audit import audit_record
from apps.core.crypto import keyed_hash
from apps.core.errors import Conflict, InvalidArgument, ServiceUnavailable, TooManyRequests
from apps.core.phone import normalize_phone
from apps.core.ratelimit import RateLimit, rate_hit_all
from apps.fulfilment.models import Card, CardBatch

MAX_WRONG_PINS = 5
STALE_SECONDS = 60  # a redemption in flight longer than this is taken as interrupted
TRIES_PER_HOUR = 10


class CardInvalid(InvalidArgument):
    code = "CARD_INVALID"
    default_message = _("The card number or PIN is wrong.")


class CardUnusable(Conflict):
    code = "CARD_UNUSABLE"
    default_message = _("This card has been used, frozen, voided, locked or has expired.")


class CardTriesExceeded(TooManyRequests):
    code = "CARD_TRIES_EXCEEDED"
    default_message = _("Too many card PINs tried. Try again later.")


def _pin_hash(number: str, pin: str) -> str:
    return keyed_hash(f"{number}:{pin}", purpose="card-pin")


def card_batch_create(
    *, face_value_fen: int, quantity: int, expires_at: datetime, actor_id: int | None
) -> tuple[CardBatch, bytes]:
    """Generate a batch; return it and the printable CSV of numbers and PINs (the only copy)."""
    if face_value_fen <= 0 or not 1 <= quantity <= 100_000:
        raise InvalidArgument(details={"face_value_fen": face_value_fen, "quantity": quantity})
    rows: list[tuple[str, str]] = []
    with transaction.atomic():
        batch = CardBatch.objects.create(
            batch_no=f"CB{timezone.localtime():%y%m%d}{secrets.token_hex(4).upper()}",
            face_value_fen=face_value_fen, quantity=quantity, expires_at=expires_at,
        )  # fmt: skip
        cards = []
        for _n in range(quantity):
            number = "".join(secrets.choice("0123456789") for _d in range(16))
            pin = "".join(secrets.choice("0123456789") for _d in range(18))
            rows.append((number, pin))
            cards.append(Card(batch=batch, number=number, pin_hash=_pin_hash(number, pin)))
        Card.objects.bulk_create(cards, batch_size=2000)
        audit_record(action="cards.generated", object_type="card_batch", object_id=batch.batch_no, actor_id=actor_id,
                     after={"face_value_fen": face_value_fen, "quantity": quantity})  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["batch", "card_number", "pin", "face_value_yuan", "expires"])
    for number, pin in rows:
        writer.writerow(
            [
                batch.batch_no,
                number,
                pin,
                face_value_fen // 100,
                f"{timezone.localtime(expires_at):%Y-%m-%d}",
            ]
        )
    return batch, out.getvalue().encode("utf-8-sig")


def card_batch_set_status(*, batch_id: int, status: str, actor_id: int | None) -> None:
    """Freeze, unfreeze or void a batch; cards already redeemed stay redeemed."""
    with transaction.atomic():
        batch = CardBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == CardBatch.Status.VOIDED or status not in CardBatch.Status.values:
            raise CardUnusable()
        before = batch.status
        batch.status = status
        batch.save(update_fields=["status"])
        audit_record(action=f"cards.{status}", object_type="card_batch", object_id=batch.batch_no, actor_id=actor_id,
                     before={"status": before}, after={"status": status})  # fmt: skip


@dataclass(frozen=True)
class Redeemed:
    card_number: str
    msisdn: str
    amount_fen: int


def card_redeem(
    *, number: str, pin: str, msisdn: str, user_id: int | None, client_ip: str | None
) -> Redeemed:
    """Top up ``msisdn`` with the card's face value, once.

    Checks, in order: the caller's PIN tries this hour (per user and per address), the card's
    state, the PIN (a wrong one is counted and committed; five lock the card). Then the card is
    marked ``redeeming`` and committed before the carrier is called; on success it is
    ``redeemed``. If the carrier cannot answer, the card stays ``redeeming`` and a repeat of the
    same redemption (or the beat) finishes it, under the same idempotency key.
    """
    msisdn = normalize_phone(msisdn)
    number = "".join(ch for ch in number if ch.isdigit())
    limits = [RateLimit(f"card:user:{user_id}", TRIES_PER_HOUR, 3600)] if user_id else []
    if client_ip:
        limits.append(RateLimit(f"card:ip:{client_ip}", TRIES_PER_HOUR, 3600))
    try:
        full, retry_after = rate_hit_all(limits)
    except redis.RedisError as exc:
        raise ServiceUnavailable() from exc
    if full is not None:
        raise CardTriesExceeded(retry_after=retry_after)
    wrong = False
    with transaction.atomic():
        card = (
            Card.objects.select_for_update().select_related("batch").filter(number=number).first()
        )
        if card is None:
            raise CardInvalid()
        usable = (
            card.batch.status == CardBatch.Status.ACTIVE and card.batch.expires_at > timezone.now()
        )
        interrupted = card.status == Card.Status.REDEEMING and (
            card.redeemed_at is None
            or card.redeemed_at < timezone.now() - timedelta(seconds=STALE_SECONDS)
        )
        if (
            interrupted
            and card.redeemed_msisdn == msisdn
            and secrets.compare_digest(card.pin_hash, _pin_hash(number, pin))
        ):
            card.redeemed_at = timezone.now()  # in flight again
            card.save(update_fields=["redeemed_at"])
        elif card.status != Card.Status.ACTIVE or not usable:
            raise CardUnusable()
        elif not secrets.compare_digest(card.pin_hash, _pin_hash(number, pin)):
            card.wrong_pins += 1
            if card.wrong_pins >= MAX_WRONG_PINS:
                card.status = Card.Status.LOCKED
            card.save(update_fields=["wrong_pins", "status"])
            wrong = True
        else:
            card.status = Card.Status.REDEEMING
            card.redeemed_msisdn, card.redeemed_by = msisdn, user_id
            card.redeemed_at = timezone.now()  # while redeeming: when the attempt started
            card.save(update_fields=["status", "redeemed_msisdn", "redeemed_by", "redeemed_at"])
            audit_record(action="card.redeeming", object_type="card", object_id=card.number, actor_id=user_id,
                         after={"msisdn": msisdn})  # fmt: skip
    if wrong:
        raise CardInvalid()
    amount = card.batch.face_value_fen
    try:
        provision_once(kind="recharges", body={"msisdn": msisdn, "amount_fen": amount, "reference": f"card:{card.number}"},
                       idempotency_key=f"card:{card.number}")  # fmt: skip
    except (CarrierRejected, SubscriberNotFound) as exc:
        with transaction.atomic():
            Card.objects.filter(pk=card.pk, status=Card.Status.REDEEMING).update(
                status=Card.Status.ACTIVE, redeemed_msisdn="", redeemed_by=None
            )
        raise CardUnusable(_("The carrier refused this number; the card was not used.")) from exc
    except CarrierUnavailable:
        # Outcome unknown: the same redemption may be repeated at once to finish it.
        Card.objects.filter(pk=card.pk, status=Card.Status.REDEEMING).update(redeemed_at=None)
        raise
    with transaction.atomic():
        Card.objects.filter(pk=card.pk, status=Card.Status.REDEEMING).update(
            status=Card.Status.REDEEMED, redeemed_at=timezone.now()
        )
        audit_record(action="card.redeemed", object_type="card", object_id=card.number, actor_id=user_id,
                     after={"msisdn": msisdn, "amount_fen": amount})  # fmt: skip
    return Redeemed(card_number=card.number, msisdn=msisdn, amount_fen=amount)
