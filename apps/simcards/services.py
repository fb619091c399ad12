"""Number-pool writes: holding a number for a buyer, selling it, releasing it, recording activation.

Every state change runs under the number's row lock (``apps.simcards.locks``) and goes through
``audited_transition``; the pool's one row per number (unique ``msisdn``) is what makes two
buyers unable to get the same number. Locks are taken in number order, after the caller's
cart or order row (the global order: user → cart → order → stock → SIM numbers → payment →
ledger; docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.selectors import real_name_matches
from apps.accounts.validators import mask_id_number, normalize_id_number, normalize_real_name
from apps.carrier.identity import identity_verify
from apps.core.audit import audited_transition
from apps.core.crypto import encrypt_text, keyed_hash
from apps.core.errors import Conflict
from apps.core.locks import advisory_xact_lock
from apps.simcards.errors import (
    HoldExpired,
    IdNumberLimitReached,
    NumberNotFound,
    NumberOnYourOrder,
    NumberTaken,
    RealNameMismatch,
    SimOwnerNotAccountHolder,
    TooManyHolds,
)
from apps.simcards.locks import (
    number_lock,
    numbers_lock,
    numbers_lock_held_for,
    numbers_lock_lapsed_holds,
    numbers_lock_sold_to_lines,
)
from apps.simcards.models import SimNumber

Status = SimNumber.Status
CART_HOLD_SECONDS = 15 * 60
MAX_CART_HOLDS = 3


@dataclass(frozen=True)
class HoldView:
    msisdn: str
    held_until: datetime
    premium_fen: int


@dataclass(frozen=True)
class VerifiedOwner:
    """A real-name identity the register confirmed, ready to record on the numbers sold to it."""

    name: str
    id_number_encrypted: str
    id_number_hash: str
    id_number_masked: str
    numbers_registered: int
    limit: int


def _move(number: SimNumber, status: str, *, actor_id: int | None = None, **after: object) -> None:
    audited_transition(
        number, status, object_type="sim_number", object_id=number.msisdn, actor_id=actor_id,
        refused=lambda details: Conflict(details=details), after=after,
    )  # fmt: skip


def _clear(number: SimNumber) -> None:
    number.holder_user_id = None
    number.held_until = None
    number.hold_reference = ""
    number.order_line_id = None
    number.owner_name = number.owner_id_encrypted = number.owner_id_hash = ""
    number.owner_id_masked = ""


def _locked(msisdn: str) -> SimNumber:
    number = number_lock(msisdn=msisdn)
    if number is None:
        raise NumberNotFound()
    return number


def number_hold(*, msisdn: str, user_id: int, now: datetime | None = None) -> HoldView:
    """Hold an available number for ``user_id`` while it sits in their cart (a few minutes).

    Holding it again extends the hold; a cart hold that lapsed may be taken by anyone. A user
    holds at most ``MAX_CART_HOLDS`` numbers in carts at once. Locks the number row (and an
    advisory lock per user for the count). Raises ``NumberTaken`` if someone else has it.
    """
    now = now or timezone.now()
    until = now + timedelta(seconds=CART_HOLD_SECONDS)
    with transaction.atomic():
        advisory_xact_lock("sim-holds", str(user_id))
        number = _locked(msisdn)
        mine = number.status == Status.HELD and number.holder_user_id == user_id
        if mine and number.hold_reference:
            raise NumberOnYourOrder(details={"order": number.hold_reference})
        if not mine:
            lapsed = (
                number.status == Status.HELD
                and not number.hold_reference
                and number.held_until is not None
                and number.held_until <= now
            )
            if number.status != Status.AVAILABLE and not lapsed:
                raise NumberTaken()
            holding = SimNumber.objects.filter(
                status=Status.HELD, holder_user_id=user_id, hold_reference="", held_until__gt=now
            ).count()
            if holding >= MAX_CART_HOLDS:
                raise TooManyHolds(details={"limit": MAX_CART_HOLDS})
            _move(number, Status.HELD, actor_id=user_id, user=user_id)
            number.holder_user_id = user_id
        number.held_until = until
        number.save()
    return HoldView(msisdn=number.msisdn, held_until=until, premium_fen=number.premium_fen)


def number_release(*, msisdn: str, user_id: int) -> bool:
    """Give back a number the user held in their cart (the line was removed). Locks the row;
    does nothing to a number that is not in this user's cart."""
    with transaction.atomic():
        number = number_lock(msisdn=msisdn)
        if (
            number is None
            or number.status != Status.HELD
            or number.holder_user_id != user_id
            or number.hold_reference
        ):
            return False
        _move(number, Status.AVAILABLE, actor_id=user_id, reason="removed from cart")
        _clear(number)
        number.save()
    return True


def owner_verify(*, name: str, id_number: str, user_id: int | None = None) -> VerifiedOwner:
    """Check a buyer's name and ID number with the national register through the carrier.

    Network call, made before any transaction. Raises ``InvalidIdNumber``/``InvalidRealName``
    for a malformed entry, ``SimOwnerNotAccountHolder`` when ``user_id``'s account has a
    verified real-name identity and this is not it (checked first, no network call),
    ``RealNameMismatch`` when the register disagrees, ``IdNumberLimitReached`` when the ID
    already holds the most numbers allowed, and ``CarrierUnavailable`` when the carrier does
    not answer.
    """
    name = normalize_real_name(name)
    id_number = normalize_id_number(id_number)
    if (
        user_id is not None
        and real_name_matches(
            user_id=user_id, name=name, id_number_hash=keyed_hash(id_number, purpose="id-number")
        )
        is False
    ):
        raise SimOwnerNotAccountHolder()
    check = identity_verify(name=name, id_number=id_number)
    if not check.matched:
        raise RealNameMismatch()
    if check.numbers_registered >= check.limit:
        raise IdNumberLimitReached(
            IdNumberLimitReached.default_message % {"limit": check.limit},
            details={"limit": check.limit, "registered": check.numbers_registered},
        )
    return VerifiedOwner(
        name=name, id_number_encrypted=encrypt_text(id_number),
        id_number_hash=keyed_hash(id_number, purpose="id-number"), id_number_masked=mask_id_number(id_number),
        numbers_registered=check.numbers_registered, limit=check.limit,
    )  # fmt: skip


def numbers_premium_lock(*, msisdns: list[str]) -> dict[str, int]:
    """Lock the numbers (in number order) and return each one's premium in fen, so that the
    checkout prices them as they are held. Runs in the caller's transaction, after stock."""
    rows = numbers_lock(msisdns=msisdns)
    return {number.msisdn: number.premium_fen for number in rows}


def numbers_hold_for_order(
    *,
    user_id: int,
    reference: str,
    until: datetime,
    lines: list[tuple[int, str]],
    owner: VerifiedOwner,
) -> int:
    """Move the user's cart holds onto an unpaid order (``reference``) until it is paid or closed.

    ``lines`` are ``(order line id, number)``. Runs in the checkout's transaction: locks an
    advisory lock per ID number (so two checkouts cannot both pass the per-ID limit) and then
    the numbers in order. A number whose cart hold lapsed is taken again if nobody else has it.
    Raises ``HoldExpired`` or ``IdNumberLimitReached``; the caller's transaction then writes nothing.
    """
    if not lines:
        return 0
    advisory_xact_lock("sim-owner", owner.id_number_hash)
    pending = SimNumber.objects.filter(
        Q(status=Status.SOLD) | (Q(status=Status.HELD) & ~Q(hold_reference="")),
        owner_id_hash=owner.id_number_hash,
    ).count()
    if owner.numbers_registered + pending + len(lines) > owner.limit:
        raise IdNumberLimitReached(
            IdNumberLimitReached.default_message % {"limit": owner.limit},
            details={"limit": owner.limit, "registered": owner.numbers_registered + pending},
        )
    for line_id, msisdn in sorted(lines, key=lambda pair: pair[1]):
        number = _locked(msisdn)
        ours = (
            number.status == Status.HELD
            and number.holder_user_id == user_id
            and not number.hold_reference
        )
        if not ours and number.status != Status.AVAILABLE:
            raise HoldExpired(details={"number": msisdn})
        _move(number, Status.HELD, actor_id=user_id, order=reference)
        number.holder_user_id = user_id
        number.held_until = until
        number.hold_reference = reference
        number.order_line_id = line_id
        number.owner_name = owner.name
        number.owner_id_encrypted = owner.id_number_encrypted
        number.owner_id_hash = owner.id_number_hash
        number.owner_id_masked = owner.id_number_masked
        number.save()
    return len(lines)


def numbers_sell(*, reference: str) -> int:
    """The order was paid: its held numbers are sold to their owner. Idempotent; runs in the
    paying transaction and locks the numbers in order."""
    sold = 0
    for number in numbers_lock_held_for(reference=reference):
        _move(number, Status.SOLD, order=reference)
        number.sold_at = timezone.now()
        number.held_until = None
        number.hold_reference = ""
        number.save()
        sold += 1
    return sold


def numbers_release_order(*, reference: str) -> int:
    """The unpaid order was cancelled or expired: its numbers go back to the pool. Idempotent;
    runs in the order's transaction and locks the numbers in order."""
    released = 0
    for number in numbers_lock_held_for(reference=reference):
        _move(number, Status.AVAILABLE, order=reference)
        _clear(number)
        number.save()
        released += 1
    return released


def number_release_for_order(*, line_ids: list[int], reference: str) -> int:
    """The paid order was refunded in full: its sold numbers not yet activated go back to the
    pool (an opened line stays active and is closed at the carrier, not here). Idempotent;
    runs in the order's transaction and locks the numbers in order."""
    released = 0
    for number in numbers_lock_sold_to_lines(line_ids=line_ids):
        _move(number, Status.AVAILABLE, order=reference, reason="order refunded")
        _clear(number)
        number.sold_at = None
        number.activation_attempts = 0
        number.activation_error = ""
        number.save()
        released += 1
    return released


def holds_release_lapsed(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Put back numbers whose cart hold lapsed (Celery beat). Order holds are left to the
    order's own expiry. Skips rows another transaction has locked."""
    now = now or timezone.now()
    released = 0
    with transaction.atomic():
        for number in numbers_lock_lapsed_holds(now=now, limit=limit):
            _move(number, Status.AVAILABLE, reason="hold lapsed")
            _clear(number)
            number.save()
            released += 1
    return released


def number_activation_started(*, msisdn: str) -> int:
    """Count an activation attempt before the carrier is called; returns the attempt number."""
    with transaction.atomic():
        number = _locked(msisdn)
        number.activation_attempts += 1
        number.activation_error = ""
        number.save(update_fields=["activation_attempts", "activation_error", "updated_at"])
    return number.activation_attempts


def number_activated(*, msisdn: str, request_id: str) -> bool:
    """The carrier opened the line. Idempotent: an active number stays as it is."""
    with transaction.atomic():
        number = _locked(msisdn)
        if number.status == Status.ACTIVE:
            return False
        _move(number, Status.ACTIVE, request_id=request_id)
        number.activated_at = timezone.now()
        number.activation_request_id = request_id
        number.activation_error = ""
        number.save()
    return True


def number_activation_failed(*, msisdn: str, error: str) -> None:
    """The carrier refused to open the line; operators see why and may retry."""
    with transaction.atomic():
        number = _locked(msisdn)
        if number.status == Status.SOLD:
            number.activation_error = error[:200]
            number.save(update_fields=["activation_error", "updated_at"])
