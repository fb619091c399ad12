"""Cart writes: add, change, remove, and merge a guest's cart into the user's at sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.carrier.errors import SubscriberNotFound
from apps.carrier.services import operator_label, subscriber_lookup
from apps.catalog.errors import OutOfStock, PurchaseLimitExceeded, SkuNotFound
from apps.catalog.selectors import SkuForSale, sku_for_sale
from apps.core.errors import IdempotencyConflict
from apps.core.idempotency import idempotency_claim, idempotency_complete, request_fingerprint
from apps.core.models import IdempotencyRecord
from apps.core.phone import normalize_phone
from apps.orders.errors import (
    CartLineNotFound,
    InvalidQuantity,
    RecipientNotRechargeable,
    RecipientRequired,
)
from apps.orders.locks import cart_lock, carts_lock, guest_carts_lock_idle
from apps.orders.models import Cart, CartLine
from apps.simcards import services as simcards
from apps.simcards.errors import NumberRequired, SignInToChoose
from apps.simcards.selectors import SIM_TYPE_CODE

MAX_QUANTITY = 99


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in user, or a guest's session."""

    user_id: int | None = None
    session_key: str | None = None


def _cart_locked(owner: CartOwner, *, touch: bool = False) -> Cart:
    """The owner's cart, created on first use, its row locked (``touch``: and marked used)."""
    return cart_lock(user_id=owner.user_id, session_key=owner.session_key, touch=touch)


def _line_add(*, cart: Cart, sku_id: int, msisdn: str, quantity: int) -> tuple[int, int, int]:
    """Add ``quantity`` to the cart's line of this SKU and number, creating it: one
    ``INSERT … ON CONFLICT DO UPDATE`` (the cart row is locked). Returns the line's id, its
    new quantity, which the caller checks (a refusal rolls the add back), and how many other
    lines the cart holds (read under the cart's lock, so no add or removal runs meanwhile)."""
    table = connection.ops.quote_name(CartLine._meta.db_table)
    with connection.cursor() as cursor:
        # The count of the other lines in the statement's outer SELECT, not in RETURNING: Citus
        # refuses a subquery inside an INSERT (the cluster's tables are Citus-managed), and the
        # outer SELECT sees the cart as before the insert, which is what "others" asks.
        cursor.execute(
            f"WITH added AS (INSERT INTO {table} (cart_id, sku_id, recipient_msisdn, quantity, "  # noqa: S608
            "added_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (cart_id, sku_id, recipient_msisdn) "
            f"DO UPDATE SET quantity = {table}.quantity + EXCLUDED.quantity "
            "RETURNING id, cart_id, quantity) "
            f"SELECT added.id, added.quantity, (SELECT count(*) FROM {table} o "
            "WHERE o.cart_id = added.cart_id AND o.id <> added.id) FROM added",
            [cart.pk, sku_id, msisdn, quantity, timezone.now()],
        )
        line_id, total, others = cursor.fetchone()
    return int(line_id), int(total), int(others)


def recipient_check(*, raw: str) -> str:
    """A number that can be recharged here (ours and active), in E.164; network call."""
    msisdn = normalize_phone(raw)
    try:
        info = subscriber_lookup(msisdn=msisdn)
    except SubscriberNotFound as exc:
        raise RecipientNotRechargeable(
            _("This number is not a China Mobile number we can find.")
        ) from exc
    if not info.is_own_network:
        raise RecipientNotRechargeable(
            _(
                "This number belongs to another operator (%(operator)s) and cannot be recharged here."
            )
            % {"operator": operator_label(info.operator)}
        )
    if info.status != "active":
        raise RecipientNotRechargeable(_("This number is suspended or closed."))
    return msisdn


def _check_line(cart: Cart, sku: SkuForSale, quantity: int, *, replacing: int = 0) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity()
    if sku.type_code == SIM_TYPE_CODE and quantity != 1:
        raise InvalidQuantity()  # one card per chosen number
    if sku.stock_available is not None and quantity > sku.stock_available:
        raise OutOfStock(details={"available": {sku.sku_id: sku.stock_available}})
    if sku.per_user_limit is not None:
        in_cart = (
            CartLine.objects.filter(cart=cart, sku__product_id=sku.product_id).aggregate(
                n=Sum("quantity")
            )["n"]
            or 0
        )
        if in_cart - replacing + quantity > sku.per_user_limit:
            raise PurchaseLimitExceeded(details={"limit": sku.per_user_limit})


def _add_scope(owner: CartOwner) -> str:
    """Idempotency keys of cart adds are the cart owner's own: another cart's same key is
    another add."""
    return f"cart.add:u{owner.user_id}" if owner.user_id else f"cart.add:s{owner.session_key}"


def _add_replayed(*, scope: str, key: str, payload: dict[str, object]) -> int | None:
    """The line id of a finished add under ``key`` (a repeat), read before the carrier check so
    that a repeat needs no network call; None when the key is new or its add still running."""
    record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if record is None or record.response is None:
        return None
    if record.request_hash != request_fingerprint(payload):
        raise IdempotencyConflict()
    return int(record.response["line_id"])


class CartAdded(NamedTuple):
    line_id: int
    replayed: bool  # a repeat under its key: nothing was added
    # The cart as the add left it, when its line is the cart's only one (not a SIM card): the
    # line as written and its SKU for sale as read before the add, so the answer needs no read.
    only: tuple[CartLine, SkuForSale] | None = None


def cart_add(
    *,
    owner: CartOwner,
    sku_id: int,
    quantity: int = 1,
    recipient: str = "",
    sim_number: str = "",
    key: str = "",
) -> int:
    """Add ``quantity`` of a SKU (to the same line if it is there); returns the line id
    (``cart_add_once`` says whether it was a repeat)."""
    return cart_add_once(owner=owner, sku_id=sku_id, quantity=quantity, recipient=recipient,
                         sim_number=sim_number, key=key).line_id  # fmt: skip


def cart_add_once(
    *,
    owner: CartOwner,
    sku_id: int,
    quantity: int = 1,
    recipient: str = "",
    sim_number: str = "",
    key: str = "",
) -> CartAdded:
    """Add ``quantity`` of a SKU (to the same line if it is there).

    Electronic goods need a recipient number, checked with the carrier before anything is
    written (no network call inside the transaction). A SIM card needs a signed-in buyer and a
    number from the pool, which is held for them (the line carries it as its number). Locks the
    cart row, then the number.

    With ``key`` (the client's idempotency key) the add happens once: a repeat under the same
    key (its answer was lost, or a 503 came after the commit) returns the first add's line id
    and adds nothing; another add under it raises ``IdempotencyConflict``. The key is claimed
    in the add's transaction, after the cart's lock, so a racing twin waits and then reads the
    first result; a refusal or a rollback leaves the key free. Without a key (pages rendered
    before keys existed, clients that send none) every call adds.
    """
    scope = _add_scope(owner)
    payload: dict[str, object] = {"sku_id": sku_id, "quantity": quantity,
                                  "recipient": recipient.strip(), "sim_number": sim_number.strip()}  # fmt: skip
    if key:
        replayed = _add_replayed(scope=scope, key=key, payload=payload)
        if replayed is not None:
            return CartAdded(replayed, True)
    sku = sku_for_sale(sku_id=sku_id)
    msisdn = ""
    is_sim = sku.type_code == SIM_TYPE_CODE
    if sku.needs_recipient_number:
        if not recipient.strip():
            raise RecipientRequired()
        msisdn = recipient_check(raw=recipient)
    elif is_sim:
        if owner.user_id is None:
            raise SignInToChoose()
        if not sim_number.strip():
            raise NumberRequired()
        msisdn = normalize_phone(sim_number)
    if not key and not is_sim and sku.per_user_limit is None:
        # No key to claim and no limit across lines: the cart's touch and the line's upsert,
        # with its cap, in one statement outside a transaction. None: do it the long way.
        quick = _line_add_quick(owner, sku=sku, msisdn=msisdn, quantity=quantity)
        if quick is not None:
            return quick
    only: tuple[CartLine, SkuForSale] | None = None
    with transaction.atomic():
        cart = _cart_locked(owner, touch=True)
        if key:
            first = idempotency_claim(scope=scope, key=key, payload=payload)
            if first is not None:
                return CartAdded(int(first["line_id"]), True)
        if is_sim:
            line_id = _sim_line_add(
                cart=cart, sku=sku, msisdn=msisdn, quantity=quantity, user_id=owner.user_id
            )
        else:
            if not 1 <= quantity <= MAX_QUANTITY:
                raise InvalidQuantity()
            line_id, total, others = _line_add(
                cart=cart, sku_id=sku_id, msisdn=msisdn, quantity=quantity
            )
            # The new total against stock and limits; a refusal rolls the add back.
            _check_line(cart, sku, total, replacing=total)
            if not others:
                line = CartLine(
                    pk=line_id, cart=cart, sku_id=sku_id, recipient_msisdn=msisdn, quantity=total
                )
                only = (line, sku)
        if key:
            idempotency_complete(scope=scope, key=key, response={"line_id": line_id})
    return CartAdded(line_id, False, only)


def _line_add_quick(
    owner: CartOwner, *, sku: SkuForSale, msisdn: str, quantity: int
) -> CartAdded | None:
    """An add in ONE statement (autocommit): the cart's ``UPDATE … SET updated_at`` (its row
    lock, as ``cart_lock(touch=True)`` takes it), then the line's ``INSERT … ON CONFLICT DO
    UPDATE`` whose ``WHERE`` is the cap (``MAX_QUANTITY``, the stock as read), returning how
    many other lines the cart holds.

    ``None`` (nothing added; the caller's transaction does the add and gives the refusal its
    error): the owner has no cart yet, the cart row changed between the statement's snapshot
    and its lock (a concurrent add touched it: the lines read in the snapshot would be stale),
    or the new total is over the cap. A refused add may leave the cart's ``updated_at`` moved
    (it only dates the cart's last use). A checkout holding the cart is waited for; the line
    then lands in the cart it left, as with the transaction (``ON CONFLICT`` sees the latest
    rows)."""
    if not 1 <= quantity <= MAX_QUANTITY:
        return None
    if sku.stock_available is not None and quantity > sku.stock_available:
        return None
    cap = MAX_QUANTITY if sku.stock_available is None else min(MAX_QUANTITY, sku.stock_available)
    column, value = (
        ("user_id", owner.user_id) if owner.user_id else ("session_key", owner.session_key)
    )
    carts = connection.ops.quote_name(Cart._meta.db_table)
    lines = connection.ops.quote_name(CartLine._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH c AS (UPDATE {carts} AS c SET updated_at = %s FROM {carts} AS s "  # noqa: S608
            f"WHERE c.{connection.ops.quote_name(column)} = %s AND s.id = c.id "
            "AND s.updated_at = c.updated_at RETURNING c.id), "
            f"l AS (INSERT INTO {lines} AS t (cart_id, sku_id, recipient_msisdn, quantity, added_at) "
            "SELECT c.id, %s, %s, %s, %s FROM c "
            "ON CONFLICT (cart_id, sku_id, recipient_msisdn) "
            "DO UPDATE SET quantity = t.quantity + EXCLUDED.quantity "
            "WHERE t.quantity + EXCLUDED.quantity <= %s "
            # The other lines counted by the outer SELECT (the cart as before this statement),
            # not in RETURNING: Citus refuses a subquery inside an INSERT.
            "RETURNING t.id, t.cart_id, t.quantity) "
            f"SELECT c.id, l.id, l.quantity, (SELECT count(*) FROM {lines} o "
            "WHERE o.cart_id = l.cart_id AND o.id <> l.id) FROM c LEFT JOIN l ON true",
            [now, value, sku.sku_id, msisdn, quantity, now, cap],
        )
        row = cursor.fetchone()
    if row is None or row[1] is None:
        return None
    cart_id, line_id, total, others = (int(v) for v in row)
    only = None
    if not others:
        line = CartLine(pk=line_id, cart_id=cart_id, sku_id=sku.sku_id, recipient_msisdn=msisdn,
                        quantity=total)  # fmt: skip
        only = (line, sku)
    return CartAdded(line_id, False, only)


def _sim_line_add(
    *, cart: Cart, sku: SkuForSale, msisdn: str, quantity: int, user_id: int | None
) -> int:
    """A SIM card's line: its number held for the buyer (the same number again extends the
    hold and adds nothing). Cart row locked; locks the number."""
    assert user_id is not None
    line = CartLine.objects.filter(cart=cart, sku_id=sku.sku_id, recipient_msisdn=msisdn).first()
    simcards.number_hold(msisdn=msisdn, user_id=user_id)
    if line is not None:
        return line.pk
    _check_line(cart, sku, quantity)  # one card per number
    return CartLine.objects.create(
        cart=cart, sku_id=sku.sku_id, recipient_msisdn=msisdn, quantity=quantity
    ).pk


def cart_line_set_quantity(*, owner: CartOwner, line_id: int, quantity: int) -> None:
    """Change a line's quantity (0 removes it). Locks the cart row."""
    with transaction.atomic():
        cart = _cart_locked(owner)
        line = CartLine.objects.filter(cart=cart, pk=line_id).first()
        if line is None:
            raise CartLineNotFound()
        if quantity == 0:
            _release_number(owner, line)
            line.delete()
            return
        _check_line(cart, sku_for_sale(sku_id=line.sku_id), quantity, replacing=line.quantity)
        line.quantity = quantity
        line.save(update_fields=["quantity"])


def _release_number(owner: CartOwner, line: CartLine) -> None:
    """A removed line gives back the pool number held for it (a no-op for other numbers)."""
    if owner.user_id and line.recipient_msisdn:
        simcards.number_release(msisdn=line.recipient_msisdn, user_id=owner.user_id)


def cart_line_remove(*, owner: CartOwner, line_id: int) -> None:
    """Remove a line; a SIM line's number goes back to the pool. Locks the cart, then the number."""
    with transaction.atomic():
        cart = _cart_locked(owner)
        line = CartLine.objects.filter(cart=cart, pk=line_id).first()
        if line is None:
            raise CartLineNotFound()
        _release_number(owner, line)
        line.delete()


def cart_merge(*, session_key: str, user_id: int) -> int:
    """Move a guest's lines into the user's cart at sign-in; returns how many lines moved.

    Quantities of the same line add up, capped by stock and purchase limits (a line that
    cannot fit keeps what fits). The guest cart is deleted. Locks both carts in pk order.
    """
    guest_id = Cart.objects.filter(session_key=session_key).values_list("pk", flat=True).first()
    if guest_id is None:
        return 0
    moved = 0
    with transaction.atomic():
        cart_id = Cart.objects.get_or_create(user_id=user_id)[0].pk
        locked = {c.pk: c for c in carts_lock(cart_ids=[cart_id, guest_id])}
        cart, guest = locked[cart_id], locked.get(guest_id)
        if guest is None:
            return 0
        for line in CartLine.objects.filter(cart=guest).order_by("id"):
            try:
                sku = sku_for_sale(sku_id=line.sku_id)
            except SkuNotFound:  # off sale since it was added: drop the line
                continue
            existing = CartLine.objects.filter(
                cart=cart, sku_id=line.sku_id, recipient_msisdn=line.recipient_msisdn
            ).first()
            current = existing.quantity if existing else 0
            wanted = current + line.quantity
            while wanted > current:
                try:
                    _check_line(cart, sku, wanted, replacing=current)
                    break
                except (OutOfStock, PurchaseLimitExceeded, InvalidQuantity):
                    wanted -= 1
            if wanted <= current:
                continue
            if existing:
                existing.quantity = wanted
                existing.save(update_fields=["quantity"])
            else:
                CartLine.objects.create(
                    cart=cart,
                    sku_id=line.sku_id,
                    recipient_msisdn=line.recipient_msisdn,
                    quantity=wanted,
                )
            moved += 1
        guest.delete()
    return moved


def carts_purge_abandoned(*, limit: int = 5000) -> int:
    """Delete guest carts idle longer than a session lives (their owner can no longer reach
    them); returns how many went. Celery beat, hourly. Skips carts locked by a running add."""
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with transaction.atomic():
        ids = guest_carts_lock_idle(idle_before=cutoff, limit=limit)
        Cart.objects.filter(pk__in=ids).delete()
    return len(ids)
