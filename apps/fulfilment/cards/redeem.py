"""Redeeming a card, once: airtime or data for any China Mobile number, points for the signed-in user.

Redemption is guarded against guessing without handing anyone a way to lock another's card:
each user and each client address may try only a few PINs per hour, and five on one card
number a day; without the right PIN an unknown, used, locked or frozen card all answer
``CARD_INVALID``. A redemption is usually two steps: a
quote (card number and PIN checked, the card's worth shown, a signed confirmation handed
out) and the redemption itself with that confirmation, which needs no PIN again.

Airtime and data go to the carrier under the card's number as idempotency key, after the card
is marked ``redeeming`` and committed, so a retried redemption cannot apply twice. Points are
credited in the ledger in the same transaction that marks the card ``redeemed``, under the
key ``points:grant:card:<number>``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import provision_once
from apps.core.audit import audited_transition
from apps.core.errors import ServiceUnavailable
from apps.core.phone import normalize_phone
from apps.core.ratelimit import RateLimit, rate_hit_all
from apps.fulfilment.cards.batches import CardValue, pin_hash
from apps.fulfilment.cards.errors import (
    CardConfirmationExpired,
    CardInvalid,
    CardNeedsAccount,
    CardStateConflict,
    CardTriesExceeded,
    CardUnusable,
)
from apps.fulfilment.locks import card_lock, card_lock_with_batch
from apps.fulfilment.models import Card, CardBatch
from apps.payments.services import points_grant
from apps.risk import services as risk

MAX_WRONG_PINS = 5
STALE_SECONDS = 60  # a redemption in flight longer than this is taken as interrupted
TRIES_PER_HOUR = 10
CONFIRM_SECONDS = 600
_SALT = "fulfilment.card-redeem"
CARRIER_PATHS: dict[str, str] = {
    CardBatch.Kind.RECHARGE: "recharges",
    CardBatch.Kind.DATA: "data-packs",
}


@dataclass(frozen=True)
class Quote:
    """What a card is worth and where it will go; ``confirm_token`` redeems it."""

    card_number: str
    kind: str
    value: CardValue
    description: str
    msisdn: str  # empty for point cards: they go to the signed-in user's account
    confirm_token: str


@dataclass(frozen=True)
class Redeemed:
    card_number: str
    kind: str
    description: str
    msisdn: str
    amount_fen: int
    volume_mb: int
    points: int


def _tries(number: str, user_id: int | None, client_ip: str | None) -> None:
    """Count one PIN try against the caller: per hour on any card, and per day on this card
    number (known or not), per user and per address. A guesser locks out only themselves."""
    limits = []
    if user_id:
        limits += [RateLimit(f"card:user:{user_id}", TRIES_PER_HOUR, 3600),
                   RateLimit(f"card:{number}:user:{user_id}", MAX_WRONG_PINS, 86400)]  # fmt: skip
    if client_ip:
        limits += [RateLimit(f"card:ip:{client_ip}", TRIES_PER_HOUR, 3600),
                   RateLimit(f"card:{number}:ip:{client_ip}", MAX_WRONG_PINS, 86400)]  # fmt: skip
    try:
        full, retry_after = rate_hit_all(limits)
    except redis.RedisError as exc:
        raise ServiceUnavailable() from exc
    if full is not None:
        raise CardTriesExceeded(retry_after=retry_after)


def _clean(number: str, msisdn: str) -> tuple[str, str]:
    return "".join(ch for ch in number if ch.isdigit()), normalize_phone(
        msisdn
    ) if msisdn.strip() else ""


def _card_move(card: Card, to: str, *, actor_id: int | None, **after: object) -> None:
    audited_transition(card, to, object_type="card", object_id=card.number, action_prefix="card", actor_id=actor_id,
                       refused=lambda details: CardStateConflict(details=details), after=after)  # fmt: skip


def _check(
    *, number: str, pin: str | None, msisdn: str, user_id: int | None, claim: bool
) -> tuple[Card | None, Redeemed | None]:
    """Lock the card and check it (``pin`` None: proven by a confirmation). Returns (None,
    None) for a wrong PIN, which is counted and committed (five lock the card). With ``claim``,
    a usable card moves to ``redeeming`` (airtime, data) or is redeemed at once (points)."""
    with transaction.atomic():
        card = card_lock_with_batch(number=number)
        if card is None:
            raise CardInvalid()
        batch = card.batch
        pin_ok = pin is None or secrets.compare_digest(card.pin_hash, pin_hash(number, pin))
        if not pin_ok:
            # Without the PIN an unknown, used, locked or frozen card answers the same; the
            # count is for operators; the guesser is stopped by ``_tries``, the card not locked.
            card.wrong_pins = min(card.wrong_pins + 1, 32767)
            card.save(update_fields=["wrong_pins"])
            return None, None
        usable = batch.status == CardBatch.Status.ACTIVE and batch.expires_at > timezone.now()
        target = "" if batch.kind == CardBatch.Kind.POINTS else msisdn
        interrupted = card.status == Card.Status.REDEEMING and (
            card.redeemed_at is None or card.redeemed_at < timezone.now() - timedelta(seconds=STALE_SECONDS)
        )  # fmt: skip
        if interrupted and card.redeemed_msisdn == target:
            if claim:
                card.redeemed_at = timezone.now()  # in flight again
                card.save(update_fields=["redeemed_at"])
            return card, None
        if card.status != Card.Status.ACTIVE or not usable:
            raise CardUnusable()
        if batch.kind == CardBatch.Kind.POINTS and user_id is None:
            raise CardNeedsAccount()
        if batch.kind != CardBatch.Kind.POINTS and not target:
            raise CardInvalid(
                _("Enter the mobile number to credit."), details={"msisdn": "required"}
            )
        if not claim:
            return card, None
        card.redeemed_msisdn, card.redeemed_by, card.redeemed_at = target, user_id, timezone.now()
        if batch.kind == CardBatch.Kind.POINTS:
            assert user_id is not None
            _card_move(card, Card.Status.REDEEMED, actor_id=user_id, points=batch.points)
            card.save(update_fields=["status", "redeemed_msisdn", "redeemed_by", "redeemed_at"])
            points_grant(user_id=user_id, points=batch.points, key=f"card:{card.number}",
                         reason=f"积分卡 {card.number}")  # fmt: skip
            return card, _done(card, target)
        _card_move(card, Card.Status.REDEEMING, actor_id=user_id, msisdn=target)
        card.save(update_fields=["status", "redeemed_msisdn", "redeemed_by", "redeemed_at"])
        return card, None


def _done(card: Card, msisdn: str) -> Redeemed:
    b = card.batch
    return Redeemed(card_number=card.number, kind=b.kind, description=CardValue.of(b).describe(), msisdn=msisdn,
                    amount_fen=b.face_value_fen, volume_mb=b.volume_mb, points=b.points)  # fmt: skip


def card_quote(
    *, number: str, pin: str, msisdn: str, user_id: int | None, client_ip: str | None
) -> Quote:
    """Check a card's number and PIN and say what it is worth, without using it.

    Counts as a PIN try (per user and address), and a wrong PIN counts towards the card's
    lock, exactly as a redemption does. The confirmation expires after ``CONFIRM_SECONDS`` and
    is bound to the user and the target number.
    """
    number, target = _clean(number, msisdn)
    _tries(number, user_id, client_ip)
    card, _none = _check(number=number, pin=pin, msisdn=target, user_id=user_id, claim=False)
    if card is None:
        raise CardInvalid()
    value = CardValue.of(card.batch)
    target = "" if value.kind == CardBatch.Kind.POINTS else target
    token = signing.dumps({"n": number, "m": target, "u": user_id}, salt=_SALT)
    return Quote(card_number=number, kind=value.kind, value=value, description=value.describe(),
                 msisdn=target, confirm_token=token)  # fmt: skip


def card_redeem_confirmed(*, confirm_token: str, user_id: int | None) -> Redeemed:
    """Redeem the card of a quote; refused if the confirmation expired or is another user's."""
    try:
        data = signing.loads(confirm_token, salt=_SALT, max_age=CONFIRM_SECONDS)
    except signing.BadSignature as exc:
        raise CardConfirmationExpired() from exc
    if data.get("u") != user_id:
        raise CardConfirmationExpired()
    return _redeem(number=data["n"], pin=None, msisdn=data["m"], user_id=user_id)


def card_redeem(
    *, number: str, pin: str, msisdn: str, user_id: int | None, client_ip: str | None
) -> Redeemed:
    """Redeem a card in one step (number, PIN and target), once.

    Checks, in order: the caller's PIN tries this hour (per user and per address), the card's
    state, the PIN (a wrong one is counted and committed; five lock the card). Airtime and
    data: the card is marked ``redeeming`` and committed before the carrier is called; on
    success it is ``redeemed``. If the carrier cannot answer, the card stays ``redeeming`` and a
    repeat of the same redemption finishes it, under the same idempotency key.
    """
    number, target = _clean(number, msisdn)
    _tries(number, user_id, client_ip)
    return _redeem(number=number, pin=pin, msisdn=target, user_id=user_id)


def _redeem(*, number: str, pin: str | None, msisdn: str, user_id: int | None) -> Redeemed:
    risk.enforce(
        event=risk.Event(
            kind=risk.Kind.CARD_REDEMPTION, user_id=user_id, msisdn=msisdn, product="card"
        )
    )
    card, done = _check(number=number, pin=pin, msisdn=msisdn, user_id=user_id, claim=True)
    if card is None:
        raise CardInvalid()
    if done is not None:
        return done
    batch = card.batch
    body: dict[str, object] = {"msisdn": msisdn, "reference": f"card:{card.number}"}
    if batch.kind == CardBatch.Kind.RECHARGE:
        body["amount_fen"] = batch.face_value_fen
    else:
        body.update(volume_mb=batch.volume_mb, validity_days=batch.validity_days)
    try:
        provision_once(
            kind=CARRIER_PATHS[batch.kind], body=body, idempotency_key=f"card:{card.number}"
        )
    except (CarrierRejected, SubscriberNotFound) as exc:
        _finish(
            card.pk,
            Card.Status.ACTIVE,
            user_id,
            reason=getattr(exc, "carrier_code", "") or exc.code,
        )
        raise CardUnusable(_("The carrier refused this number; the card was not used.")) from exc
    except CarrierUnavailable:
        # Outcome unknown: the same redemption may be repeated at once to finish it.
        Card.objects.filter(pk=card.pk, status=Card.Status.REDEEMING).update(redeemed_at=None)
        raise
    _finish(card.pk, Card.Status.REDEEMED, user_id, msisdn=msisdn)
    return _done(card, msisdn)


def _finish(card_id: int, to: str, user_id: int | None, **after: object) -> None:
    with transaction.atomic():
        card = card_lock(card_id=card_id)
        if card.status != Card.Status.REDEEMING:
            return  # a concurrent repeat finished it
        _card_move(card, to, actor_id=user_id, **after)
        if to == Card.Status.ACTIVE:
            card.redeemed_msisdn, card.redeemed_by, card.redeemed_at = "", None, None
        else:
            card.redeemed_at = timezone.now()
        card.save(update_fields=["status", "redeemed_msisdn", "redeemed_by", "redeemed_at"])


def cards_finish_interrupted(*, limit: int = 200) -> int:
    """Beat: finish redemptions left ``redeeming`` (the carrier did not answer and the user did
    not come back), under the card's own idempotency key, so a top-up the carrier did apply is
    recorded and one it did not is applied once. Returns how many were finished."""
    cutoff = timezone.now() - timedelta(seconds=STALE_SECONDS)
    rows = list(
        Card.objects.filter(status=Card.Status.REDEEMING)
        .filter(Q(redeemed_at__isnull=True) | Q(redeemed_at__lt=cutoff))
        .order_by("id")
        .values_list("number", "redeemed_msisdn", "redeemed_by")[:limit]
    )
    finished = 0
    for number, msisdn, user_id in rows:
        try:
            _redeem(number=number, pin=None, msisdn=msisdn, user_id=user_id)
            finished += 1
        except (CarrierUnavailable, CardUnusable, CardInvalid):
            continue  # still down (next run), or refused by the carrier (the card is active again)
    return finished
