"""Flash sales (秒杀): Redis counts the units down in one Lua script, the database keeps the truth.

A buyer's request (``flash_take``) runs the script against the sale's keys: it refuses a sale
that is not open, a buyer who already bought, a quantity over the limit and a sold-out sale
without touching the database, so a crowd of losers costs one Redis call each and the rest of
the site does not feel it. A winner gets unit *slots* (1..stock) popped from a list and records
them in one short transaction (``FlashClaim`` + ``FlashUnit`` rows, unique per sale and slot,
and one claim per buyer): even if Redis and the database disagree (a restart, a lost write),
the database can never hold more units than the stock, nor two claims of one buyer. The claim
is ``reserved``: the winner is answered at once and a worker places the order through the
ordinary checkout (orders' ``flash_order_place``), whose pricing hook binds the claim to the
order at the flash price (``ordered``). A claim whose order could not be placed, was not placed
within ``FLASH_ORDER_DEADLINE_SECONDS`` (``flash_claims_expire``) or closed unpaid is
``released`` once, under its row lock: its units are deleted and its slots go back on the list
after commit.

Redis keys, in one hash slot per sale (``{flash:<id>}``): ``:slots`` (free slots), ``:buyers``
(buyer → units), ``:primed`` (set once the two were built from the database; ``flash_prime``
rebuilds them from the database whenever it is missing, under an advisory lock).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.audit import audit_record, audited_transition
from apps.core.redis import get_redis
from apps.marketing.errors import (
    FlashClaimGone,
    FlashLimit,
    FlashNotOpen,
    FlashSaleNotFound,
    FlashSoldOut,
)
from apps.marketing.models import FlashClaim, FlashSale, FlashUnit

_TAKE = """
if redis.call('EXISTS', KEYS[3]) == 0 then return {-1} end
local qty = tonumber(ARGV[2])
if qty < 1 or qty > tonumber(ARGV[3]) then return {-3} end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {-2} end
if redis.call('LLEN', KEYS[1]) < qty then return {-4} end
local slots = redis.call('LPOP', KEYS[1], qty)
redis.call('HSET', KEYS[2], ARGV[1], qty)
local out = {1}
for i, s in ipairs(slots) do out[i + 1] = tonumber(s) end
return out
"""
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return 1
"""
_CACHE_SECONDS = 5.0
_cache: dict[int, tuple[float, FlashSaleInfo]] = {}


@dataclass(frozen=True)
class FlashSaleInfo:
    id: int
    name: str
    sku_id: int
    price_fen: int
    stock: int
    per_user_limit: int
    starts_at: datetime
    ends_at: datetime
    is_active: bool


def _keys(sale_id: int) -> list[str]:
    tag = f"{{flash:{sale_id}}}"
    return [f"{tag}:slots", f"{tag}:buyers", f"{tag}:primed"]


def flash_sale_info(*, sale_id: int) -> FlashSaleInfo:
    """The sale's terms, cached in the process for a few seconds (a crowd reads them once)."""
    if not 0 < sale_id < 2**63:  # a path's digits beyond a bigint
        raise FlashSaleNotFound()
    hit = _cache.get(sale_id)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    sale = FlashSale.objects.filter(pk=sale_id).first()
    if sale is None:
        raise FlashSaleNotFound()
    info = FlashSaleInfo(
        id=sale.pk, name=sale.name, sku_id=sale.sku_id, price_fen=sale.price_fen, stock=sale.stock,
        per_user_limit=sale.per_user_limit, starts_at=sale.starts_at, ends_at=sale.ends_at,
        is_active=sale.is_active,
    )  # fmt: skip
    _cache[sale_id] = (time.monotonic() + _CACHE_SECONDS, info)
    return info


def flash_prime(*, sale_id: int, force: bool = False) -> None:
    """Build the sale's Redis keys from the database (free slots, buyers); a no-op when they
    exist unless ``force`` (reconciliation after Redis lost data). Under an advisory lock per
    sale, so two primers do not interleave; the keys are replaced in one MULTI."""
    slots_key, buyers_key, primed_key = _keys(sale_id)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext('marketing.flash'), %s)", [sale_id]
            )
        client = get_redis()
        if client.exists(primed_key) and not force:
            return
        sale = FlashSale.objects.get(pk=sale_id)
        taken = set(FlashUnit.objects.filter(sale_id=sale_id).values_list("slot", flat=True))
        buyers = dict(
            FlashClaim.objects.filter(sale_id=sale_id)
            .exclude(status=FlashClaim.Status.RELEASED)
            .values_list("user_id", "quantity")
        )
        free = [slot for slot in range(1, sale.stock + 1) if slot not in taken]
        ttl = max(60, int((sale.ends_at - timezone.now()).total_seconds()) + 86_400)
        pipe = client.pipeline(transaction=True)
        pipe.delete(slots_key, buyers_key)
        if free:
            pipe.rpush(slots_key, *free)
        if buyers:
            pipe.hset(buyers_key, mapping={str(k): v for k, v in buyers.items()})
        pipe.set(primed_key, 1)
        for key in (slots_key, buyers_key, primed_key):
            pipe.expire(key, ttl)
        pipe.execute()


def flash_take(
    *, sale_id: int, user_id: int, quantity: int = 1, now: datetime | None = None
) -> int:
    """Take ``quantity`` units for the buyer: Redis first, then the claim in the database.
    Returns the claim's id. Refusals: ``FlashNotOpen``, ``FlashLimit`` (already bought, or more
    than the limit), ``FlashSoldOut``; nothing is written then. Locks nothing but the rows it
    inserts (the unique indexes are the truth)."""
    now = now or timezone.now()
    sale = flash_sale_info(sale_id=sale_id)
    if not sale.is_active or not (sale.starts_at <= now < sale.ends_at):
        raise FlashNotOpen()
    script = get_redis().register_script(_TAKE)
    keys = _keys(sale_id)
    result = script(keys=keys, args=[user_id, quantity, sale.per_user_limit])
    if result[0] == -1:
        flash_prime(sale_id=sale_id)
        result = script(keys=keys, args=[user_id, quantity, sale.per_user_limit])
    if result[0] in (-2, -3):
        raise FlashLimit(details={"per_user": sale.per_user_limit})
    if result[0] != 1:
        raise FlashSoldOut()
    slots = [int(s) for s in result[1:]]
    try:
        with transaction.atomic():
            claim = FlashClaim.objects.create(sale_id=sale_id, user_id=user_id, quantity=quantity)
            FlashUnit.objects.bulk_create(
                [FlashUnit(sale_id=sale_id, claim=claim, slot=s) for s in slots]
            )
            audit_record(action="flash_claim.reserved", object_type="flash_claim",
                         object_id=claim.pk, actor_id=user_id,
                         after={"sale_id": sale_id, "quantity": quantity, "slots": slots})  # fmt: skip
    except IntegrityError as exc:
        # Redis disagreed with the database: trust the database, rebuild Redis from it.
        get_redis().delete(keys[2])
        if "mk_flash_one_claim_each" in str(exc):
            raise FlashLimit() from exc
        raise FlashSoldOut() from exc
    return claim.pk


def _give_back_after_commit(sale_id: int, user_id: int, slots: list[int]) -> None:
    get_redis().register_script(_GIVE_BACK)(keys=_keys(sale_id), args=[user_id, *slots])


def _claim_refused(state: dict[str, object]) -> Exception:
    return FlashClaimGone(details=state)


def flash_claims_release(*, claims: list[FlashClaim], code: str) -> list[int]:
    """Release claims still holding units (their order closed unpaid, could not be placed, or
    was not placed in time): ``released`` with ``code``, units deleted, slots back to Redis
    after commit. In the caller's transaction, the claims locked by the caller; a claim already
    released or paid is skipped, so each is released once. Returns the released ids."""
    done: list[int] = []
    for claim in claims:
        if claim.status not in (FlashClaim.Status.RESERVED, FlashClaim.Status.ORDERED):
            continue
        slots = list(claim.units.values_list("slot", flat=True))
        claim.units.all().delete()
        audited_transition(claim, FlashClaim.Status.RELEASED, object_type="flash_claim",
                           object_id=claim.pk, refused=_claim_refused,
                           after={"code": code, "slots": slots})  # fmt: skip
        claim.release_code = code[:40]
        claim.save(update_fields=["status", "release_code"])
        transaction.on_commit(partial(_give_back_after_commit, claim.sale_id, claim.user_id, slots))
        done.append(claim.pk)
    return done


def flash_release(*, claim_id: int, code: str) -> bool:
    """A reserved claim whose order could not be placed: release its units (``code`` says
    why). Locks the claim; idempotent: False when it was not reserved any more (ordered,
    paid, or released already), and nothing moves."""
    with transaction.atomic():
        claims = list(
            FlashClaim.objects.select_for_update().filter(
                pk=claim_id, status=FlashClaim.Status.RESERVED
            )
        )
        return bool(flash_claims_release(claims=claims, code=code))


def flash_claims_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Release the reserved claims whose order was not placed within
    ``FLASH_ORDER_DEADLINE_SECONDS`` (the worker failed for good, or never ran): the unit is
    held for the winner for a bounded time. Claims are taken with ``SKIP LOCKED`` (one a
    checkout is binding is left to it; ``flash_bind`` refuses a claim released first).
    Returns how many were released."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.FLASH_ORDER_DEADLINE_SECONDS)
    with transaction.atomic():
        claims = list(
            FlashClaim.objects.select_for_update(skip_locked=True)
            .filter(status=FlashClaim.Status.RESERVED, created_at__lt=cutoff)
            .order_by("pk")[:limit]
        )
        return len(flash_claims_release(claims=claims, code="FLASH_ORDER_TIMEOUT"))


@dataclass(frozen=True)
class FlashClaimView:
    id: int
    sale_id: int
    user_id: int
    quantity: int
    status: str
    order_number: str
    release_code: str
    created_at: datetime


def _claim_view(claim: FlashClaim) -> FlashClaimView:
    return FlashClaimView(
        id=claim.pk, sale_id=claim.sale_id, user_id=claim.user_id, quantity=claim.quantity,
        status=claim.status, order_number=claim.order_number, release_code=claim.release_code,
        created_at=claim.created_at,
    )  # fmt: skip


def flash_claim_get(*, claim_id: int) -> FlashClaimView | None:
    claim = FlashClaim.objects.filter(pk=claim_id).first()
    return _claim_view(claim) if claim else None


def flash_claim_of(*, sale_id: int, user_id: int) -> FlashClaimView | None:
    """The buyer's latest claim of the sale (a live one, else the last released), or None."""
    if not 0 < sale_id < 2**63:  # a path's digits beyond a bigint
        return None
    claim = FlashClaim.objects.filter(sale_id=sale_id, user_id=user_id).order_by("-pk").first()
    return _claim_view(claim) if claim else None


def flash_claims_paid(*, order_number: str) -> None:
    """The order was paid: its claims keep their units for good. Locks them."""
    claims = FlashClaim.objects.select_for_update().filter(
        order_number=order_number, status=FlashClaim.Status.ORDERED
    )
    for claim in claims.order_by("pk"):
        audited_transition(claim, FlashClaim.Status.PAID, object_type="flash_claim",
                           object_id=claim.pk, refused=_claim_refused)  # fmt: skip
        claim.save(update_fields=["status"])


@dataclass(frozen=True)
class FlashBinding:
    """What the checkout's pricing hook took from the buyer's reserved flash claims."""

    line_discounts: dict[int, int]  # line key -> (unit price - flash price) * quantity
    by_sale: dict[int, tuple[str, int]]  # sale id -> (name, discount)


def flash_bind(
    *, user_id: int, order_number: str, lines: list[tuple[int, int, int, int]],
    claim_id: int | None = None,
) -> FlashBinding:  # fmt: skip
    """Bind the buyer's reserved claims to the order at the flash price. ``lines``: (key,
    sku id, unit price, quantity). A line of a flash SKU must order exactly the claim's units
    (orders' ``flash_order_place`` does). With ``claim_id`` (the worker placing a claim's
    order) that claim must still be reserved and bound, else ``FlashClaimGone`` (it was
    released, e.g. past its deadline): the order is never placed at the shop's price. Locks
    the buyer's reserved claims (the campaigns' place in the global order)."""
    skus = {sku for _k, sku, _p, _q in lines}
    claims = list(
        FlashClaim.objects.select_for_update(of=("self",)).select_related("sale")
        .filter(user_id=user_id, status=FlashClaim.Status.RESERVED, sale__sku_id__in=skus).order_by("pk")
    )  # fmt: skip
    if claim_id is not None:
        claims = [c for c in claims if c.pk == claim_id]
    discounts: dict[int, int] = {}
    by_sale: dict[int, tuple[str, int]] = {}
    for claim in claims:
        line = next(
            (ln for ln in lines if ln[1] == claim.sale.sku_id and ln[3] == claim.quantity), None
        )
        if line is None or line[0] in discounts:
            continue
        key, _sku, unit, qty = line
        discount = max(0, unit - claim.sale.price_fen) * qty
        discounts[key] = discount
        by_sale[claim.sale_id] = (claim.sale.name, discount)
        audited_transition(claim, FlashClaim.Status.ORDERED, object_type="flash_claim",
                           object_id=claim.pk, refused=_claim_refused,
                           after={"order_number": order_number})  # fmt: skip
        claim.order_number = order_number
        claim.save(update_fields=["status", "order_number"])
    if claim_id is not None and not by_sale:
        raise FlashClaimGone(details={"claim_id": claim_id})
    return FlashBinding(line_discounts=discounts, by_sale=by_sale)


def flash_sale_page(*, sale_id: int, now: datetime | None = None) -> tuple[FlashSaleInfo, int]:
    """The sale's terms and the units left (from Redis; the stock when not yet primed)."""
    sale = flash_sale_info(sale_id=sale_id)
    left = get_redis().llen(_keys(sale_id)[0]) if get_redis().exists(_keys(sale_id)[2]) else None
    if left is None:
        left = sale.stock - FlashUnit.objects.filter(sale_id=sale_id).count()
    return sale, int(left)
